"""An active/passive pair on PostgreSQL (docs/ha.md): one node holds the lease and serves, the
other stands by and says so; killing the active node hands the center — calls, agents, sessions —
to the standby within the lease; a paused active node is fenced and comes back as the standby."""
import json
import signal
import socket
import time

import requests


class User:
    """A signed-in user; `url` is whichever node (or front) it talks to now."""

    def __init__(self, url, name):
        self.url, self.name = url, name
        answer = requests.post(f"{url}/v1/auth/login", json={"username": name, "password": "switchboard"}, timeout=5)
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["token"]

    def call(self, method, path, body=None):
        return requests.request(method, f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {self.token}"}, timeout=5)

    def ok(self, method, path, body=None):
        answer = self.call(method, path, body)
        assert answer.status_code in (200, 201), f"{self.name} {method} {path}: {answer.status_code} {answer.text}"
        return answer.json()


def test_the_second_node_stands_by_says_so_and_takes_no_command(pair):
    a = pair("a")
    a.running()
    assert a.health() == (200, {"status": "ok", "role": "active", "simulator": True})
    b = pair("b")
    b.standing_by()
    status, body = b.health()
    assert (status, body["role"]) == (503, "standby")
    # Nothing is taken here: a command is refused whole, with when to try again.
    refused = requests.post(f"{b.url}/v1/auth/login", json={"username": "agent1", "password": "switchboard"}, timeout=5)
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "standby", refused.text
    assert int(refused.headers["Retry-After"]) >= 1


def test_killing_the_active_node_mid_conference_hands_the_center_to_the_standby(pair):
    a = pair("a")
    a.running()
    b = pair("b")
    b.standing_by()
    agent1, agent2, supervisor = User(a.url, "agent1"), User(a.url, "agent2"), User(a.url, "supervisor1")
    agent1.ok("PUT", "/v1/me/state", {"state": "available"})
    task = supervisor.ok("POST", "/v1/sim/calls", {"queueId": "support", "from": "+15550100"})["taskId"]
    agent1.ok("POST", f"/v1/tasks/{task}/accept")
    agent2.ok("PUT", "/v1/me/state", {"state": "available"})
    agent1.ok("POST", f"/v1/tasks/{task}/consult", {"destinationType": "agent", "to": "agent2"})
    agent2.ok("POST", f"/v1/tasks/{task}/consult/accept")
    before = agent1.ok("POST", f"/v1/tasks/{task}/consult/conference")
    assert before["status"] == "conferenced"

    a.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    b.wait_for(r"holds the lease \(epoch 2\)", timeout=15)
    b.running()
    taken = time.monotonic() - killed
    assert taken < 1.5 + 3, f"the standby took {taken:.1f} s to take over (lease 1.5 s)"

    # The same sessions, the same conference, the same agents, on the new node.
    for user in (agent1, agent2, supervisor):
        user.url = b.url
    after = agent1.ok("GET", f"/v1/tasks/{task}")
    assert (after["status"], after["version"]) == (before["status"], before["version"]), after
    agents = {agent["id"]: agent["state"] for agent in agent1.ok("GET", "/v1/agents")}
    assert agents["agent1"] == "engaged" and agents["agent2"] == "engaged", agents
    # The conference goes on from there: agent1 ends it and wraps up; a new call is taken here.
    agent1.ok("POST", f"/v1/tasks/{task}/conference/end")
    agent1.ok("POST", f"/v1/tasks/{task}/wrapup", {"wrapUpCodeId": "resolved"})
    new = supervisor.ok("POST", "/v1/sim/calls", {"queueId": "support", "from": "+15550101"})["taskId"]
    ringing = supervisor.ok("GET", f"/v1/tasks/{new}")["participants"][0]["agentId"]
    {"agent1": agent1, "agent2": agent2}[ringing].ok("POST", f"/v1/tasks/{new}/accept")
    assert b.health() == (200, {"status": "ok", "role": "active", "simulator": True})


def test_a_paused_active_node_is_fenced_and_comes_back_as_the_standby(pair):
    a = pair("a")
    a.running()
    b = pair("b")
    b.standing_by()
    agent1 = User(a.url, "agent1")
    agent1.ok("PUT", "/v1/me/state", {"state": "available"})

    a.process.send_signal(signal.SIGSTOP)
    b.wait_for(r"holds the lease \(epoch 2\)", timeout=15)
    b.running()
    agent1.url = b.url
    agent1.ok("PUT", "/v1/me/state", {"state": "idle", "idleCodeId": "lunch"})

    # A command sent to A while it is paused waits in its socket (written there before A wakes);
    # A wakes up believing it is active and takes it: the database refuses the write (fenced), so
    # A answers 503 — or A has already exec'd itself and drops the connection. Never a 200.
    host, port = a.url.rsplit("/", 1)[-1].split(":")
    body = json.dumps({"state": "idle", "idleCodeId": "break"})  # A believes agent1 available: a write
    raw = socket.create_connection((host, int(port)), timeout=15)
    raw.sendall((f"PUT /v1/me/state HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {agent1.token}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode())
    a.process.send_signal(signal.SIGCONT)
    try:
        answer = raw.recv(4096).decode(errors="replace")
    except ConnectionError:
        answer = ""
    raw.close()
    assert answer == "" or answer.startswith("HTTP/1.1 503"), answer
    # A notices the lease is gone and execs itself as the standby.
    a.wait_for(r"lost the lease", timeout=15)
    a.standing_by()
    status, body = a.health()
    assert (status, body["role"]) == (503, "standby")
    # B's view was never touched by A: agent1 is still at lunch, and B still serves.
    agents = {agent["id"]: agent for agent in agent1.ok("GET", "/v1/agents")}
    assert agents["agent1"]["state"] == "idle" and agents["agent1"]["idleCodeId"] == "lunch", agents["agent1"]
    assert b.health()[0] == 200
    # Nor was the log: B goes, A (rebuilt from the log since its exec) takes over and shows lunch.
    b.process.send_signal(signal.SIGKILL)
    a.wait_for(r"holds the lease \(epoch 3\)", timeout=15)
    agent1.url = a.running()
    agents = {agent["id"]: agent for agent in agent1.ok("GET", "/v1/agents")}
    assert agents["agent1"]["state"] == "idle" and agents["agent1"]["idleCodeId"] == "lunch", agents["agent1"]
