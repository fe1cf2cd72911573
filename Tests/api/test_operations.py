"""Operating the server: /metrics in Prometheus' format, and the graceful drain on SIGTERM."""
import signal

import requests

from conftest import Desktop, Server


def metric(server, line_start):
    text = requests.get(f"{server.url}/metrics").text
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {line_start} in /metrics:\n{text}")


def test_metrics_count_commands_and_show_live_figures(server, desktops):
    agent1, _, place_call = desktops
    task = place_call()
    agent1.command(task, "accept")
    agent1.command(task, "conference/end", expect=409)
    assert metric(server, 'switchboard_commands_total{command="accept",outcome="accepted"}') == 1
    assert metric(server, 'switchboard_commands_total{command="conference/end",outcome="rejected"}') == 1
    assert metric(server, 'switchboard_agents{status="engaged"}') == 1
    assert metric(server, "switchboard_tasks_live") == 1
    assert metric(server, "switchboard_command_duration_seconds_count") >= 3


def test_sigterm_refuses_new_calls_and_waits_for_live_ones_to_end(tmp_path):
    server = Server(tmp_path / "switchboard.sqlite", "--drain-seconds", "30")
    try:
        agent1 = Desktop(server, "agent1")
        agent1.available()
        task = agent1.call("POST", "/v1/sim/calls", {"queueId": "sales", "from": "+15550100"}).json()["taskId"]
        agent1.command(task, "accept")
        server.process.send_signal(signal.SIGTERM)
        assert server.process.stdout.readline().strip() == "Switchboard is draining"
        # Still serving while it drains: a new call is refused, the live one can be finished.
        refused = agent1.call("POST", "/v1/sim/calls", {"queueId": "sales", "from": "+15550101"})
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "draining"
        assert server.process.poll() is None
        agent1.command(task, "end")
        assert server.process.wait(timeout=10) == 0
    finally:
        if server.process.poll() is None:
            server.kill()


def test_drain_gives_up_on_calls_still_live_after_the_bound(tmp_path):
    server = Server(tmp_path / "switchboard.sqlite", "--drain-seconds", "1")
    try:
        agent1 = Desktop(server, "agent1")
        agent1.available()
        task = agent1.call("POST", "/v1/sim/calls", {"queueId": "sales", "from": "+15550100"}).json()["taskId"]
        agent1.command(task, "accept")
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=10) == 0
        # The call is still there after a restart: nothing acknowledged was lost by the shutdown.
        restarted = Server(tmp_path / "switchboard.sqlite")
        try:
            assert Desktop(restarted, "agent1").task(task).json()["status"] == "connected"
        finally:
            restarted.stop()
    finally:
        if server.process.poll() is None:
            server.kill()
