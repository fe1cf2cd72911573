"""Consulting an outside number through the configured SIP gateway.

The server runs from a JSON configuration (`serve --config FILE --telephony sip`), shaped like the
demo's (agents with a bcrypt `passwordHash` and a `sipDigest` made by `switchboard sip-hash`), whose
`sip` section names a gateway: a SIPp UAS on a port of this host. A consult to a dial number
INVITEs `sip:NUMBER@GATEWAY` (docs/sip.md: `ring(dialNumber)` goes through the gateway); its 200
accepts the consult, its failure fails the ring; ending the consult BYEs the gateway.
"""
import json
import os
import queue
import re
import subprocess
import threading
import time

import pytest

from conftest import (BINARY, DEADLINE, LOCALHOST, PASSWORD, Bystander, Peers, Sipp, command, cseq_number,
                      eventually, first, number_participant, on_phone_station, participant, received_requests,
                      sdp_media, still_waiting, tag, task_state)

NUMBER = "+15550100"
CALLER = "15550400"
AGENTS = ["agent1", "agent2", "agent3", "agent4"]
# bcrypt (cost 8) of the password "switchboard", made with Python's bcrypt; used only where that
# package is missing (the suite's runner does not install it).
SWITCHBOARD_BCRYPT = "$2b$08$vuKS9z7Q84zs4GbkbGPHy.qzMcNiduhRah93lRTeL3bC47wvgxVP2"


def password_hash(password=PASSWORD):
    try:
        import bcrypt
    except ImportError:
        assert password == PASSWORD, "only the default password has a hash at hand without bcrypt"
        return SWITCHBOARD_BCRYPT
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(8)).decode()


def binary():
    """The server binary; it may be being rebuilt in place, so it is waited for (bounded)."""
    eventually(lambda: os.access(BINARY, os.X_OK), f"the server binary {BINARY}", timeout=120, interval=0.5)
    return BINARY


def sip_digest(agent, password=PASSWORD):
    """The agent's `sipDigest`, as `switchboard sip-hash AGENT` makes it (password on stdin)."""
    made = subprocess.run([binary(), "sip-hash", agent], input=password + "\n", capture_output=True, text=True,
                          timeout=30)
    assert made.returncode == 0, made.stderr
    digest = made.stdout.strip()
    assert re.fullmatch(r"md5:[0-9a-f]{32},sha256:[0-9a-f]{64}", digest), digest
    return digest


def configuration(gateway_port):
    """The demo's shape, written out, with a `sip` section whose gateway is 127.0.0.1:`gateway_port`."""
    hashed = password_hash()
    return {
        "agents": [{"id": agent, "displayName": f"Agent {agent[-1]}", "passwordHash": hashed, "team": "frontline",
                    "sipDigest": sip_digest(agent)} for agent in AGENTS],
        "supervisors": [{"id": "supervisor1", "displayName": "Supervisor 1", "passwordHash": hashed}],
        "queues": [{"id": "sales", "name": "Sales", "teams": ["frontline"]},
                   {"id": "support", "name": "Support", "teams": ["frontline"]}],
        "wrapUpCodes": [{"id": "resolved", "name": "Resolved"}, {"id": "escalated", "name": "Escalated"}],
        "idleCodes": [{"id": "break", "name": "Break"}, {"id": "lunch", "name": "Lunch"}],
        "desktopProfile": {"ringNoAnswerSeconds": 20, "autoWrapUpSeconds": 120, "defaultWrapUpCode": "resolved",
                           "maxConferenceParticipants": 3},
        "sip": {"numbers": {"2000": "sales"}, "trunks": [LOCALHOST], "gateway": f"{LOCALHOST}:{gateway_port}"},
    }


