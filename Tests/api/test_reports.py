"""The queues' report over HTTP on a test clock: a short scripted stretch whose figures are worked
out by hand, as JSON and as CSV, for supervisors only, and the same after a SIGKILL and a restart
(the report is rebuilt from the log)."""
import csv
import io

from conftest import Desktop
from session_tools import advance, clock


def report(user, start, end, accept="application/json", **query):
    params = "&".join(f"{k}={v}" for k, v in {"from": start, "to": end, "interval": "day", **query}.items())
    return user.call("GET", f"/v1/reports/queues?{params}", headers={"Accept": accept})


def test_the_queues_report_counts_a_scripted_stretch_as_worked_out_by_hand_in_json_and_csv(start_server):
    server = start_server("--test-clock", "--telephony", "simulator")
    supervisor, agent1 = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    agent1.available()
    start = clock(supervisor)["now"]

    def call(number):
        answer = agent1.call("POST", "/v1/sim/calls", {"queueId": "sales", "from": number})
        assert answer.status_code == 201, answer.text
        return answer.json()["taskId"]

    # A: offered to agent1 at once, answered after 5 s, talked 60 s, wrapped up after 10 s.
    a = call("+15550100")
    advance(supervisor, 5_000)
    agent1.command(a, "accept")
    # B: nobody free (agent1 is on A): the customer hangs up after 30 s.
    b = call("+15550101")
    advance(supervisor, 30_000)
    assert agent1.call("POST", f"/v1/sim/calls/{b}/hangup").status_code == 200
    advance(supervisor, 30_000)
    agent1.command(a, "end")
    advance(supervisor, 10_000)
    agent1.command(a, "wrapup", {"wrapUpCodeId": "resolved"})

    def check(user):
        answer = report(user, start - 3_600_000, start + 86_400_000)
        assert answer.status_code == 200, answer.text
        rows = answer.json()["rows"]
        assert [row["queueId"] for row in rows] == ["sales"], rows
        row = rows[0]
        assert (row["offered"], row["answered"], row["abandoned"]) == (2, 1, 1), row
        assert row["averageSpeedOfAnswerMs"] == 5_000 and row["averageTimeToAbandonMs"] == 30_000, row
        assert row["longestWaitMs"] == 30_000, row
        # Left the queue: A within 20 s, B after 30 s: 1 of 2 (abandons counted, as Amazon Connect).
        assert row["serviceLevel"] == 0.5 and row["abandonRate"] == 0.5, row
        assert row["handled"] == 1 and row["averageTalkMs"] == 60_000 and row["averageHoldMs"] == 0, row
        assert row["averageWrapUpMs"] == 10_000 and row["averageHandleTimeMs"] == 70_000, row
        return row

    row = check(supervisor)
    # The same as CSV: a header, then the row; an undefined figure would be empty.
    answer = report(supervisor, start - 3_600_000, start + 86_400_000, accept="text/csv")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv"), answer.text
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(table) == 1 and table[0]["queueId"] == "sales"
    assert {key: str(value) for key, value in row.items()} == table[0]

    # Agents may not read reports; a malformed request says why.
    assert report(agent1, start, start + 1).json()["error"]["code"] == "notASupervisor"
    assert report(supervisor, start, start - 1).status_code == 400
    assert report(supervisor, start, start + 1, interval="week").status_code == 400
    assert report(supervisor, start, start + 1, queue="nowhere").json()["error"]["code"] == "unknownQueue"

    # The agents' report: agent1 available 5 s (A rang at once: 5 s ringing), on the call 60 s,
    # wrapping up 10 s; occupancy (5 + 60 + 10) / (that + available since).
    def agent_row(user):
        answer = user.call("GET", f"/v1/reports/agents?from={start - 3_600_000}&to={start + 86_400_000}&interval=day&team=frontline")
        assert answer.status_code == 200, answer.text
        return next(row for row in answer.json()["rows"] if row["agentId"] == "agent1")
    mine = agent_row(supervisor)
    assert (mine["ringingMs"], mine["onCallMs"], mine["wrapUpMs"]) == (5_000, 60_000, 10_000), mine
    assert mine["answered"] == 1 and mine["wrapUps"] == 1 and mine["teamId"] == "frontline", mine
    assert supervisor.call("GET", f"/v1/reports/agents?from={start}&to={start + 1}&team=nowhere").json()["error"]["code"] == "unknownTeam"
    # By team: the frontline's row sums its agents' (only agent1 worked).
    teams = supervisor.call("GET", f"/v1/reports/agents?from={start - 3_600_000}&to={start + 86_400_000}&interval=day&by=team").json()["rows"]
    assert [(row["teamId"], row["agentId"], row["onCallMs"], row["answered"]) for row in teams] == [("frontline", "", 60_000, 1)], teams

    # After a crash, the report is rebuilt from the log: the same figures.
    server.kill()
    server.restart()
    check(Desktop(server, "supervisor1"))
    again = agent_row(Desktop(server, "supervisor1"))
    assert (again["ringingMs"], again["onCallMs"], again["wrapUpMs"], again["answered"]) == (5_000, 60_000, 10_000, 1), again
