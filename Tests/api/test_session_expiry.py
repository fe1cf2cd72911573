"""Sessions running out (docs/sessions.md, Expiry): unused for --session-idle-seconds, or older than
--session-max-seconds; any request or an open event stream counts as use. The servers here use
lifetimes of seconds, and each test polls (with a deadline) for the moment the server has acted."""
import time

from session_tools import (Desktop, Stream, agent_in_directory, audit, connected_call, eventually, refusal,
                           signed_in_users)


def sessions_of(supervisor, user):
    return signed_in_users(supervisor).get(user, {}).get("sessions", 0)


def test_a_token_unused_for_the_idle_time_expires_while_one_in_use_does_not(start_server):
    server = start_server("--session-idle-seconds", "2")
    supervisor = Desktop(server, "supervisor1")  # polled below, so in use throughout
    used, unused = Desktop(server, "agent1"), Desktop(server, "agent1")
    last_use_of_unused = time.monotonic()
    assert sessions_of(supervisor, "agent1") == 2

    def agent1_sessions():
        assert used.call("GET", "/v1/me").status_code == 200  # every request counts as use
        return sessions_of(supervisor, "agent1")

    eventually(agent1_sessions, lambda count: count == 1, "agent1's unused session ends")
    assert time.monotonic() - last_use_of_unused >= 1.9, "ended before the idle time was over"
    refused = unused.call("GET", "/v1/me")
    assert refused.status_code == 401 and refusal(refused) == "sessionExpired", refused.text
    assert used.call("GET", "/v1/me").status_code == 200


def test_an_agents_last_session_expiring_takes_them_out_of_the_center_unless_on_a_call(start_server):
    server = start_server("--session-idle-seconds", "2")
    supervisor = Desktop(server, "supervisor1")
    on_call = Desktop(server, "agent2")
    task = connected_call(on_call)
    waiting = Desktop(server, "agent1")
    waiting.available()
    eventually(lambda: signed_in_users(supervisor), lambda users: "agent1" not in users and "agent2" not in users,
               "both agents' sessions end")
    eventually(lambda: agent_in_directory(supervisor, "agent1"), lambda agent: agent["state"] == "loggedOut",
               "agent1 (Available) leaves the center")
    caller = agent_in_directory(supervisor, "agent2")
    assert caller["state"] == "engaged", caller  # an agent on a call stays on it
    for desktop in (waiting, on_call):
        refused = desktop.call("GET", "/v1/me")
        assert refused.status_code == 401 and refusal(refused) == "sessionExpired", refused.text
    assert audit(supervisor, "agent1")[0]["action"] == "sessionExpired"
    # The call goes on: signing in again finds it.
    back = Desktop(server, "agent2")
    assert back.task(task).json()["status"] == "connected"


def test_a_token_in_use_expires_at_the_maximum_age(start_server):
    server = start_server("--session-max-seconds", "3")
    signed_in_at = time.monotonic()
    agent = Desktop(server, "agent1")
    refused = eventually(lambda: agent.call("GET", "/v1/me"), lambda answer: answer.status_code != 200,
                         "a session older than the maximum age is refused")
    assert time.monotonic() - signed_in_at >= 2.9, "refused before the maximum age"
    assert refused.status_code == 401 and refusal(refused) == "sessionExpired", refused.text


def test_the_stream_of_a_session_that_expires_is_told_and_closed(start_server):
    server = start_server("--session-max-seconds", "3")
    agent = Desktop(server, "agent1")
    stream = Stream(agent)
    try:
        ended = stream.next(lambda message: message["type"] == "sessionEnded", timeout=20)
        assert ended["reason"] == "sessionExpired", ended
        assert stream.closed_by_server(), "the stream stayed open after its session expired"
    finally:
        stream.close()


def test_an_open_event_stream_keeps_its_session_from_idling_out(start_server):
    server = start_server("--session-idle-seconds", "2")
    agent = Desktop(server, "agent1")
    stream = Stream(agent)
    try:
        stream.keep_open_for(4.5)  # more than twice the idle time, with no request
        me = agent.call("GET", "/v1/me")
        assert me.status_code == 200, me.text
    finally:
        stream.close()
