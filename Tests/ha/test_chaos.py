"""Chaos, bounded and seeded (docs/ha.md): clients send random commands through HAProxy while the
active node is SIGKILLed and restarted, round after round. Afterwards: no acknowledged command was
lost (every task is at least at the version its last 200 said), the log has no gap and no
duplicate, agents and tasks agree, and the node that takes over last — from the log alone — shows
exactly what the node before it showed."""
import random
import signal
import subprocess
import threading
import time
import urllib.parse

import requests

from conftest import free_port, settled, until

AGENTS = ["agent1", "agent2", "agent3", "agent4"]


class Client:
    """A user through the front: commands retried while no node serves (502–504, connection lost)."""

    def __init__(self, front, name):
        self.front, self.name = front, name
        answer = until(lambda: (r := requests.post(f"{front}/v1/auth/login", json={"username": name, "password": "switchboard"},
                                                   timeout=3)).status_code == 200 and r, f"{name} signs in")
        self.headers = {"Authorization": f"Bearer {answer.json()['token']}"}
        self.waited = 0  # answers that said "no node" (502–504, connection lost), retried


    def send(self, method, path, body=None, deadline=20):
        """The first answer that is not "no node": (status, json)."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                answer = requests.request(method, f"{self.front}{path}", json=body, headers=self.headers, timeout=3)
            except requests.RequestException:
                self.waited += 1
                time.sleep(0.1)
                continue
            # 503: a standby, a fenced node, or no node up (the front); 502/504: the front's node
            # went away mid-request (killed, or restarting itself). Not acknowledged: sent again.
            if answer.status_code in (502, 503, 504):
                self.waited += 1
                time.sleep(0.1)
                continue
            return answer.status_code, (answer.json() if answer.content else None)
        raise AssertionError(f"{self.name} {method} {path}: no node answered in {deadline} s")


def views(supervisor):
    """Every agent's state, and every live task's status, version and who is on it how."""
    agents = supervisor.send("GET", "/v1/agents")[1]
    tasks = supervisor.send("GET", "/v1/tasks")[1]
    return ({agent["id"]: agent["state"] for agent in agents},
            {task["id"]: (task["status"], task["version"],
                          tuple(sorted((p.get("agentId"), p["state"], p["wrapUpRequired"]) for p in task["participants"])))
             for task in tasks})


def test_random_commands_while_the_active_node_is_killed_round_after_round_lose_nothing(pair, front):
    rng = random.Random(2026)
    ports = free_port(), free_port()
    # The center's clock stands still (--test-clock): no ring-no-answer or wrap-up timer moves the
    # state between two looks; the lease runs on real time as always.
    clock = ("--test-clock",)
    nodes = {"a": pair("a", port=ports[0], extra=clock)}
    nodes["a"].running()  # a first: it holds the lease before b starts
    nodes["b"] = pair("b", port=ports[1], extra=clock)
    nodes["b"].standing_by()
    proxy = front(ports)
    settled(proxy)
    supervisor = Client(proxy.url, "supervisor1")
    agents = {name: Client(proxy.url, name) for name in AGENTS}
    acknowledged = {}  # task → the highest version a 200 answered with
    active = "a"

    for round_ in range(4):
        random_commands(rng, agents, supervisor, acknowledged, 30)
        # The active node dies; it comes back as the standby of the other.
        before = views(supervisor)
        nodes[active].process.send_signal(signal.SIGKILL)
        nodes[active].process.wait(timeout=10)
        standby = "b" if active == "a" else "a"
        nodes[standby].running()
        nodes[active] = pair(active, port=ports[0 if active == "a" else 1], extra=clock)
        nodes[active].standing_by()
        active = standby
        after = views(supervisor)
        # The node that took over, from the log alone, shows what the dead one showed.
        assert after == before, (round_, before, after)
        nothing_acknowledged_lost(acknowledged, after[1])

    agents_and_tasks_agree(supervisor)
    assert log_numbers(pair.database) > 50


def random_commands(rng, agents, supervisor, acknowledged, count):
    """`count` random commands: calls placed, states changed, any allowed control on any task;
    each task's highest version a 200 answered with kept in `acknowledged`."""
    for _ in range(count):
        name = rng.choice(AGENTS)
        agent = agents[name]
        choice = rng.random()
        if choice < 0.2:
            supervisor.send("POST", "/v1/sim/calls", {"queueId": rng.choice(["sales", "support"]), "from": "+15550100"})
        elif choice < 0.35:
            agent.send("PUT", "/v1/me/state", rng.choice([{"state": "available"}, {"state": "idle", "idleCodeId": "break"}]))
        else:
            status, tasks = agent.send("GET", "/v1/tasks")
            if status != 200 or not tasks:
                continue
            task = rng.choice(tasks)
            if not task["allowedActions"]:
                continue
            action = rng.choice(task["allowedActions"])
            body = {"wrapUpCodeId": "resolved"} if action == "wrapup" else None
            if action in ("consult", "transfer"):
                body = {"destinationType": "queue", "to": "support"}
            status, answer = agent.send("POST", f"/v1/tasks/{task['id']}/{action}", body)
            if status == 200 and answer:
                acknowledged[task["id"]] = max(acknowledged.get(task["id"], 0), answer["version"])


