"""Starts a real Switchboard server (demo configuration, call simulator) on a free loopback port
for each test, and stops it afterwards."""
import os
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from switchboard_server import BINARY, ROOT, Server  # noqa: E402,F401  (the tests import these from here)


class Desktop:
    """One signed-in user, speaking the REST API."""

    def __init__(self, server, username, password="switchboard"):
        self.server = server
        answer = requests.post(f"{server.url}/v1/auth/login", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["token"]
        self.name = username

    def call(self, method, path, body=None, headers=None):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return requests.request(method, f"{self.server.url}{path}", json=body, headers=headers)

    def available(self):
        answer = self.call("PUT", "/v1/me/state", {"state": "available"})
        assert answer.status_code == 200 or answer.json()["error"]["code"] == "alreadyInState", answer.text

    def command(self, task, name, body=None, expect=200, **kwargs):
        answer = self.call("POST", f"/v1/tasks/{task}/{name}", body, **kwargs)
        assert answer.status_code == expect, f"{self.name} {name}: {answer.status_code} {answer.text}"
        return answer.json()

    def task(self, task):
        return self.call("GET", f"/v1/tasks/{task}")


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path / "switchboard.sqlite")
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture
def desktops(server):
    """agent1 and agent2 signed in and available; a helper to place a customer call."""
    agent1, agent2 = Desktop(server, "agent1"), Desktop(server, "agent2")
    agent1.available()

    def place_call(queue="sales"):
        answer = agent1.call("POST", "/v1/sim/calls", {"queueId": queue, "from": "+15550100"})
        assert answer.status_code == 201, answer.text
        return answer.json()["taskId"]

    return agent1, agent2, place_call


@pytest.fixture
def start_server(tmp_path):
    """Starts servers with the `serve` options given (each on its own SQLite file, "--drain-seconds 0"
    unless the options say otherwise), and stops every one it started afterwards."""
    started = []

    def start(*options):
        if "--drain-seconds" not in options:
            options = (*options, "--drain-seconds", "0")
        running = Server(tmp_path / f"switchboard-{len(started)}.sqlite", *options)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.stop()
