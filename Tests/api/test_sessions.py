"""Sessions (docs/sessions.md): what signing in answers, signing out (and when it is refused), one
tab among several signing out, the event stream of a session that ends, and a restart keeping
every session."""
import glob
import time

import requests

from conftest import Server
from session_tools import (Desktop, Stream, agent_in_directory, connected_call, place_call, refusal, sign_in,
                           sign_out)


def now_ms():
    return int(time.time() * 1000)


def test_sign_in_answers_the_token_role_display_name_and_when_the_maximum_age_runs_out(server):
    before = now_ms()
    answer = sign_in(server, "supervisor1")
    after = now_ms()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {key: body[key] for key in ("agentId", "role", "displayName")} == {
        "agentId": "supervisor1", "role": "supervisor", "displayName": "Supervisor 1"}
    assert isinstance(body["token"], str) and body["token"]
    twelve_hours = 43_200_000  # the default --session-max-seconds
    assert before + twelve_hours - 1000 <= body["expiresAt"] <= after + twelve_hours + 1000, body


def test_sign_in_expiry_follows_session_max_seconds(start_server):
    server = start_server("--session-max-seconds", "600")
    before = now_ms()
    answer = sign_in(server, "agent1")
    after = now_ms()
    assert answer.status_code == 200, answer.text
    assert answer.json()["displayName"] == "Agent 1" and answer.json()["role"] == "agent"
    assert before + 600_000 - 1000 <= answer.json()["expiresAt"] <= after + 600_000 + 1000


def test_signing_out_without_a_call_leaves_the_center_and_ends_the_token(server):
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    agent.available()
    answer = sign_out(agent)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"signedOut": True, "leftCenter": True}
    assert agent_in_directory(supervisor, "agent1")["state"] == "loggedOut"
    refused = agent.call("GET", "/v1/me")
    assert refused.status_code == 401 and refusal(refused) == "signedOut"
    # The same token cannot sign out twice either.
    again = sign_out(agent)
    assert again.status_code == 401 and refusal(again) == "signedOut"


def test_signing_in_again_brings_an_agent_who_left_the_center_back_idle(server):
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    agent.available()
    assert sign_out(agent).json()["leftCenter"] is True
    back = Desktop(server, "agent1")
    me = back.call("GET", "/v1/me").json()
    assert me["state"] == "idle", me
    assert agent_in_directory(supervisor, "agent1")["state"] == "idle"
    back.available()  # and Available is theirs to choose
    assert agent_in_directory(supervisor, "agent1")["state"] == "available"


def test_signing_out_is_refused_while_the_agent_has_a_call_or_owes_a_wrap_up(server):
    agent = Desktop(server, "agent1")
    agent.available()
    task = place_call(agent)  # offered to agent1, the only one Available: reserved
    reserved = sign_out(agent)
    assert reserved.status_code == 409 and refusal(reserved) == "callInProgress", reserved.text
    agent.command(task, "accept")
    connected = sign_out(agent)
    assert connected.status_code == 409 and refusal(connected) == "callInProgress", connected.text
    assert agent.call("GET", "/v1/me").status_code == 200  # the session stays
    agent.command(task, "end")
    owed = sign_out(agent)
    assert owed.status_code == 409 and refusal(owed) == "wrapUpOwed", owed.text
    assert agent.call("GET", "/v1/me").status_code == 200
    agent.command(task, "wrapup", {"wrapUpCodeId": "resolved"})
    done = sign_out(agent)
    assert done.status_code == 200 and done.json() == {"signedOut": True, "leftCenter": True}, done.text


def test_signing_out_is_refused_while_the_agent_consults(server):
    agent1, agent2 = Desktop(server, "agent1"), Desktop(server, "agent2")
    task = connected_call(agent1)
    agent2.available()
    agent1.command(task, "consult", {"destinationType": "agent", "to": "agent2"})
    agent2.command(task, "consult/accept")
    for desktop in (agent1, agent2):
        answer = sign_out(desktop)
        assert answer.status_code == 409 and refusal(answer) == "callInProgress", (desktop.name, answer.text)


def test_one_tab_signing_out_leaves_the_agent_in_the_center_and_the_other_tab_signed_in(server):
    supervisor = Desktop(server, "supervisor1")
    first_tab, second_tab = Desktop(server, "agent1"), Desktop(server, "agent1")
    first_tab.available()
    answer = sign_out(first_tab)
    assert answer.status_code == 200 and answer.json() == {"signedOut": True, "leftCenter": False}, answer.text
    assert agent_in_directory(supervisor, "agent1")["state"] == "available"
    assert second_tab.call("GET", "/v1/me").json()["state"] == "available"
    assert refusal(first_tab.call("GET", "/v1/me")) == "signedOut"
    # The last tab signing out takes the agent out of the center.
    last = sign_out(second_tab)
    assert last.status_code == 200 and last.json() == {"signedOut": True, "leftCenter": True}, last.text
    assert agent_in_directory(supervisor, "agent1")["state"] == "loggedOut"


def test_the_stream_of_a_session_that_signs_out_is_told_and_closed(server):
    agent = Desktop(server, "agent1")
    stream = Stream(agent)
    try:
        assert sign_out(agent).status_code == 200
        ended = stream.next(lambda message: message["type"] == "sessionEnded")
        assert ended["reason"] == "signedOut" and "by" not in ended, ended
        assert stream.closed_by_server(), "the stream stayed open after its session ended"
    finally:
        stream.close()


def test_another_tabs_stream_stays_open_when_one_tab_signs_out(server):
    leaving, staying = Desktop(server, "agent1"), Desktop(server, "agent1")
    leaving_stream, staying_stream = Stream(leaving), Stream(staying)
    try:
        assert sign_out(leaving).status_code == 200
        assert leaving_stream.next(lambda message: message["type"] == "sessionEnded")["reason"] == "signedOut"
        # The other tab goes on receiving the agent's events, with nothing about an ending.
        staying.available()
        update = staying_stream.next(lambda message: message["type"] != "agent" or message["agent"]["state"] == "available")
        assert update["type"] == "agent", update
    finally:
        leaving_stream.close()
        staying_stream.close()


def test_a_restart_keeps_every_session_and_the_token_is_not_stored_in_plain_text(tmp_path):
    database = tmp_path / "switchboard.sqlite"
    first = Server(database)
    try:
        agent = Desktop(first, "agent1")
        agent.available()
        supervisor_token = Desktop(first, "supervisor1").token
    finally:
        first.stop()
    assert first.process.returncode == 0
    stored = b"".join(open(path, "rb").read() for path in glob.glob(f"{database}*"))  # with -wal and -shm
    assert agent.token.encode() not in stored and supervisor_token.encode() not in stored

    restarted = Server(database)
    try:
        agent.server = restarted
        me = agent.call("GET", "/v1/me")
        assert me.status_code == 200 and me.json()["state"] == "available", me.text
        stream = Stream(agent)  # the desktop reconnects with the token it has
        stream.close()
        supervisor = requests.get(f"{restarted.url}/v1/me", headers={"Authorization": f"Bearer {supervisor_token}"})
        assert supervisor.status_code == 200 and supervisor.json()["role"] == "supervisor", supervisor.text
    finally:
        restarted.stop()
