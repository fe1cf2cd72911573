"""What monitoring tools and phones in the field trip over, each against its own server on loopback:
an OPTIONS ping that accepts only text/plain (sipsak -s, Nagios), a TCP connection trickling a
message, malformed messages over TCP, an SDP offer with telephone-event at three clock rates, an
offer with an IPv6 media address, and callers without a numeric caller ID (withheld, a SIP
address) — answered and queued, and shown sensibly."""
import re
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from conftest import DEADLINE, LOCALHOST, Server, SipMessage, User, eventually
from test_wire_abuse import closed_by_server, read_tcp_message, register_over_tcp


def udp_request(sip_port, text, call_id, final=True):
    """Sends a request from a new UDP socket (again every 500 ms) and returns every answer with its
    Call-ID until a final one (or the first one when `final` is False)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOCALHOST, 0))
    me = sock.getsockname()[1]
    data = text.format(me=me, port=sip_port).encode()
    answers = []
    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline:
            sock.sendto(data, (LOCALHOST, sip_port))
            sock.settimeout(0.5)
            try:
                while True:
                    raw, _ = sock.recvfrom(65536)
                    answer = SipMessage("received", raw.decode("utf-8", errors="replace"))
                    if answer.is_response and answer.header("Call-ID") == call_id:
                        answers.append(answer)
                        if answer.status >= 200 or not final:
                            return answers, sock
            except socket.timeout:
                continue
    except BaseException:
        sock.close()
        raise
    sock.close()
    raise AssertionError(f"no final answer for {call_id}")


def invite(call_id, sdp, from_header="<sip:15550100@127.0.0.1>"):
    body = sdp.replace("\n", "\r\n")
    return ("INVITE sip:2000@127.0.0.1:{port} SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK" + uuid.uuid4().hex + ";rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: {from_header};tag=f{call_id[:6]}\r\n"
            "To: <sip:2000@127.0.0.1>\r\n"
            f"Call-ID: {call_id}\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:caller@127.0.0.1:{me}>\r\n"
            "Content-Type: application/sdp\r\n"
            f"Content-Length: {len(body.encode())}\r\n\r\n" + body)


def offer(address="127.0.0.1", family="IP4", events=(8000,)):
    lines = ["v=0", f"o=caller 1 1 IN {family} {address}", "s=-", f"c=IN {family} {address}", "t=0 0",
             "m=audio 40000 RTP/AVP 0 " + " ".join(str(101 + index) for index in range(len(events)))]
    lines += [f"a=rtpmap:{101 + index} telephone-event/{rate}" for index, rate in enumerate(events)]
    return "\n".join(lines) + "\n"


# MARK: OPTIONS pings

def test_sipsak_s_pings_with_accept_text_plain_and_gets_200(server):
    sipsak = shutil.which("sipsak")
    if sipsak is None:
        pytest.fail("sipsak is not installed (apt-get install -y sipsak)", pytrace=False)
    done = subprocess.run([sipsak, "-s", f"sip:ping@{LOCALHOST}:{server.sip_port}", "-vv"],
                          capture_output=True, text=True, timeout=DEADLINE)
    assert done.returncode == 0, f"sipsak -s exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "200 OK" in done.stdout, done.stdout


# MARK: TCP

def test_a_tcp_message_trickled_a_byte_at_a_time_is_cut_off_at_the_timeout_of_its_first_byte(tmp_path):
    """With `--sip-tcp-timeout 2`, a REGISTER sent one byte every 200 ms (each byte well within the
    timeout of the last) is cut off: the server closes the connection between 2 and 4 s after the
    message's first byte, long before the message would be whole."""
    server = Server(tmp_path / "switchboard.sqlite", "--drain-seconds", "0", "--sip-tcp-timeout", "2")
    connection = socket.create_connection((LOCALHOST, server.sip_port), timeout=DEADLINE)
    try:
        message = register_over_tcp(server.sip_port, connection.getsockname()[1], "trickle@x", uuid.uuid4().hex).encode()
        started = time.monotonic()
        closed_at = None
        for byte in message:  # bounded: the message's length
            try:
                connection.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed_at = time.monotonic()
                break
            connection.settimeout(0.2)
            try:
                if connection.recv(65536) == b"":
                    closed_at = time.monotonic()
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed_at = time.monotonic()
                break
        assert closed_at is not None, "the server let the trickling connection finish its message"
        assert 2.0 <= closed_at - started <= 4.5, f"closed {closed_at - started:.1f} s after the first byte"
    finally:
        connection.close()
        server.stop()


