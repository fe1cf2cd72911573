"""A scripted day for the reports' tests: six calls to the demo's support queue on a test-clock
server (`serve --test-clock --desktop-grace-seconds 3600`), driven over the REST API, and every
figure they must give worked out by hand below. The API test reads them back as JSON and CSV; the
browser test reads them off the supervisor's queue tiles.

The demo counts: a 20 s service level, abandons counted (as Amazon Connect), a 5 s short abandon.
Times are seconds after the start (t). Only the agents the script needs are available, so which
agent a call rings never depends on the routing's tie-breaks.

    A  t=0    rings agent1; answered t=8 (wait 8); held 38–50; ended t=70; wrapped up t=80
    B  t=100  rings agent1; the customer hangs up at t=103: a short abandon (3 s < 5 s)
       t=110  agent1 goes on a break
    C  t=120  waits; hangs up at t=132: abandoned after 12 s (within 20 s)
    D  t=140  waits; hangs up at t=175: abandoned after 35 s
    E  t=200  waits; agent1 available at t=230, answers t=234 (wait 34); agent2 available t=240;
              agent1 consults agent2 t=250 (the customer on hold), agent2 answers t=255;
              conference t=270; agent1 hands it to agent2 t=300 and wraps up t=310;
              agent2 ends it t=330 and wraps up t=340; agent2 on a break t=345
    F  t=400  rings agent1; answered t=402 (wait 2); blind-transferred to sales t=430; agent1
              wraps up t=440 and is offered it again (sales): answers t=445 (15 s in sales);
              ends it t=475; wraps up t=480

Support: offered A–F = 6; answered A, E, F = 3 (waits 8 + 34 + 2 = 44 s: ASA 14 666 ms); within
20 s: A, F; abandoned C, D = 2 (12 + 35: 23 500 ms to abandon), C within 20 s; B short.
Service level (2 + 1) / (3 + 2) = 0.6; abandon rate 2 / 6. Longest wait 35 s (D).
Handled (finished in support): A and E; F finished in sales, where its handle time counts.
  A: talk 30 + 20 = 50 s, hold 12 s, wrap-up 10 s
  E: talk 16 (234–250) + 60 (270–330) = 76 s, hold 20 s (250–270), wrap-up 10 + 10 = 20 s
  talk 126 s / 2 = 63 000 ms, hold 32 / 2 = 16 000, wrap-up 30 / 2 = 15 000, AHT 94 000
Transfers: E's conference handed over, F's blind transfer = 2; consults 1; conferences 1.
Sales: offered 1 (F, t=430), answered 1 after 15 s, handled 1: talk 28 + 30 = 58 s, wrap-up
  10 + 5 = 15 s, AHT 73 000 ms.
agent1 (to t=480): ringing 8 + 3 + 4 + 2 + 5 = 22 s; on calls 62 + 66 + 28 + 30 = 186 s;
  wrap-up 10 + 10 + 10 + 5 = 35 s; available 20 + 7 + 90 = 117 s; break 120 s; 4 answered,
  4 wrap-ups; occupancy (22 + 186 + 35) / (243 + 117) = 0.675.
"""
import time

import requests

SUPPORT = {
    "queueId": "support", "offered": 6, "answered": 3, "abandoned": 2, "shortAbandoned": 1,
    "answeredWithinThreshold": 2, "serviceLevel": 0.6, "abandonRate": 2 / 6,
    "averageSpeedOfAnswerMs": 14_666, "averageTimeToAbandonMs": 23_500, "longestWaitMs": 35_000,
    "handled": 2, "averageTalkMs": 63_000, "averageHoldMs": 16_000, "averageWrapUpMs": 15_000,
    "averageHandleTimeMs": 94_000, "transfers": 2, "consults": 1, "conferences": 1,
    # A: resolved; E: agent1 resolved, agent2 escalated; F's first wrap-up (agent1, resolved)
    # was applied while F was in sales' queue already, so it counts there.
    "wrapUpsByReason": {"resolved": 2, "escalated": 1},
}
SALES = {
    "queueId": "sales", "offered": 1, "answered": 1, "abandoned": 0, "shortAbandoned": 0,
    "answeredWithinThreshold": 1, "serviceLevel": 1.0, "abandonRate": 0.0,
    "averageSpeedOfAnswerMs": 15_000, "longestWaitMs": 15_000,
    "handled": 1, "averageTalkMs": 58_000, "averageHoldMs": 0, "averageWrapUpMs": 15_000,
    "averageHandleTimeMs": 73_000, "transfers": 0, "consults": 0, "conferences": 0,
    "wrapUpsByReason": {"resolved": 1, "sale": 1},
}
AGENT1 = {
    "agentId": "agent1", "ringingMs": 22_000, "onCallMs": 186_000, "wrapUpMs": 35_000,
    "availableMs": 117_000, "answered": 4, "wrapUps": 4, "occupancy": 0.675,
}
# The day lasts 480 s of the test clock.
LENGTH_MS = 480_000


