"""Calls through Kamailio (deploy/kamailio.cfg) in front of the pair: a call reaches the active
node; the standby answers Kamailio's probes 503 and gets none; when the active node is killed, the
next call goes to the new active node, and a conference that was up on the dead node carries on
with sound on the new one (its legs re-INVITEd to the new node's media ports), the agents' phones
registered through Kamailio reached by the new node without registering again, and the desktops
(through HAProxy) going on with the spec's rows there."""
import os
import re
import signal
import socket
import sys
import time
import uuid

import pytest
import requests

from conftest import Desk, fetched, free_port, heard, participant, settled, sip_pair

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from sip_phone import Phone, sdp_origin  # noqa: E402
from tone_peer import AGENT1_TONE, AGENT2_TONE, CUSTOMER_TONE  # noqa: E402
from waiting import eventually  # noqa: E402

HEARD = 0.1   # a tone's share of what a party heard (Tests/sip/test_media_by_ear.py)


def invite(kamailio_port, number="2001", caller="+15550100", timeout=10):
    """A customer's INVITE to `number` through Kamailio, from a UDP socket of our own; the final
    status (retransmitted, as a UDP client does, until a final answer)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        sdp = ("v=0\r\no=customer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {free_port()} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        message = (f"INVITE sip:{number}@127.0.0.1:{kamailio_port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{uuid.uuid4().hex};rport\r\n"
                   "Max-Forwards: 70\r\n"
                   f"From: <sip:{caller}@127.0.0.1:{port}>;tag={uuid.uuid4().hex[:8]}\r\n"
                   f"To: <sip:{number}@127.0.0.1:{kamailio_port}>\r\n"
                   f"Call-ID: {uuid.uuid4().hex}@127.0.0.1\r\nCSeq: 1 INVITE\r\n"
                   f"Contact: <sip:{caller}@127.0.0.1:{port}>\r\nContent-Type: application/sdp\r\n"
                   f"Content-Length: {len(sdp)}\r\n\r\n{sdp}").encode()
        deadline = time.monotonic() + timeout
        udp.sendto(message, ("127.0.0.1", kamailio_port))
        pause = 0.5
        while time.monotonic() < deadline:
            udp.settimeout(pause)
            try:
                answer = udp.recv(65535).decode(errors="replace")
            except socket.timeout:
                udp.sendto(message, ("127.0.0.1", kamailio_port))  # Timer A: retransmit
                pause = min(pause * 2, 4)
                continue
            status = int(re.match(r"SIP/2\.0 (\d{3})", answer).group(1))
            if status >= 200:
                return status
    raise AssertionError(f"no final answer through Kamailio in {timeout} s")


def queued_calls(node):
    supervisor = requests.post(f"{node.url}/v1/auth/login", json={"username": "supervisor1", "password": "switchboard"}, timeout=5).json()
    tasks = requests.get(f"{node.url}/v1/tasks", headers={"Authorization": f"Bearer {supervisor['token']}"}, timeout=5).json()
    return [task["id"] for task in tasks if task["status"] == "queued"]


def test_calls_through_kamailio_reach_the_active_node_and_after_a_failover_the_new_one(pair, kamailio):
    a, b, sip = sip_pair(pair)
    proxy = kamailio(sip)
    # The standby is node A's backup only in priority: it answers the probes 503, so even as the
    # first choice it would get nothing. A's call is answered (queued, nobody available).
    assert invite(proxy.port) == 200
    [first] = queued_calls(a)

    a.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    b.running()
    # Kamailio finds A gone (no answer: marked inactive) and B up (its probes answered 2xx).
    status = invite(proxy.port, caller="+15550101", timeout=20)
    routed = time.monotonic() - killed
    assert status == 200
    # B has the new call queued, and A's call too: its leg was moved to B (B re-INVITEd the
    # customer, who never answered this test's re-INVITE: the leg ends when that times out).
    assert len(queued_calls(b)) in (1, 2)
    print(f"killed → a call answered through Kamailio by the new node: {routed:.2f} s")


@pytest.fixture
def phones():
    started = []

    def start(*arguments, **options):
        phone = Phone(*arguments, **options)
        started.append(phone)
        return phone

    yield start
    for phone in started:
        phone.close()


def test_a_conference_up_on_the_killed_node_carries_on_with_sound_on_the_new_one(pair, postgres_pair, kamailio, front, phones):
    # Everything at once: the nodes on PostgreSQL with a synchronous standby (through its HAProxy
    # address), Kamailio for SIP, HAProxy for the desktops.
    http = free_port(), free_port()
    a, b, sip = sip_pair(pair, database=postgres_pair.url, http=http)
    proxy, web = kamailio(sip), front(http)
    settled(web)  # desktops through HAProxy: everything to A
    # The agents' phones register through Kamailio (to A, the active node); the agents take
    # calls on them.
    phone1, phone2 = phones("agent1", proxy.port, AGENT1_TONE), phones("agent2", proxy.port, AGENT2_TONE)
    assert phone1.register() == 200 and phone2.register() == 200
    agent1, agent2 = Desk(web.url, "agent1"), Desk(web.url, "agent2")
    for desk in (agent1, agent2):
        assert desk.call("PUT", "/v1/me/station", {"station": "phone"})["station"] == "phone"
    agent1.call("PUT", "/v1/me/state", {"state": "available"})

    # A customer calls through Kamailio; agent1's phone answers (the offer accepted); agent1
    # consults agent2, whose phone answers; agent1 conferences everyone.
    customer = phones("customer", proxy.port, CUSTOMER_TONE, user="+15550100")
    status, call_id = customer.call("2001")
    assert status == 200

    def connected():
        tasks = [t for t in agent1.call("GET", "/v1/tasks") if t["customer"]["number"] == "+15550100"]
        return tasks[0] if tasks and participant(tasks[0], "agent1")["state"] == "connected" else None
    task = eventually(connected, "agent1 connected by answering the phone")["id"]
    agent2.call("PUT", "/v1/me/state", {"state": "available"})
    agent1.call("POST", f"/v1/tasks/{task}/consult", {"destinationType": "agent", "to": "agent2"})
    eventually(lambda: participant(agent1.call("GET", f"/v1/tasks/{task}"), "agent2")["state"] == "connected", "agent2's phone to answer")
    before = agent1.call("POST", f"/v1/tasks/{task}/consult/conference")
    assert before["status"] == "conferenced"
    start = time.monotonic() + 0.5
    on_a = {phone.name: heard(phone, start) for phone in (customer, phone1, phone2)}
    assert on_a["agent1"].scores[CUSTOMER_TONE] > HEARD and on_a["agent1"].scores[AGENT2_TONE] > HEARD, on_a["agent1"].describe()

    a.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    b.running()

    # B finds the three legs A wrote down and re-INVITEs each, offering its own media port: the
    # customer's through Kamailio (the recorded route), the phones' too (they registered
    # through it). Each answers; their audio goes to B from then on.
    def moved(phone):
        invites = phone.received("INVITE")
        return invites[-1] if len(invites) >= 2 or (phone is customer and invites) else None
    moves = {phone.name: eventually(lambda: moved(phone), f"B's re-INVITE to {phone.name}", timeout=15)
             for phone in (customer, phone1, phone2)}
    for name, (arrival, reinvite) in moves.items():
        port = int(re.search(r"^m=audio (\d+) ", reinvite.body, re.MULTILINE).group(1))
        assert 32000 <= port <= 32999, f"{name} is moved to a port of B's: {reinvite.body}"
        assert reinvite.get("Contact") == f"<sip:switchboard@127.0.0.1:{sip[1]}>", reinvite.get("Contact")
    assert moves["customer"][1].get("Call-ID") == call_id, "in the customer's own dialog"
    # One session going on (RFC 3264 §8): the same o= session ID as A's SDP to each, the next version.
    firsts = {"customer": customer.calls[call_id]["sdp"], "agent1": phone1.received("INVITE")[0][1].body,
              "agent2": phone2.received("INVITE")[0][1].body}
    for name, body in firsts.items():
        session, version = sdp_origin(body)
        assert sdp_origin(moves[name][1].body) == (session, version + 1), (name, body, moves[name][1].body)
    reanchored = max(arrival for arrival, _ in moves.values()) - killed
    start = max(arrival for arrival, _ in moves.values()) + 0.5
    on_b = {phone.name: heard(phone, start) for phone in (customer, phone1, phone2)}
    print(f"killed → every leg re-INVITEd by the new node: {reanchored:.2f} s")
    for name, tones in {"customer": (AGENT1_TONE, AGENT2_TONE), "agent1": (CUSTOMER_TONE, AGENT2_TONE),
                        "agent2": (CUSTOMER_TONE, AGENT1_TONE)}.items():
        for tone in tones:
            assert on_b[name].scores[tone] > HEARD, f"after the takeover, {name} does not hear {tone} Hz: {on_b[name].describe()}"

    # The conference is the same on B (the desktops, through the same front, now reach B), and
    # the spec's rows go on from there. "Agent 2 can end a conference by clicking Exit Conference;
    # the call continues between Agent 1 and the customer": B hangs up agent2's phone; the two
    # others still hear each other.
    after = eventually(lambda: fetched(agent1, f"/v1/tasks/{task}"), "the task through the front after the failover")
    assert (after["status"], after["version"]) == (before["status"], before["version"]), after
    agent2.call("POST", f"/v1/tasks/{task}/conference/exit")
    eventually(lambda: phone2.received("BYE"), "B's BYE to agent2's phone")
    start = time.monotonic() + 0.5
    customer_hears, agent1_hears = heard(customer, start), heard(phone1, start)
    assert customer_hears.scores[AGENT1_TONE] > HEARD and customer_hears.scores[AGENT2_TONE] < HEARD, customer_hears.describe()
    assert agent1_hears.scores[CUSTOMER_TONE] > HEARD, agent1_hears.describe()
    # Agent 1 ends the call: B hangs up the customer (through Kamailio) and agent1's phone; wrap-up.
    agent1.call("POST", f"/v1/tasks/{task}/end")
    eventually(lambda: customer.received("BYE") and phone1.received("BYE"), "B's BYEs to the customer and agent1's phone")
    agent1.call("POST", f"/v1/tasks/{task}/wrapup", {"wrapUpCodeId": "resolved"})

    # A new call through Kamailio reaches B and rings an agent's phone (whichever is offered the
    # call): both registered with A only; B read the registrations A wrote down.
    rung = {phone.name: len(phone.received("INVITE")) for phone in (phone1, phone2)}
    second = phones("customer2", proxy.port, CUSTOMER_TONE, user="+15550101")
    assert second.call("2001")[0] == 200
    eventually(lambda: any(len(phone.received("INVITE")) > rung[phone.name] for phone in (phone1, phone2)),
               "B to ring an agent's phone for the new call")