class ConfiguredServer:
    """`switchboard serve --config FILE --telephony sip` on free loopback ports; what it prints is
    read (and kept) by a thread, so waiting for its addresses has a deadline."""

    def __init__(self, config_path, database, *options):
        self.process = subprocess.Popen(
            [binary(), "serve", "--config", str(config_path), "--telephony", "sip", "--host", LOCALHOST,
             "--port", "0", "--sip-port", "0", "--sip-qualify-seconds", "0", "--database", str(database), "--drain-seconds", "0",
             *options],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        self.output = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = None
        self.sip_port = None
        deadline = time.monotonic() + 30
        while self.url is None or self.sip_port is None:
            remaining = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                line = None
            if line is None:  # the deadline passed, or the server's output ended
                self.stop()
                raise AssertionError("the server did not say where it listens:\n" + "".join(self.output))
            match = re.search(r"Switchboard is running: (http://127\.0\.0\.1:\d+)/", line)
            if match:
                self.url = match.group(1)
            match = re.search(r"SIP is listening: udp and tcp 127\.0\.0\.1:(\d+)", line)
            if match:
                self.sip_port = int(match.group(1))

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def gateway_call(tmp_path):
    """Starts the gateway (a SIPp UAS playing the scenario given), then a server configured to use
    it, then a customer's call that Agent 1 answers on the phone. Stops them all at the end."""
    started = []

    def start(gateway_scenario, phone_scenario="spec_phone_answers_and_waits",
              customer_scenario="spec_customer_calls_and_waits"):
        workdir = tmp_path / "sipp"
        gateway = Sipp(str(workdir), gateway_scenario)
        started.append(gateway)
        gateway.wait_until_listening()
        config = tmp_path / "switchboard.json"
        config.write_text(json.dumps(configuration(gateway.port), indent=2))
        server = ConfiguredServer(config, tmp_path / "switchboard.sqlite")
        started.append(server)
        peers = Peers(server, workdir)
        started.append(peers)

        # The configured sipDigest lets agent1's phone register (SHA-256 digest).
        phone = peers.phone("agent1", phone_scenario)
        agent1 = on_phone_station(server, "agent1")
        bystander = Bystander(server)
        customer = peers.customer(customer_scenario, caller=CALLER)
        phone.wait_for("received", start="ACK")

        def connected():
            task = agent1.task_from(CALLER)
            me = task and participant(task, "agent1")
            return task if me and me["state"] == "connected" else None
        task = eventually(connected, "Agent 1 to answer the customer's call on the phone")
        assert task["queue"] == "sales", task
        return gateway, server, agent1, phone, customer, bystander, task["id"]

    yield start
    for thing in reversed(started):
        if isinstance(thing, Peers):
            thing.stop_all()
        else:
            thing.stop()


def consult_number(agent1, task_id):
    consulting = command(agent1, task_id, "consult", {"destinationType": "dialNumber", "to": NUMBER})
    assert consulting["status"] == "consulting" and consulting["customer"]["state"] == "held", consulting
    dialled = number_participant(consulting, NUMBER)
    assert dialled and dialled["role"] == "consulted" and dialled["state"] == "ringing", consulting
    return consulting


def hang_up_the_rest(agent1, task_id, bystander, customer, phone):
    """Neither the customer nor Agent 1's phone was hung up along the way; Agent 1 ends the call
    from the desktop and both get their BYE."""
    bystander.settle()
    for peer in (customer, phone):
        still_waiting(peer)
        assert received_requests(peer, "BYE") == [], f"{peer.scenario} was hung up:\n{peer.report()}"
        peer.cue()
    ended = command(agent1, task_id, "end")
    assert ended["status"] == "ended" and ended["wrapUpRequired"] is True, ended
    assert first(customer.succeeded(), "received", start="BYE")
    assert first(phone.succeeded(), "received", start="BYE")
    assert agent1.me()["state"] == "wrapUp"
    command(agent1, task_id, "wrapup", {"wrapUpCodeId": "resolved"})


def test_a_consult_to_a_dial_number_invites_it_through_the_gateway_its_200_accepts_and_consult_end_byes_it(
        gateway_call):
    gateway, server, agent1, phone, customer, bystander, task_id = gateway_call("gateway_answers")
    consult_number(agent1, task_id)

    invite = gateway.wait_for("received", start="INVITE")
    assert invite.request_uri == f"sip:{NUMBER}@127.0.0.1:{gateway.port}", invite.start_line
    assert invite.header("To") == f"<sip:{NUMBER}@127.0.0.1:{gateway.port}>", invite.text
    assert invite.header("From").startswith(f"<sip:{CALLER}@127.0.0.1>"), "the customer's number is the caller's"
    address, port, payloads = sdp_media(invite.body)
    assert address == "127.0.0.1" and 20000 <= port <= 29999 and 0 in payloads, invite.body
    ack = gateway.wait_for("received", start="ACK")
    answer = first(gateway.messages(), "sent", status=200, method="INVITE")
    assert ack.header("Call-ID") == invite.header("Call-ID") and tag(ack.header("To")) == tag(answer.header("To"))
    assert ack.request_uri == f"sip:far-end@127.0.0.1:{gateway.port}", ack.start_line

    accepted = task_state(agent1, task_id, lambda t: (number_participant(t, NUMBER) or {}).get("state") == "connected",
                          "the gateway's 200 to accept the consult")
    assert accepted["status"] == "consulting" and accepted["customer"]["state"] == "held", accepted
    assert "consultAnswered" in agent1.history(task_id)

    resumed = command(agent1, task_id, "consult/end")
    assert resumed["status"] == "connected" and resumed["customer"]["state"] == "connected", resumed
    assert number_participant(resumed, NUMBER)["state"] == "left", resumed

    messages = gateway.succeeded()
    bye = first(messages, "received", start="BYE")
    assert bye is not None, "the server hangs up the dialled number"
    assert bye.request_uri == f"sip:far-end@127.0.0.1:{gateway.port}", bye.start_line
    assert bye.header("Call-ID") == invite.header("Call-ID"), bye.text
    assert tag(bye.header("From")) == tag(invite.header("From")) and tag(bye.header("To")) == tag(answer.header("To"))
    assert cseq_number(bye) > cseq_number(invite), bye.text
    assert agent1.history(task_id)[-1] == "consultCancelled"

    hang_up_the_rest(agent1, task_id, bystander, customer, phone)


def test_a_gateway_answering_503_fails_the_dialled_partys_ring_and_the_customer_stays_held(gateway_call):
    gateway, server, agent1, phone, customer, bystander, task_id = gateway_call("gateway_unavailable")
    consult_number(agent1, task_id)

    messages = gateway.succeeded()  # INVITE, 503, the server's ACK
    invite = first(messages, "received", start="INVITE")
    assert invite.request_uri == f"sip:{NUMBER}@127.0.0.1:{gateway.port}", invite.start_line
    assert first(messages, "sent", status=503) and first(messages, "received", start="ACK")

    held = task_state(agent1, task_id, lambda t: t["status"] == "held", "the dialled party's ring to fail",
                      timeout=DEADLINE)
    assert held["customer"]["state"] == "held", held
    assert number_participant(held, NUMBER) is None, held
    assert [(p.get("agentId"), p["state"]) for p in held["participants"]] == [("agent1", "connected")], held
    assert agent1.history(task_id)[-2:] == ["consultStarted", "ringFailed"]

    resumed = command(agent1, task_id, "resume")
    assert resumed["status"] == "connected" and resumed["customer"]["state"] == "connected", resumed
    hang_up_the_rest(agent1, task_id, bystander, customer, phone)


def test_a_blind_transfer_to_a_dial_number_invites_it_through_the_gateway_byes_agent1s_phone_and_the_customers_bye_ends_it(
        gateway_call):
    gateway, server, agent1, phone, customer, bystander, task_id = gateway_call(
        "gateway_answers", phone_scenario="agent_phone_answers", customer_scenario="customer_calls_and_hangs_up")
    transferred = command(agent1, task_id, "transfer", {"destinationType": "dialNumber", "to": NUMBER})
    assert participant(transferred, "agent1")["state"] == "left", transferred

    invite = gateway.wait_for("received", start="INVITE")
    assert invite.request_uri == f"sip:{NUMBER}@127.0.0.1:{gateway.port}", invite.start_line
    assert invite.header("From").startswith(f"<sip:{CALLER}@127.0.0.1>"), "the customer's number is the caller's"
    gateway.wait_for("received", start="ACK")
    assert first(phone.succeeded(), "received", start="BYE"), "Agent 1's phone is hung up"
    eventually(lambda: agent1.me()["state"] == "wrapUp", "Agent 1 to be in wrap-up")

    bystander.settle()
    still_waiting(customer)
    still_waiting(gateway)
    assert received_requests(customer, "BYE") == [], "the customer stays on the line with the number"
    customer.cue()  # the customer hangs up: the server hangs up the number
    assert first(customer.succeeded(), "received", status=200, method="BYE")
    bye = first(gateway.succeeded(), "received", start="BYE")
    assert bye.header("Call-ID") == invite.header("Call-ID"), bye.text
    command(agent1, task_id, "wrapup", {"wrapUpCodeId": "resolved"})
