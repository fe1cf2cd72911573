"""What supervisors do to sessions (docs/sessions.md, Supervisors and Audit trail): who is signed
in, signing an agent out, setting an agent idle, the agent's audit; agents are refused these."""
from session_tools import (Desktop, Stream, agent_in_directory, audit, connected_call, refusal, sign_out,
                           signed_in_users)

SUPERVISOR_NAME = "Supervisor 1"  # supervisor1's displayName in the demo configuration


def sign_agent_out(supervisor, agent_id):
    return supervisor.call("POST", f"/v1/agents/{agent_id}/logout")


def set_idle(supervisor, agent_id, code):
    return supervisor.call("PUT", f"/v1/agents/{agent_id}/state", {"state": "idle", "idleCodeId": code})


def test_sessions_lists_each_signed_in_user_with_their_sessions_and_open_desktops(server):
    supervisor = Desktop(server, "supervisor1")
    first_tab, second_tab, other = Desktop(server, "agent1"), Desktop(server, "agent1"), Desktop(server, "agent2")
    stream = Stream(first_tab)
    try:
        users = signed_in_users(supervisor)
        assert set(users) == {"supervisor1", "agent1", "agent2"}, users
        assert {key: users["agent1"][key] for key in ("role", "displayName", "sessions", "desktops")} == {
            "role": "agent", "displayName": "Agent 1", "sessions": 2, "desktops": 1}
        assert (users["agent2"]["sessions"], users["agent2"]["desktops"]) == (1, 0)
        assert (users["supervisor1"]["role"], users["supervisor1"]["sessions"]) == ("supervisor", 1)
        for entry in users.values():
            assert isinstance(entry["signedInAt"], int) and isinstance(entry["lastSeenAt"], int), entry
            assert entry["lastSeenAt"] >= entry["signedInAt"], entry
        assert sign_out(other).status_code == 200
        assert "agent2" not in signed_in_users(supervisor)
    finally:
        stream.close()


def test_a_supervisor_signing_an_agent_out_ends_all_their_sessions_and_tells_their_desktop(server):
    supervisor = Desktop(server, "supervisor1")
    first_tab, second_tab = Desktop(server, "agent1"), Desktop(server, "agent1")
    stream = Stream(first_tab)
    try:
        first_tab.available()
        answer = sign_agent_out(supervisor, "agent1")
        assert answer.status_code == 200, answer.text
        ended = stream.next(lambda message: message["type"] == "sessionEnded")
        assert (ended["reason"], ended.get("by")) == ("signedOutBySupervisor", SUPERVISOR_NAME), ended
        assert stream.closed_by_server(), "the stream stayed open after its session ended"
    finally:
        stream.close()
    for tab in (first_tab, second_tab):
        refused = tab.call("GET", "/v1/me")
        assert refused.status_code == 401 and refusal(refused) == "signedOutBySupervisor", refused.text
        assert SUPERVISOR_NAME in refused.json()["error"]["message"], refused.text
    assert agent_in_directory(supervisor, "agent1")["state"] == "loggedOut"
    assert "agent1" not in signed_in_users(supervisor)


def test_a_supervisor_cannot_sign_out_an_agent_with_a_call_or_a_wrap_up_owed(server):
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    task = connected_call(agent)
    on_call = sign_agent_out(supervisor, "agent1")
    assert on_call.status_code == 409 and refusal(on_call) == "callInProgress", on_call.text
    agent.command(task, "end")
    owed = sign_agent_out(supervisor, "agent1")
    assert owed.status_code == 409 and refusal(owed) == "wrapUpOwed", owed.text
    assert agent.call("GET", "/v1/me").status_code == 200  # the agent's session stays
    agent.command(task, "wrapup", {"wrapUpCodeId": "resolved"})
    assert sign_agent_out(supervisor, "agent1").status_code == 200


def test_a_supervisor_signing_out_an_unknown_agent_gets_404(server):
    supervisor = Desktop(server, "supervisor1")
    answer = sign_agent_out(supervisor, "nobody")
    assert answer.status_code == 404 and refusal(answer) == "unknownAgent", answer.text


def test_a_supervisor_setting_an_agent_idle_makes_them_idle_and_tells_their_desktop(server):
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    stream = Stream(agent)
    try:
        agent.available()
        answer = set_idle(supervisor, "agent1", "break")
        assert answer.status_code == 200, answer.text
        notice = stream.next(lambda message: message["type"] == "notice")
        assert {key: notice.get(key) for key in ("notice", "by", "idleCodeId")} == {
            "notice": "setIdleBySupervisor", "by": SUPERVISOR_NAME, "idleCodeId": "break"}, notice
    finally:
        stream.close()
    seen = agent_in_directory(supervisor, "agent1")
    assert (seen["state"], seen.get("idleCodeId")) == ("idle", "break"), seen


def test_a_supervisor_setting_an_agent_on_a_call_idle_takes_effect_after_the_call(server):
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    task = connected_call(agent)
    assert set_idle(supervisor, "agent1", "lunch").status_code == 200
    during = agent_in_directory(supervisor, "agent1")
    assert (during["state"], during.get("pendingIdleCodeId")) == ("engaged", "lunch"), during
    assert agent.task(task).json()["status"] == "connected"
    agent.command(task, "end")
    agent.command(task, "wrapup", {"wrapUpCodeId": "resolved"})
    after = agent_in_directory(supervisor, "agent1")
    assert (after["state"], after.get("idleCodeId")) == ("idle", "lunch"), after


def test_an_agent_calling_a_supervisors_route_gets_403_not_a_supervisor(server):
    agent1 = Desktop(server, "agent1")
    Desktop(server, "agent2")
    for method, path, body in [
        ("GET", "/v1/sessions", None),
        ("POST", "/v1/agents/agent2/logout", None),
        ("PUT", "/v1/agents/agent2/state", {"state": "idle", "idleCodeId": "break"}),
        ("GET", "/v1/agents/agent2/audit", None),
    ]:
        answer = agent1.call(method, path, body)
        assert answer.status_code == 403 and refusal(answer) == "notASupervisor", (method, path, answer.text)
    assert agent1.call("GET", "/v1/agents/agent1/audit").status_code == 200  # their own is theirs to read


def test_the_audit_lists_sign_ins_supervisor_actions_and_sign_outs_newest_first(server):
    supervisor = Desktop(server, "supervisor1")
    first = Desktop(server, "agent1")
    first.available()
    assert set_idle(supervisor, "agent1", "break").status_code == 200
    assert sign_agent_out(supervisor, "agent1").status_code == 200
    second = Desktop(server, "agent1")
    own = audit(second, "agent1")  # an agent reads their own
    assert [entry["action"] for entry in own] == ["signedIn", "signedOutBySupervisor", "setIdleBySupervisor",
                                                  "signedIn"], own
    assert sign_out(second).status_code == 200

    entries = audit(supervisor, "agent1")
    assert [entry["action"] for entry in entries] == ["signedOut", "signedIn", "signedOutBySupervisor",
                                                      "setIdleBySupervisor", "signedIn"], entries
    times = [entry["at"] for entry in entries]
    assert times == sorted(times, reverse=True), times
    for entry in entries:
        if entry["action"] in ("signedOutBySupervisor", "setIdleBySupervisor"):
            assert (entry.get("by"), entry.get("byName")) == ("supervisor1", SUPERVISOR_NAME), entry
    assert [entry["action"] for entry in audit(supervisor, "agent1", limit=2)] == ["signedOut", "signedIn"]
