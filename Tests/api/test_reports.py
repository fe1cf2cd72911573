"""The reports over HTTP on a test clock: the scripted day (Tests/support/scripted_day.py) whose
figures are worked out by hand, as JSON and as CSV, for supervisors only, and the same after a
SIGKILL and a restart (the reports are rebuilt from the log)."""
import csv
import io

from conftest import Desktop
import scripted_day


def report(user, start, end, accept="application/json", **query):
    params = "&".join(f"{k}={v}" for k, v in {"from": start, "to": end, "interval": "day", **query}.items())
    return user.call("GET", f"/v1/reports/queues?{params}", headers={"Accept": accept})


def test_the_reports_give_the_scripted_days_hand_worked_figures_in_json_and_csv_and_again_after_a_restart(start_server):
    server = start_server("--test-clock", "--telephony", "simulator", "--desktop-grace-seconds", "3600")
    supervisor, agent1 = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    start, end = scripted_day.play(server.url)
    span = {"from": start - 3_600_000, "to": end + 86_400_000}

    def check(user):
        answer = report(user, span["from"], span["to"])
        assert answer.status_code == 200, answer.text
        rows = answer.json()["rows"]
        # One day (the range starts an hour before, so the day is the one the script played in).
        assert sorted(row["queueId"] for row in rows) == ["sales", "support"], rows
        support = next(row for row in rows if row["queueId"] == "support")
        sales = next(row for row in rows if row["queueId"] == "sales")
        assert scripted_day.close(support, scripted_day.SUPPORT), support
        assert scripted_day.close(sales, scripted_day.SALES), sales
        assert "averageTimeToAbandonMs" not in sales, sales  # nothing abandoned: undefined
        return rows

    rows = check(supervisor)
    # The same as CSV: a header, then the rows, the same columns; an undefined figure is empty.
    answer = report(supervisor, span["from"], span["to"], accept="text/csv")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv"), answer.text
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert [line["queueId"] for line in table] == [row["queueId"] for row in rows]
    for row, line in zip(rows, table):
        assert set(row) <= set(line), (row, line)
        for key, text in line.items():
            if key not in row:
                assert text == "", (key, line)
            elif isinstance(row[key], dict):  # reason=count pairs
                assert text == ";".join(f"{k}={v}" for k, v in sorted(row[key].items())), (key, text, row)
            elif isinstance(row[key], (int, float)):
                assert float(text) == row[key], (key, text, row)
            else:
                assert text == str(row[key]), (key, text, row)

    # By quarter hour the same calls, split where they happened: the quarters sum to the day.
    quarters = report(supervisor, span["from"], span["to"], interval="15m", queue="support").json()["rows"]
    for figure in ("offered", "answered", "abandoned", "shortAbandoned", "handled", "transfers"):
        assert sum(row[figure] for row in quarters) == scripted_day.SUPPORT[figure], (figure, quarters)

    # Agents may not read reports; a malformed request says why.
    assert report(agent1, start, start + 1).json()["error"]["code"] == "notASupervisor"
    assert report(supervisor, start, start - 1).status_code == 400
    assert report(supervisor, start, start + 1, interval="week").status_code == 400
    assert report(supervisor, start, start + 1, queue="nowhere").json()["error"]["code"] == "unknownQueue"

    # The agents' report, read at the day's end (the test clock stands there).
    def agent_row(user):
        answer = user.call("GET", f"/v1/reports/agents?from={span['from']}&to={span['to']}&interval=day&team=frontline")
        assert answer.status_code == 200, answer.text
        return next(row for row in answer.json()["rows"] if row["agentId"] == "agent1")
    mine = agent_row(supervisor)
    assert scripted_day.close(mine, scripted_day.AGENT1) and mine["teamId"] == "frontline", mine
    assert mine["idleMs"] == 120_000 and mine["idleByReasonMs"] == {"break": 120_000}, mine
    assert supervisor.call("GET", f"/v1/reports/agents?from={start}&to={start + 1}&team=nowhere").json()["error"]["code"] == "unknownTeam"
    # By team: the frontline's row sums its agents'.
    teams = supervisor.call("GET", f"/v1/reports/agents?from={span['from']}&to={span['to']}&interval=day&by=team").json()["rows"]
    assert [(row["teamId"], row["agentId"]) for row in teams] == [("frontline", "")], teams
    assert teams[0]["answered"] == 4 + 1, teams  # agent2 answered the consult

    # After a crash, the reports are rebuilt from the log: the same figures.
    server.kill()
    server.restart()
    again = Desktop(server, "supervisor1")
    assert check(again) == rows
    assert agent_row(again) == mine
