"""Trunks that sign in with digest instead of being trusted by address.

The server runs from a configuration whose `sip` section trusts no address (`trunks: []`) and names
one trunk account (`trunkAccounts`, its digest hashes made by `switchboard sip-hash`). SIPp plays
the trunk from 127.0.0.1, with the server's defaults (MD5 offered first, which SIPp 3.6 answers)."""
import json

import pytest

from conftest import Peers, User, eventually, first
from test_gateway import ConfiguredServer, configuration, sip_digest

TRUNK = "carrier"
SECRET = "trunk-secret"


@pytest.fixture
def trunk_server(tmp_path):
    config = configuration(gateway_port=5999)
    config["sip"] = {"numbers": {"2000": "sales"}, "trunks": [],
                     "trunkAccounts": {TRUNK: sip_digest(TRUNK, SECRET)}}
    path = tmp_path / "switchboard.json"
    path.write_text(json.dumps(config, indent=2))
    server = ConfiguredServer(path, tmp_path / "switchboard.sqlite")
    peers = Peers(server, tmp_path / "sipp")
    yield server, peers
    peers.stop_all()
    server.stop()


def trunk_call(peers, scenario, caller, password):
    return peers.client(scenario, service="2000", keys={"caller": caller}, username=TRUNK,
                        password=password)


def test_an_invite_from_an_untrusted_address_is_challenged_401_and_with_the_trunk_accounts_digest_joins_the_queue(
        trunk_server):
    server, peers = trunk_server
    supervisor = User(server, "supervisor1")
    customer = trunk_call(peers, "trunk_calls_with_digest_and_hangs_up", "15550901", SECRET)

    task = eventually(lambda: supervisor.task_from("15550901"), "the trunk's call to show as a task")
    assert task["queue"] == "sales" and task["status"] == "queued", task
    customer.wait_for("received", status=200, method="INVITE")
    challenge = first(customer.messages(), "received", status=401)
    offered = challenge.headers("WWW-Authenticate")
    assert offered and "algorithm=MD5" in offered[0] and 'realm="switchboard"' in offered[0], challenge.text
    assert len(supervisor.tasks()) == 1, "the challenged INVITE made no task of its own"

    customer.cue()  # hang up
    assert first(customer.succeeded(), "received", status=200, method="BYE")
    eventually(lambda: supervisor.task(task["id"]) is None
               or supervisor.task(task["id"])["status"] == "ended", "the task to end")


def test_a_trunk_answering_the_challenge_with_a_wrong_secret_is_403_and_no_call_is_made(trunk_server):
    server, peers = trunk_server
    supervisor = User(server, "supervisor1")
    customer = trunk_call(peers, "trunk_calls_with_a_wrong_secret", "15550902", "not-the-secret")
    messages = customer.succeeded()
    assert first(messages, "received", status=401)
    refusal = first(messages, "received", status=403)
    assert "trunk credentials" in refusal.reason, refusal.start_line
    assert supervisor.tasks() == []
