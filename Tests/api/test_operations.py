"""Operating the server: /metrics in Prometheus' format, and the graceful drain on SIGTERM."""
import json
import os
import re
import signal
import subprocess
from contextlib import contextmanager

import requests

from conftest import BINARY, ROOT, Desktop, Server


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


def test_every_metric_the_sample_grafana_dashboard_charts_is_served(server, desktops):
    """docs/grafana/switchboard-queues.json names only metrics /metrics has (with a call made, so
    the command histogram and the per-queue figures exist)."""
    agent1, _, place_call = desktops
    agent1.command(place_call(), "accept")
    dashboard = open(os.path.join(ROOT, "docs", "grafana", "switchboard-queues.json")).read()
    json.loads(dashboard)
    wanted = set(re.findall(r"switchboard_[a-z_]+", dashboard))
    served = {line.split("{")[0].split(" ")[0] for line in requests.get(f"{server.url}/metrics").text.splitlines()
              if line.startswith("switchboard_")}
    assert wanted and wanted <= served, wanted - served


@contextmanager
def server_with_a_live_call(tmp_path, drain_seconds):
    """A server draining for up to `drain_seconds`, with agent1 on a connected call; killed at the
    end if the test left it running."""
    server = Server(tmp_path / "switchboard.sqlite", "--drain-seconds", str(drain_seconds))
    try:
        agent1 = Desktop(server, "agent1")
        agent1.available()
        task = agent1.call("POST", "/v1/sim/calls", {"queueId": "sales", "from": "+15550100"}).json()["taskId"]
        agent1.command(task, "accept")
        yield server, agent1, task
    finally:
        if server.process.poll() is None:
            server.kill()


def test_sigterm_refuses_new_calls_and_waits_for_live_ones_to_end(tmp_path):
    with server_with_a_live_call(tmp_path, 30) as (server, agent1, task):
        server.process.send_signal(signal.SIGTERM)
        assert server.process.stdout.readline().strip() == "Switchboard is draining"
        # Still serving while it drains: a new call is refused, the live one can be finished.
        refused = agent1.call("POST", "/v1/sim/calls", {"queueId": "sales", "from": "+15550101"})
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "draining"
        assert server.process.poll() is None
        agent1.command(task, "end")
        assert server.process.wait(timeout=10) == 0


def test_drain_gives_up_on_calls_still_live_after_the_bound(tmp_path):
    with server_with_a_live_call(tmp_path, 1) as (server, _, task):
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=10) == 0
    # The call is still there after a restart: nothing acknowledged was lost by the shutdown.
    restarted = Server(tmp_path / "switchboard.sqlite")
    try:
        assert Desktop(restarted, "agent1").task(task).json()["status"] == "connected"
    finally:
        restarted.stop()


def run_cli(*arguments):
    return subprocess.run([BINARY, *arguments], capture_output=True, text=True, timeout=120)


def test_simulate_places_calls_at_the_rate_asked_round_robin_over_the_queues(server):
    result = run_cli("simulate", "--url", server.url + "/", "--rate", "40", "--duration", "0.1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "placed 4 calls"
    supervisor = Desktop(server, "supervisor1")
    waiting = {queue["id"]: queue["waiting"] for queue in supervisor.call("GET", "/v1/queues").json()}
    assert waiting == {"sales": 2, "support": 2}  # nobody is available: all four wait


def test_simulate_explains_a_server_it_cannot_reach_and_bad_options():
    unreachable = run_cli("simulate", "--url", "http://127.0.0.1:1/", "--duration", "1")
    assert unreachable.returncode != 0 and "cannot talk to the server at http://127.0.0.1:1/" in unreachable.stderr
    bad = run_cli("simulate", "--rate", "0")
    assert bad.returncode != 0 and "--rate must be above 0" in bad.stderr


def test_load_runs_full_conference_lifecycles_without_a_failure(tmp_path):
    result = run_cli("load", "--calls", "3", "--duration", "2", "--directory", str(tmp_path))
    assert result.returncode == 0, result.stderr
    summary = result.stdout
    assert ", 0 failures" in summary, summary
    lifecycles = int(re.search(r"(\d+) conference lifecycles", summary).group(1))
    commands = int(re.search(r"(\d+) durable commands", summary).group(1))
    # Each: the call, accept, consult, consult/accept, consult/conference, conference/exit, end, wrapup.
    assert lifecycles >= 3 and commands == 8 * lifecycles, summary
    assert re.search(r"event \(sent → the other agent's event\): +p50", summary), summary
