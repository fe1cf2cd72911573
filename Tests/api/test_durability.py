"""Every answered command survives the server being killed; nothing is applied twice on restart."""
from conftest import Desktop, Server


def test_a_killed_server_restarts_with_every_acknowledged_command(server):
    agent1, agent2 = Desktop(server, "agent1"), Desktop(server, "agent2")
    agent1.available()

    def place_call():
        return agent1.call("POST", "/v1/sim/calls", {"queueId": "sales", "from": "+15550100"}).json()["taskId"]

    tasks = [place_call()]
    agent1.command(tasks[0], "accept")
    agent2.available()
    agent1.command(tasks[0], "consult", {"destinationType": "agent", "to": "agent2"})
    agent2.command(tasks[0], "consult/accept")
    tasks += [place_call(), place_call()]  # both agents are busy: these wait in the queue
    before = agent1.command(tasks[0], "consult/conference")
    server.kill()

    restarted = Server(server.database)
    try:
        agent1, agent2 = Desktop(restarted, "agent1"), Desktop(restarted, "agent2")
        after = agent1.task(tasks[0]).json()
        assert after == before  # same status, participants and version: nothing lost, nothing twice
        assert agent2.task(tasks[0]).json()["allowedActions"] == ["conference/exit"]
        queues = {q["id"]: q["waiting"] for q in agent1.call("GET", "/v1/queues").json()}
        assert queues["sales"] == 2
        # The restarted center goes on from where it was.
        agent1.command(tasks[0], "conference/end")
        agent1.command(tasks[0], "wrapup", {"wrapUpCodeId": "resolved"})
        assert agent1.call("GET", "/v1/me").json()["state"] == "reserved"  # the next waiting call rings
    finally:
        restarted.stop()
