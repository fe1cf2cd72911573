"""Schemathesis generates requests from docs/openapi.yaml against a live server: none may get a 5xx."""
import os
import subprocess
import sys

from conftest import ROOT, Desktop


def test_generated_requests_never_get_a_server_error(server):
    agent = Desktop(server, "agent1")
    agent.available()
    agent.call("POST", "/v1/sim/calls", {"queueId": "sales", "from": "+15550100"})  # a task to aim at
    run = subprocess.run(
        [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()",
         "run", os.path.join(ROOT, "docs", "openapi.yaml"), "--url", server.url,
         "-H", f"Authorization: Bearer {agent.token}", "--checks", "not_a_server_error",
         "--max-examples", "20", "--seed", "20261125", "--exclude-path", "/v1/notifications"],
        capture_output=True, text=True, timeout=600,
        # SDP offers (application/sdp) are sent as text: the hook module says so.
        env={**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "PYTHONPATH": os.path.dirname(os.path.abspath(__file__))})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
