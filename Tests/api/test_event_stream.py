"""The WebSocket event stream: numbered by the log, every tab gets everything, a reconnect with
?since= loses nothing, and a command's answer and its event carry the same version."""
import json

import websocket

from test_spec_over_http import conference


def connect(desktop, since=None):
    """An open stream. Without `since`, returned once `ready` has come: the server subscribes after
    the upgrade, so a command sent before `ready` could change things before the stream sees them.
    With `since`, the caller reads the missed messages and `ready` itself."""
    url = desktop.server.url.replace("http://", "ws://") + f"/v1/notifications?token={desktop.token}"
    if since is not None:
        url += f"&since={since}"
    socket = websocket.create_connection(url, timeout=5)
    if since is None:
        receive_until(socket, lambda message: message["type"] == "ready")
    return socket


def receive_until(socket, predicate):
    """Messages up to and including the first that satisfies `predicate` (bounded by the timeout)."""
    seen = []
    while True:
        message = json.loads(socket.recv())
        seen.append(message)
        if predicate(message):
            return seen


def test_two_tabs_get_every_event_and_answers_match_events(desktops):
    agent1, agent2, place_call = desktops
    tab1, tab2, agent1_stream = connect(agent2), connect(agent2), connect(agent1)
    try:
        task = conference(agent1, agent2, place_call)
        answer = agent1.command(task, "conference/end")
        for tab in (tab1, tab2):
            messages = receive_until(tab, lambda m: m["type"] == "taskRemoved")
            # Numbered by the log: never down; one command's messages share its last event's number.
            assert [m["seq"] for m in messages] == sorted(m["seq"] for m in messages)
            assert "conferenced" in [m["task"]["status"] for m in messages if m["type"] == "task"]
            assert messages[-1]["version"] == answer["version"]  # a removal is ordered like any change
        mine = receive_until(agent1_stream, lambda m: m["type"] == "task" and m["task"]["status"] == "ended")
        assert mine[-1]["task"]["version"] == answer["version"]
        assert mine[-1]["task"]["allowedActions"] == ["wrapup"]
    finally:
        for socket in (tab1, tab2, agent1_stream):
            socket.close()


def test_a_desktop_that_reconnects_gets_what_it_missed(desktops):
    agent1, agent2, place_call = desktops
    stream = connect(agent1)
    task = place_call()
    first = receive_until(stream, lambda m: m["type"] == "task")[-1]
    stream.close()
    agent1.command(task, "accept")  # happens while the desktop is away
    agent1.command(task, "hold")
    again = connect(agent1, since=first["seq"])
    try:
        missed = receive_until(again, lambda m: m["type"] == "ready")
        # The replay is the latest word on each task and agent that changed while away, in order:
        # the task as it is now (held), not every step it went through.
        assert [m["task"]["status"] for m in missed if m["type"] == "task"] == ["held"]
        assert all(m["seq"] >= first["seq"] for m in missed)  # from its number on (a command's share one)
        assert [m["seq"] for m in missed] == sorted(m["seq"] for m in missed)
        assert missed[-1]["seq"] >= max(m["seq"] for m in missed[:-1])  # ready: where the log is; nothing before it is missing
    finally:
        again.close()


def test_the_stream_needs_a_valid_token(server):
    try:
        websocket.create_connection(server.url.replace("http://", "ws://") + "/v1/notifications?token=wrong", timeout=5)
        assert False, "upgraded without a valid token"
    except websocket.WebSocketBadStatusException as refused:
        assert refused.status_code in (400, 401, 403, 404)
