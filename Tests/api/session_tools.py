"""What the sessions tests share: signing in and out, the directory as a supervisor reads it, event
streams that tell when the server closed them, and waiting for a state with a deadline."""
import json
import time

import requests
import websocket

from conftest import Desktop


def sign_in(server, username, password="switchboard", session=requests):
    return session.post(f"{server.url}/v1/auth/login", json={"username": username, "password": password})


def sign_out(desktop):
    return desktop.call("POST", "/v1/auth/logout")


def refusal(answer):
    """The error code of a refusal (fails on an answer that is not one)."""
    assert answer.status_code >= 400, f"not refused: {answer.status_code} {answer.text}"
    return answer.json()["error"]["code"]


def agent_in_directory(reader, agent_id):
    """The agent as GET /v1/agents shows them to `reader`."""
    answer = reader.call("GET", "/v1/agents")
    assert answer.status_code == 200, answer.text
    return next(agent for agent in answer.json() if agent["id"] == agent_id)


def signed_in_users(supervisor):
    answer = supervisor.call("GET", "/v1/sessions")
    assert answer.status_code == 200, answer.text
    return {entry["user"]: entry for entry in answer.json()}


def audit(reader, agent_id, limit=None):
    path = f"/v1/agents/{agent_id}/audit" + (f"?limit={limit}" if limit is not None else "")
    answer = reader.call("GET", path)
    assert answer.status_code == 200, answer.text
    return answer.json()


def eventually(fetch, accept, what, timeout=20.0, interval=0.1):
    """Calls `fetch` until `accept` holds for what it returns (then returns that), or fails after
    `timeout` seconds showing the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not so after {timeout} s; last seen: {value!r}")
        time.sleep(interval)


def clock(supervisor):
    """A test-clock server's time (`serve --test-clock`): now, the desktop grace periods running
    and the event streams open, as the center sees them."""
    answer = supervisor.call("GET", "/v1/test/clock")
    assert answer.status_code == 200, answer.text
    return answer.json()


def advance(supervisor, milliseconds):
    """Moves a test-clock server's time on; what fell due has run when this returns."""
    answer = supervisor.call("POST", "/v1/test/clock", {"milliseconds": milliseconds})
    assert answer.status_code == 200, answer.text
    return answer.json()


def streams_of(supervisor, user):
    return clock(supervisor)["openStreams"].get(user, 0)


def place_call(desktop, queue="sales", number="+15550100"):
    answer = desktop.call("POST", "/v1/sim/calls", {"queueId": queue, "from": number})
    assert answer.status_code == 201, answer.text
    return answer.json()["taskId"]


def connected_call(agent):
    """`agent` (signed in, nobody else Available) made Available, offered a customer's call and
    on it; returns the task."""
    agent.available()
    task = place_call(agent)
    agent.command(task, "accept")
    return task


def finish(agent, task):
    """Ends the call and applies the wrap-up it leaves owed."""
    assert agent.command(task, "end")["wrapUpRequired"] is True
    agent.command(task, "wrapup", {"wrapUpCodeId": "resolved"})


class Stream:
    """One open event stream (a desktop's WebSocket), subscribed: `ready` has been received."""

    def __init__(self, desktop):
        url = desktop.server.url.replace("http://", "ws://") + f"/v1/notifications?token={desktop.token}"
        self.socket = websocket.create_connection(url, timeout=5)
        self.closed = False
        self.next(lambda message: message["type"] == "ready")

    def _receive(self, until):
        """The next message as a dict; None once the server has closed the stream; raises
        TimeoutError when nothing came by the monotonic time `until`."""
        while True:
            left = until - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.socket.settimeout(min(left, 1.0))
            try:
                text = self.socket.recv()  # answers the server's pings while it waits
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketConnectionClosedException, ConnectionError):
                self.closed = True
                return None
            if text == "":  # websocket-client's answer to a close frame
                self.closed = True
                return None
            return json.loads(text)

    def next(self, predicate, timeout=15.0):
        """The first message satisfying `predicate` (skipping others); fails if the stream closes
        or nothing matching comes within `timeout` seconds."""
        until = time.monotonic() + timeout
        seen = []
        while True:
            try:
                message = self._receive(until)
            except TimeoutError:
                raise AssertionError(f"no such message within {timeout} s; seen: {seen}") from None
            assert message is not None, f"the server closed the stream; seen: {seen}"
            if predicate(message):
                return message
            seen.append(message)

    def closed_by_server(self, timeout=10.0):
        """Whether the server closes the stream within `timeout` seconds; fails on any message
        that comes first."""
        until = time.monotonic() + timeout
        try:
            message = self._receive(until)
        except TimeoutError:
            return False
        assert message is None, f"a message after the stream should have ended: {message}"
        return True

    def keep_open_for(self, seconds):
        """Holds the stream open (reading, so pings are answered) for `seconds`; returns the
        messages that came, and fails if the server closed it."""
        until = time.monotonic() + seconds
        messages = []
        while True:
            try:
                message = self._receive(until)
            except TimeoutError:
                return messages
            assert message is not None, f"the server closed the stream; seen: {messages}"
            messages.append(message)

    def close(self):
        self.socket.close()


__all__ = ["Desktop", "Stream", "sign_in", "sign_out", "refusal", "agent_in_directory", "signed_in_users", "audit",
           "eventually", "clock", "advance", "streams_of", "place_call", "connected_call", "finish"]
