"""Conflicting commands sent at once by two agents always leave a consistent state."""
from concurrent.futures import ThreadPoolExecutor

ROUNDS = 60


def conference(desktops, place_call):
    """A conference owned by whichever agent routing offered the call to; returns (task, owner, other)."""
    task = place_call()
    owner = next(d for d in desktops if d.task(task).status_code == 200)
    other = next(d for d in desktops if d is not owner)
    owner.command(task, "accept")
    other.available()
    owner.command(task, "consult", {"destinationType": "agent", "to": other.name})
    other.command(task, "consult/accept")
    owner.command(task, "consult/conference")
    return task, owner, other


def test_transfer_against_exit_and_end_against_end(desktops):
    first, second, place_call = desktops
    second.available()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for round in range(ROUNDS):
            task, agent1, agent2 = conference((first, second), place_call)
            if round % 2 == 0:
                racing = [pool.submit(agent1.call, "POST", f"/v1/tasks/{task}/conference/transfer"),
                          pool.submit(agent2.call, "POST", f"/v1/tasks/{task}/conference/exit")]
            else:
                racing = [pool.submit(agent1.call, "POST", f"/v1/tasks/{task}/conference/end"),
                          pool.submit(agent1.call, "POST", f"/v1/tasks/{task}/conference/end")]
            codes = sorted(f.result().status_code for f in racing)
            assert codes[0] == 200 and codes[1] in (200, 404, 409), codes
            # Whatever won, the call is in one consistent state; finish it and free both agents.
            view = agent1.task(task).json()
            if view["status"] == "conferenced":
                raise AssertionError("both commands lost")
            for desktop in (agent1, agent2):
                mine = desktop.task(task)
                if mine.status_code != 200:
                    continue
                snapshot = mine.json()
                if "end" in snapshot["allowedActions"]:
                    snapshot = desktop.command(task, "end")
                if snapshot.get("wrapUpRequired"):
                    desktop.command(task, "wrapup", {"wrapUpCodeId": "resolved"})
            states = {a["id"]: a["state"] for a in agent1.call("GET", "/v1/agents").json()}
            assert states[agent1.name] == "available" and states[agent2.name] == "available", (round, states)