class User:
    """One signed-in user over the REST API."""

    def __init__(self, url, name):
        self.url, self.name = url, name
        answer = requests.post(f"{url}/v1/auth/login", json={"username": name, "password": "switchboard"})
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["token"]

    def call(self, method, path, body=None, headers=None):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return requests.request(method, f"{self.url}{path}", json=body, headers=headers)

    def ok(self, method, path, body=None):
        answer = self.call(method, path, body)
        assert answer.status_code in (200, 201), f"{self.name} {method} {path}: {answer.status_code} {answer.text}"
        return answer.json()


def play(url):
    """Plays the day from the test clock's present; returns its start (ms since 1970) and end."""
    supervisor, agent1, agent2 = User(url, "supervisor1"), User(url, "agent1"), User(url, "agent2")
    now = supervisor.ok("GET", "/v1/test/clock")["now"]
    # The day must not cross midnight (the tiles count since midnight): after 23:00 on this
    # machine's clock (the server's time zone), move past the next midnight first.
    local = time.localtime(now / 1000)
    into_day = ((local.tm_hour * 60 + local.tm_min) * 60 + local.tm_sec) * 1000
    if into_day > 23 * 3_600_000:
        supervisor.ok("POST", "/v1/test/clock", {"milliseconds": 86_400_000 - into_day + 3_600_000})
    start = supervisor.ok("GET", "/v1/test/clock")["now"]
    at = 0

    def to(second):
        nonlocal at
        if second > at:
            supervisor.ok("POST", "/v1/test/clock", {"milliseconds": (second - at) * 1000})
        at = second

    def arrives(queue="support"):
        return supervisor.ok("POST", "/v1/sim/calls", {"queueId": queue, "from": "+15550199"})["taskId"]

    def hangs_up(task):
        supervisor.ok("POST", f"/v1/sim/calls/{task}/hangup")

    def state(user, name, code=None):
        answer = user.call("PUT", "/v1/me/state", {"state": name, **({"idleCodeId": code} if code else {})})
        assert answer.status_code == 200 or answer.json()["error"]["code"] == "alreadyInState", answer.text

    def command(user, task, name, body=None):
        user.ok("POST", f"/v1/tasks/{task}/{name}", body)

    state(agent2, "idle", "break")
    state(agent1, "available")
    a = arrives()
    to(8); command(agent1, a, "accept")
    to(38); command(agent1, a, "hold")
    to(50); command(agent1, a, "resume")
    to(70); command(agent1, a, "end")
    to(80); command(agent1, a, "wrapup", {"wrapUpCodeId": "resolved"})

    to(100); b = arrives()
    to(103); hangs_up(b)
    to(110); state(agent1, "idle", "break")
    to(120); c = arrives()
    to(132); hangs_up(c)
    to(140); d = arrives()
    to(175); hangs_up(d)

    to(200); e = arrives()
    to(230); state(agent1, "available")
    to(234); command(agent1, e, "accept")
    to(240); state(agent2, "available")
    to(250); command(agent1, e, "consult", {"destinationType": "agent", "to": "agent2"})
    to(255); command(agent2, e, "consult/accept")
    to(270); command(agent1, e, "consult/conference")
    to(300); command(agent1, e, "conference/transfer")
    to(310); command(agent1, e, "wrapup", {"wrapUpCodeId": "resolved"})
    to(330); command(agent2, e, "end")
    to(340); command(agent2, e, "wrapup", {"wrapUpCodeId": "escalated"})
    to(345); state(agent2, "idle", "break")

    to(400); f = arrives()
    to(402); command(agent1, f, "accept")
    to(430); command(agent1, f, "transfer", {"destinationType": "queue", "to": "sales"})
    to(440); command(agent1, f, "wrapup", {"wrapUpCodeId": "resolved"})
    to(445); command(agent1, f, "accept")
    to(475); command(agent1, f, "end")
    to(480); command(agent1, f, "wrapup", {"wrapUpCodeId": "sale"})
    return start, start + at * 1000


def close(row, expected):
    """Whether a report row carries every expected figure (fractions to 1e-9)."""
    for key, value in expected.items():
        if isinstance(value, float):
            if row.get(key) is None or abs(row[key] - value) > 1e-9:
                return False
        elif row.get(key) != value:
            return False
    return True
