"""The server on PostgreSQL (`serve --database postgres://…`, a build with the PostgreSQL trait)
against the real server scripts/test starts (SWITCHBOARD_TEST_POSTGRES): a call made, the server
killed, restarted on the same database, and the call where it was; a bad URL refused in words."""
import os
import subprocess
import urllib.parse
import uuid

import pytest

from conftest import BINARY, Desktop, Server

URL = os.environ.get("SWITCHBOARD_TEST_POSTGRES")
pytestmark = pytest.mark.skipif(not URL, reason="SWITCHBOARD_TEST_POSTGRES is not set (scripts/test starts a PostgreSQL server)")


def new_database():
    """A new database on the test server; its URL."""
    parts = urllib.parse.urlsplit(URL)
    name = f"switchboard_api_{uuid.uuid4().hex}"
    subprocess.run(["createdb", "-h", parts.hostname, "-p", str(parts.port), "-U", parts.username, name], check=True)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def test_a_server_on_postgresql_keeps_every_answered_command_across_a_kill(tmp_path):
    database = new_database()
    server = Server(database, "--telephony", "simulator", "--drain-seconds", "0", "--recordings", str(tmp_path / "recordings"))
    try:
        agent1 = Desktop(server, "agent1")
        agent1.available()
        task = agent1.call("POST", "/v1/sim/calls", {"queueId": "support", "from": "+15550100"}).json()["taskId"]
        agent1.command(task, "accept")
        agent1.command(task, "hold")
        server.kill()
        server.restart()
        again = Desktop(server, "agent1")
        snapshot = again.task(task).json()
        assert snapshot["customer"]["state"] == "held", snapshot
        again.command(task, "resume")
        again.command(task, "end")
        again.command(task, "wrapup", {"wrapUpCodeId": "resolved"})
        past = again.call("GET", "/v1/interactions").json()
        assert task in [entry["id"] for entry in past["interactions"]], past
    finally:
        if server.process.poll() is None:
            server.stop()


def test_a_database_url_that_cannot_be_used_is_refused_in_words(tmp_path):
    finished = subprocess.run(
        [BINARY, "serve", "--demo", "--port", "0", "--telephony", "none", "--database", "postgres://127.0.0.1/nowhere"],
        capture_output=True, text=True, timeout=30)
    assert finished.returncode != 0
    assert "no user" in finished.stderr + finished.stdout, finished.stderr