def nothing_acknowledged_lost(acknowledged, tasks):
    for task, version in acknowledged.items():
        if task in tasks:
            assert tasks[task][1] >= version, (task, version, tasks[task])


def agents_and_tasks_agree(supervisor):
    """An agent ringing, on a call or in wrap-up is so on exactly one task; any other on none."""
    agent_view, task_view = views(supervisor)
    for agent, state in agent_view.items():
        places = [(task, p_state, owes) for task, (_, _, people) in task_view.items()
                  for (who, p_state, owes) in people if who == agent and (p_state != "left" or owes)]
        if state == "reserved":
            assert [p for _, p, _ in places] == ["ringing"], (agent, state, places)
        elif state == "engaged":
            assert len(places) == 1 and places[0][1] in ("connected", "held"), (agent, state, places)
        elif state == "wrapUp":
            assert len(places) == 1 and places[0][1] == "left" and places[0][2], (agent, state, places)
        else:
            assert not places, (agent, state, places)


def log_numbers(database):
    """How many events the log holds, after checking they are numbered without a gap or a duplicate."""
    parts = urllib.parse.urlsplit(database)
    count, first, last, distinct = subprocess.run(
        ["psql", "-h", parts.hostname, "-p", str(parts.port), "-U", parts.username, "-d", parts.path[1:], "-Atc",
         "SELECT count(*), min(seq), max(seq), count(DISTINCT seq) FROM events"],
        capture_output=True, text=True, check=True).stdout.strip().split("|")
    assert int(count) == int(last) - int(first) + 1 == int(distinct), (count, first, last, distinct)
    return int(count)


def test_random_commands_while_the_database_primary_dies_and_then_the_active_node_lose_nothing(pair, postgres_pair, front):
    """The same clients while PostgreSQL's primary is killed mid-run and its standby promoted a
    moment later (commands meanwhile: 503, retried), then the active node killed too."""
    rng = random.Random(2027)
    ports = free_port(), free_port()
    clock = ("--test-clock",)
    a = pair("a", database=postgres_pair.url, port=ports[0], extra=clock)
    a.running()
    b = pair("b", database=postgres_pair.url, port=ports[1], extra=clock)
    b.standing_by()
    proxy = front(ports)
    settled(proxy)
    supervisor = Client(proxy.url, "supervisor1")
    agents = {name: Client(proxy.url, name) for name in AGENTS}
    acknowledged = {}

    random_commands(rng, agents, supervisor, acknowledged, 20)
    before_database = views(supervisor)
    postgres_pair.kill_primary()
    promotion = threading.Timer(1.5, postgres_pair.promote)
    promotion.start()
    try:
        # These wait out the gap (503, or the node restarting, retried) and land after the promotion.
        random_commands(rng, agents, supervisor, acknowledged, 20)
    finally:
        promotion.join()
    assert sum(client.waited for client in [supervisor, *agents.values()]) > 0, "no command met the database's gap"
    after_database = views(supervisor)
    nothing_acknowledged_lost(acknowledged, after_database[1])
    for task, (status, version, _) in before_database[1].items():
        if task in after_database[1]:
            assert after_database[1][task][1] >= version, (task, version, after_database[1][task])

    # Then the active node (whichever holds the lease now) dies: the other takes over from the log.
    holder = a if a.health()[0] == 200 else b
    other = b if holder is a else a
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait(timeout=10)
    other.running()
    assert views(supervisor) == after_database
    agents_and_tasks_agree(supervisor)
    assert log_numbers(postgres_pair.url) > 20
