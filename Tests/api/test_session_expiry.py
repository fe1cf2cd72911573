"""Sessions running out (docs/sessions.md, Expiry): unused for --session-idle-seconds, or older than
--session-max-seconds; any request or an open event stream counts as use. The servers here run on a
test clock (`--test-clock`): time moves only when a supervisor advances it, and sessions that ran
out have ended when the advance answers. Every sign-in happens at the same moment, so each test
moves time in steps shorter than the idle time (each advance is a use of the supervisor's session)."""
from session_tools import (Desktop, Stream, advance, agent_in_directory, audit, connected_call, eventually, refusal,
                           signed_in_users)


def sessions_of(supervisor, user):
    return signed_in_users(supervisor).get(user, {}).get("sessions", 0)


def test_a_token_unused_for_the_idle_time_expires_while_one_in_use_does_not(start_server):
    server = start_server("--test-clock", "--session-idle-seconds", "2")
    supervisor = Desktop(server, "supervisor1")
    used, unused = Desktop(server, "agent1"), Desktop(server, "agent1")
    assert sessions_of(supervisor, "agent1") == 2
    advance(supervisor, 1_000)
    assert used.call("GET", "/v1/me").status_code == 200  # every request counts as use
    advance(supervisor, 999)
    assert sessions_of(supervisor, "agent1") == 2  # the unused one: 1 ms left
    advance(supervisor, 1)
    assert sessions_of(supervisor, "agent1") == 1
    refused = unused.call("GET", "/v1/me")
    assert refused.status_code == 401 and refusal(refused) == "sessionExpired", refused.text
    assert used.call("GET", "/v1/me").status_code == 200


def test_an_agents_last_session_expiring_takes_them_out_of_the_center_unless_on_a_call(start_server):
    server = start_server("--test-clock", "--session-idle-seconds", "2")
    supervisor = Desktop(server, "supervisor1")
    on_call = Desktop(server, "agent2")
    task = connected_call(on_call)
    waiting = Desktop(server, "agent1")
    waiting.available()
    advance(supervisor, 1_999)
    users = signed_in_users(supervisor)
    assert "agent1" in users and "agent2" in users
    advance(supervisor, 1)
    users = signed_in_users(supervisor)
    assert "agent1" not in users and "agent2" not in users, users
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
    server = start_server("--test-clock", "--session-max-seconds", "3")
    agent = Desktop(server, "agent1")
    supervisor = Desktop(server, "supervisor1")  # signed in at the same moment: it ages alike
    for _ in range(2):
        advance(supervisor, 1_000)
        assert agent.call("GET", "/v1/me").status_code == 200
    advance(supervisor, 999)
    assert agent.call("GET", "/v1/me").status_code == 200  # 1 ms before the maximum age
    advance(supervisor, 1)
    refused = agent.call("GET", "/v1/me")
    assert refused.status_code == 401 and refusal(refused) == "sessionExpired", refused.text


def test_the_stream_of_a_session_that_expires_is_told_and_closed(start_server):
    server = start_server("--test-clock", "--session-max-seconds", "3")
    agent = Desktop(server, "agent1")
    supervisor = Desktop(server, "supervisor1")
    stream = Stream(agent)
    try:
        advance(supervisor, 2_999)
        advance(supervisor, 1)
        ended = stream.next(lambda message: message["type"] == "sessionEnded")
        assert ended["reason"] == "sessionExpired", ended
        assert stream.closed_by_server(), "the stream stayed open after its session expired"
    finally:
        stream.close()


def test_an_open_event_stream_keeps_its_session_from_idling_out(start_server):
    server = start_server("--test-clock", "--session-idle-seconds", "2")
    supervisor = Desktop(server, "supervisor1")
    agent, idle = Desktop(server, "agent1"), Desktop(server, "agent2")
    stream = Stream(agent)
    try:
        for _ in range(3):  # 4.5 s: more than twice the idle time, with no request from agent1
            advance(supervisor, 1_500)
        assert refusal(idle.call("GET", "/v1/me")) == "sessionExpired"  # the same time, no stream
        me = agent.call("GET", "/v1/me")
        assert me.status_code == 200, me.text
    finally:
        stream.close()