def tcp_request(connection, head, body=b""):
    connection.sendall(head.encode() + body)
    return read_tcp_message(connection, time.monotonic() + DEADLINE)


def bad_over_tcp(port, local, fault):
    """A REGISTER over TCP with one fault: the framing (Content-Length) stays sound unless said."""
    branch = uuid.uuid4().hex
    lines = [f"REGISTER sip:{LOCALHOST}:{port} SIP/2.0",
             f"Via: SIP/2.0/TCP {LOCALHOST}:{local};branch=z9hG4bK{branch};rport",
             "Max-Forwards: 70",
             f"From: <sip:agent1@{LOCALHOST}>;tag=t{branch[:6]}",
             f"To: <sip:agent1@{LOCALHOST}>",
             f"Call-ID: {fault}-{branch}",
             "CSeq: 1 REGISTER",
             "Content-Length: 0"]
    if fault == "version":
        lines[0] = lines[0].replace("SIP/2.0", "SIP/7.0")
    elif fault == "cseq":
        lines[6] = "CSeq: 1 INVITE"
    elif fault == "from":
        del lines[3]
    elif fault == "same-lengths":
        lines.append("Content-Length: 0")
    elif fault == "two-lengths":
        lines[-1] = "Content-Length: 4"
        lines.append("Content-Length: 0")
    return "\r\n".join(lines) + "\r\n\r\n"


@pytest.mark.parametrize("fault,status", [("version", 505), ("cseq", 400), ("from", 400), ("same-lengths", 400)])
def test_a_malformed_message_over_tcp_gets_its_error_and_the_connection_carries_the_next(server, fault, status):
    connection = socket.create_connection((LOCALHOST, server.sip_port), timeout=DEADLINE)
    try:
        local = connection.getsockname()[1]
        answer = tcp_request(connection, bad_over_tcp(server.sip_port, local, fault))
        assert answer.status == status, answer.text
        # The framing held: the same connection carries a good REGISTER, answered 401.
        good = register_over_tcp(server.sip_port, local, f"after-{fault}@x", uuid.uuid4().hex) + "\r\n"
        assert tcp_request(connection, good).status == 401
    finally:
        connection.close()


def test_two_content_lengths_that_disagree_get_400_and_then_the_connection_closes(server):
    connection = socket.create_connection((LOCALHOST, server.sip_port), timeout=DEADLINE)
    try:
        connection.sendall(bad_over_tcp(server.sip_port, connection.getsockname()[1], "two-lengths").encode())
        data = closed_by_server(connection, time.monotonic() + DEADLINE)
        assert data.startswith(b"SIP/2.0 400 "), data
        assert server.process.poll() is None
    finally:
        connection.close()


# MARK: SDP

def hang_up(sock, sip_port, ok, call_id):
    """ACKs the 200 and BYEs the call from the caller's socket."""
    me = sock.getsockname()[1]
    to = ok.header("To")
    for method, cseq in (("ACK", 1), ("BYE", 2)):
        sock.sendto((f"{method} sip:switchboard@127.0.0.1:{sip_port} SIP/2.0\r\n"
                     f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{uuid.uuid4().hex};rport\r\n"
                     "Max-Forwards: 70\r\n"
                     f"From: <sip:15550100@127.0.0.1>;tag=f{call_id[:6]}\r\nTo: {to}\r\nCall-ID: {call_id}\r\n"
                     f"CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n").encode(), (LOCALHOST, sip_port))


