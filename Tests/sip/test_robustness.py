"""Garbage on the SIP port (UDP): random datagrams and malformed requests neither stop the server
nor disturb a live call; a malformed request whose Via, From, To, Call-ID and CSeq can be read is
answered 400 (RFC 3261 §8.2, §18.3), anything else is dropped."""
import random
import socket
import time
import uuid

from conftest import DEADLINE, LOCALHOST, SipMessage, eventually, first

VALID_OPTIONS = (
    "OPTIONS sip:{host}:{port} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP {host}:{me};branch=z9hG4bK{branch};rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:fuzz@{host}>;tag=fuzz\r\n"
    "To: <sip:{host}:{port}>\r\n"
    "Call-ID: {call_id}\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n")


def malformed_requests(host, port, me):
    """(name, datagram, Call-ID) of requests that are broken in one way each, with readable Via,
    From, To, Call-ID and CSeq: each is owed a 400."""
    def request(call_id, max_forwards="70", cseq="1 OPTIONS", length="0", body=""):
        return (f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {host}:{me};branch=z9hG4bK{uuid.uuid4().hex};rport\r\n"
                f"Max-Forwards: {max_forwards}\r\n"
                f"From: <sip:fuzz@{host}>;tag=malformed\r\n"
                f"To: <sip:{host}:{port}>\r\n"
                f"Call-ID: {call_id}\r\n"
                f"CSeq: {cseq}\r\n"
                f"Content-Length: {length}\r\n\r\n{body}").encode()

    cases = []
    for name, options in [
        ("Max-Forwards is not a number", {"max_forwards": "seventy"}),
        ("the CSeq method is not the request's", {"cseq": "1 INVITE"}),
        ("Content-Length is past the datagram's end", {"length": "500", "body": "v=0\r\n"}),
        ("Content-Length is not a number", {"length": "many"}),
    ]:
        call_id = f"malformed-{uuid.uuid4().hex}@{host}"
        cases.append((name, request(call_id, **options), call_id))
    return cases


def unreadable_datagrams(host, port):
    """Broken beyond answering: no Via, no end of headers, not UTF-8, a response from nowhere."""
    return [
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n".encode(),
        f"INVITE sip:2000@{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:9;branch=z9hG4bKcut".encode(),
        b"\xff\xfe\x00INVITE \xc3\x28 SIP/2.0\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnone\r\n\r\n",
        b"\r\n", b"", b" ", b"SIP/2.0", b"INVITE", b"\x00" * 1400,
    ]


def random_datagrams(rng, host, port, me, count=200):
    """Pure noise, and valid OPTIONS with a few bytes changed at random."""
    datagrams = []
    for index in range(count):
        if index % 4 == 3:
            text = bytearray(VALID_OPTIONS.format(host=host, port=port, me=me, branch=uuid.uuid4().hex,
                                                  call_id=f"fuzz-{index}@{host}").encode())
            for _ in range(rng.randint(1, 8)):
                text[rng.randrange(len(text))] = rng.randrange(256)
            datagrams.append(bytes(text))
        else:
            datagrams.append(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 1400))))
    return datagrams


def answers_to(sock, target, requests, timeout=DEADLINE):
    """Sends each (datagram, Call-ID) and reads responses until each Call-ID has one, sending the
    unanswered again every 500 ms as a UA over UDP would (T1, RFC 3261 §17.1.2.2): a burst of
    garbage may fill the server's receive buffer, where the kernel drops what comes next."""
    found = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(requests) and time.monotonic() < deadline:
        for datagram, call_id in requests:
            if call_id not in found:
                sock.sendto(datagram, target)
        resend = min(deadline, time.monotonic() + 0.5)
        while len(found) < len(requests) and time.monotonic() < resend:
            sock.settimeout(max(0.01, resend - time.monotonic()))
            try:
                data, _ = sock.recvfrom(65536)
            except socket.timeout:
                break
            message = SipMessage("received", data.decode("utf-8", errors="replace"))
            call_id = message.header("Call-ID")
            if message.is_response and any(call_id == wanted for _, wanted in requests):
                found.setdefault(call_id, message)
    return found


def test_garbage_datagrams_and_malformed_requests_leave_options_answered_and_a_live_call_undisturbed(
        server, peers, supervisor):
    customer = peers.customer("customer_calls_and_hangs_up", caller="15550301")
    customer.wait_for("sent", start="ACK")
    before = eventually(lambda: supervisor.task_from("15550301"), "the live call's task")

    target = (LOCALHOST, server.sip_port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOCALHOST, 0))
        me = sock.getsockname()[1]
        for datagram in random_datagrams(random.Random(20261201), LOCALHOST, server.sip_port, me):
            sock.sendto(datagram, target)
        for datagram in unreadable_datagrams(LOCALHOST, server.sip_port):
            sock.sendto(datagram, target)
        cases = malformed_requests(LOCALHOST, server.sip_port, me)
        answers = answers_to(sock, target, [(datagram, call_id) for _, datagram, call_id in cases])
    for name, _, call_id in cases:
        assert call_id in answers, f"no answer to a request where {name}"
        assert answers[call_id].status == 400, f"{name}: {answers[call_id].start_line}"
        assert answers[call_id].header("Via", "").startswith(f"SIP/2.0/UDP {LOCALHOST}:{me}")

    assert server.process.poll() is None, "the server is still running"
    ping = peers.client("peer_pings_with_options").succeeded()
    ok = first(ping, "received", status=200, method="OPTIONS")
    assert "INVITE" in ok.header("Allow", ""), ok.text

    after = supervisor.task(before["id"])
    assert after is not None and after["status"] == before["status"] == "queued", after
    assert after["customer"]["state"] == before["customer"]["state"], after
    customer.cue()  # the call is still whole: its BYE is answered
    assert first(customer.succeeded(), "received", status=200, method="BYE")
    eventually(lambda: supervisor.task(before["id"]) is None
               or supervisor.task(before["id"])["status"] == "ended", "the task to end")
