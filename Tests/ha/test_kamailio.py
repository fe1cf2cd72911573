"""Customers' calls through Kamailio (deploy/kamailio.cfg) in front of the pair: a call reaches
the active node; the standby answers Kamailio's probes 503 and gets none; when the active node is
killed, the next call goes to the new active node (and the call that lived on the dead node is
ended, not left queued: carrying calls over is not built yet)."""
import re
import signal
import socket
import time
import uuid

import requests

from conftest import free_port


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
    sip = free_port(), free_port()
    a = pair("a", sip_port=sip[0], rtp_ports="31000-31999")
    a.running()
    b = pair("b", sip_port=sip[1], rtp_ports="32000-32999")
    b.standing_by()
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
    # B has the new call queued. A's call, whose SIP leg lived on A, was ended when B took over
    # (B finds the leg written down and hangs it up, as after a crash): not left queued.
    [second] = queued_calls(b)
    assert second != first
    print(f"killed → a call answered through Kamailio by the new node: {routed:.2f} s")
