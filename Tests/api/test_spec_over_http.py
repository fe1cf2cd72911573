"""The spec's conference rows, and the API's error contract, through HTTP with signed-in agents."""
import requests


def call_controls(task):
    """The task's call controls, without the recording's (the demo's sales queue records: its
    owner may also pause the recording)."""
    return [action for action in task["allowedActions"] if not action.startswith("recording/")]


def conference(agent1, agent2, place_call):
    task = place_call()
    agent1.command(task, "accept")
    agent2.available()
    agent1.command(task, "consult", {"destinationType": "agent", "to": "agent2"})
    agent2.command(task, "consult/accept")
    snapshot = agent1.command(task, "consult/conference")
    assert snapshot["status"] == "conferenced"
    return task


def test_agent2_joins_the_conference_and_sees_only_exit(desktops):
    agent1, agent2, place_call = desktops
    task = conference(agent1, agent2, place_call)
    assert call_controls(agent1.task(task).json()) == ["conference/transfer", "conference/end"]
    assert agent2.task(task).json()["allowedActions"] == ["conference/exit"]
    # The recording is the owner's to pause, never Agent 2's.
    assert "recording/pause" in agent1.task(task).json()["allowedActions"]
    assert agent1.task(task).json()["customer"]["state"] == "connected"


def test_agent2_cannot_end_the_conference_403(desktops):
    agent1, agent2, place_call = desktops
    task = conference(agent1, agent2, place_call)
    error = agent2.command(task, "conference/end", expect=403)
    assert error["error"]["code"] == "notOwner"


def test_nobody_can_hold_the_customer_in_a_conference_409(desktops):
    agent1, agent2, place_call = desktops
    task = conference(agent1, agent2, place_call)
    assert agent1.command(task, "hold", expect=409)["error"]["code"] == "holdNotAllowedInConference"
    assert agent2.command(task, "hold", expect=409)["error"]["code"] == "holdNotAllowedInConference"


def test_end_conference_asks_agent1_and_never_agent2_for_a_wrap_up(desktops):
    agent1, agent2, place_call = desktops
    task = conference(agent1, agent2, place_call)
    ended = agent1.command(task, "conference/end")
    assert ended["wrapUpRequired"] is True and ended["allowedActions"] == ["wrapup"]
    assert agent2.task(task).status_code == 404  # Agent 2 is released: the task is gone from view
    assert agent2.command(task, "wrapup", {"wrapUpCodeId": "resolved"}, expect=404)["error"]["code"] == "notFound"
    agent1.command(task, "wrapup", {"wrapUpCodeId": "resolved", "notes": "done"})
    # A wrap-up sent again (without its Idempotency-Key) is not applied twice, and says why.
    assert agent1.command(task, "wrapup", {"wrapUpCodeId": "resolved"}, expect=409)["error"]["code"] == "alreadyWrappedUp"
    # The finished task's timeline stays readable by both agents who were on it.
    for agent in (agent1, agent2):
        history = agent.call("GET", f"/v1/tasks/{task}/history")
        assert history.status_code == 200 and history.json()[-1]["event"] == "wrapUpApplied"


def test_an_oversized_body_is_413_with_the_error_body(server):
    answer = requests.post(f"{server.url}/v1/auth/login", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payloadTooLarge"
    # Sent in chunks, with no length announced, it is refused the same way.
    chunks = (b" " * 65536 for _ in range(40))
    answer = requests.post(f"{server.url}/v1/auth/login", data=chunks, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payloadTooLarge"


def test_transfer_in_conference_hands_the_call_to_agent2(desktops):
    agent1, agent2, place_call = desktops
    task = conference(agent1, agent2, place_call)
    after = agent1.command(task, "conference/transfer")
    assert after["wrapUpRequired"] is True
    mine = agent2.task(task).json()
    assert mine["status"] == "connected"
    assert call_controls(mine) == ["hold", "consult", "transfer", "end"]


def test_customer_leaving_a_conference_enters_wrap_up_assist(desktops, server):
    agent1, agent2, place_call = desktops
    task = conference(agent1, agent2, place_call)
    assert agent1.call("POST", f"/v1/sim/calls/{task}/hangup").status_code == 200
    seen = agent1.task(task).json()
    assert seen["status"] == "wrapUpAssist" and seen["wrapUpRequired"] is True
    for name, body in [("hold", None), ("resume", None), ("consult", {"destinationType": "queue", "to": "support"})]:
        assert agent2.command(task, name, body, expect=409)["error"]["code"] == "notAllowedInWrapUpAssist"


def test_agent1_hanging_up_the_phone_ends_the_conference(desktops):
    agent1, agent2, place_call = desktops
    task = conference(agent1, agent2, place_call)
    assert agent1.call("POST", "/v1/sim/agents/agent1/hangup").status_code == 200
    seen = agent1.task(task).json()
    assert seen["status"] == "ended" and seen["wrapUpRequired"] is True


def test_the_api_refuses_bad_requests_with_typed_errors(desktops, server):
    agent1, agent2, place_call = desktops
    task = place_call()
    assert requests.get(f"{server.url}/v1/tasks").status_code == 401
    assert agent2.task(task).status_code == 404  # not on it
    bad = agent1.call("POST", f"/v1/tasks/{task}/consult", {"nonsense": True})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "badRequest"
    unknown = agent1.call("POST", f"/v1/tasks/{task}/teleport")
    assert unknown.status_code == 404
    wrong = requests.post(f"{server.url}/v1/auth/login", json={"username": "agent1", "password": "nope"})
    assert wrong.status_code == 401


def test_a_retried_command_with_the_same_idempotency_key_is_applied_once(desktops):
    agent1, agent2, place_call = desktops
    task = place_call()
    agent1.command(task, "accept")
    first = agent1.command(task, "hold", headers={"Idempotency-Key": "k1"})
    again = agent1.command(task, "hold", headers={"Idempotency-Key": "k1"})
    assert first == again and first["status"] == "held"
    assert agent1.command(task, "hold", expect=409)["error"]["code"] == "alreadyHeld"


def test_directory_lists_agents_queues_and_codes(desktops):
    agent1, agent2, place_call = desktops
    agents = agent1.call("GET", "/v1/agents").json()
    assert [a["id"] for a in agents] == ["agent1", "agent2", "agent3", "agent4"]
    assert {a["id"]: a["state"] for a in agents}["agent1"] == "available"
    assert [q["id"] for q in agent1.call("GET", "/v1/queues").json()] == ["sales", "support"]
    assert len(agent1.call("GET", "/v1/wrapup-codes").json()) >= 4
    assert len(agent1.call("GET", "/v1/idle-codes").json()) >= 3


def test_history_lists_the_task_events_in_order(desktops):
    agent1, agent2, place_call = desktops
    task = conference(agent1, agent2, place_call)
    events = [entry["event"] for entry in agent1.call("GET", f"/v1/tasks/{task}/history").json()]
    assert events == ["arrived", "offered", "accepted", "consultStarted", "consultAnswered", "conferenceStarted"]