def test_the_answer_keeps_only_the_telephone_event_at_the_audio_clock(server):
    call_id = f"events-{uuid.uuid4().hex}"
    answers, sock = udp_request(server.sip_port, invite(call_id, offer(events=(48000, 16000, 8000))), call_id)
    try:
        ok = answers[-1]
        assert ok.status == 200, ok.text
        events = re.findall(r"^a=rtpmap:(\d+) telephone-event/(\d+)", ok.body, re.MULTILINE)
        assert events == [("103", "8000")], ok.body
        media = re.search(r"^m=audio \d+ RTP/AVP ([\d ]+)", ok.body, re.MULTILINE).group(1).split()
        assert media == ["0", "103"], ok.body
        hang_up(sock, server.sip_port, ok, call_id)
    finally:
        sock.close()


def test_an_offer_with_an_ipv6_media_address_is_488_as_media_goes_over_ipv4(server, supervisor):
    call_id = f"six-{uuid.uuid4().hex}"
    answers, sock = udp_request(server.sip_port, invite(call_id, offer(address="::1", family="IP6")), call_id)
    sock.close()
    assert answers[-1].status == 488, answers[-1].text
    assert "address family" in answers[-1].reason
    assert supervisor.tasks() == [], "nothing was queued"


# MARK: Callers without a number

@pytest.mark.parametrize("from_header,label", [
    ('"Anonymous" <sip:anonymous@anonymous.invalid>', "Withheld number"),
    ('"Alice" <sip:alice@example.com>', "Alice (alice@example.com)"),
    ('<sip:+1-555-0100@127.0.0.1;user=phone>', "+15550100"),
])
def test_a_caller_without_a_numeric_caller_id_is_answered_and_queued_and_shown_sensibly(server, supervisor, from_header, label):
    call_id = f"caller-{uuid.uuid4().hex}"
    answers, sock = udp_request(server.sip_port, invite(call_id, offer(), from_header=from_header), call_id)
    try:
        ok = answers[-1]
        assert ok.status == 200, ok.text
        tasks = eventually(lambda: supervisor.tasks() or None, "the call is queued")
        assert [task["customer"]["label"] for task in tasks] == [label], tasks
        customer = tasks[0]["customer"]
        assert customer["withheld"] == (label == "Withheld number"), customer
        if label == "Withheld number":
            assert "number" not in customer and "name" not in customer, customer
        hang_up(sock, server.sip_port, ok, call_id)
    finally:
        sock.close()


# MARK: The media port pool

def test_every_pair_of_rtp_ports_serves_a_call_round_after_round_and_a_full_pool_is_503_with_retry_after(tmp_path):
    """With `--rtp-ports 21000-21019` (10 pairs): five rounds of 10 customers' calls, each round
    hung up before the next, are all answered 200 — whichever media shard each call hashes to — and
    an 11th call while 10 are up is 503 with Retry-After."""
    server = Server(tmp_path / "switchboard.sqlite", "--drain-seconds", "0", "--rtp-ports", "21000-21019")
    supervisor = User(server, "supervisor1")
    try:
        for round_number in range(5):
            calls = []
            try:
                for index in range(10):
                    call_id = f"pool-{round_number}-{index}-{uuid.uuid4().hex}"
                    answers, sock = udp_request(server.sip_port, invite(call_id, offer()), call_id)
                    calls.append((sock, answers[-1], call_id))
                    assert answers[-1].status == 200, f"round {round_number}, call {index}: {answers[-1].start_line}"
                extra = f"pool-extra-{uuid.uuid4().hex}"
                answers, sock = udp_request(server.sip_port, invite(extra, offer()), extra)
                sock.close()
                assert answers[-1].status == 503, answers[-1].text
                assert int(answers[-1].header("Retry-After")) > 0, answers[-1].text
            finally:
                for sock, ok, call_id in calls:
                    hang_up(sock, server.sip_port, ok, call_id)
            eventually(lambda: supervisor.tasks() == [], "every call of the round has ended")
            for sock, _, _ in calls:
                sock.close()
    finally:
        server.stop()
