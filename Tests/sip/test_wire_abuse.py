"""Abuse on the SIP port, over the wire, against a running server: RFC 4475's torture messages as
UDP datagrams, a flood of garbage datagrams during a live call, and TCP connections that never
finish a message (half a REGISTER; 100 KB without an end of headers). Each test has its own server
(the `server` fixture) and stops every peer it starts; every wait has a deadline."""
import json
import os
import random
import re
import select
import socket
import time
import uuid

import test_robustness as robustness
from conftest import DEADLINE, LOCALHOST, ROOT, Server, SipMessage, eventually, first

TORTURE = os.path.join(ROOT, "Tests", "SIPTests", "Fixtures", "torture")

# What the server owes each torture message it can answer, as a UAS and registrar (not a proxy).
# Requests with no line here are answered as expected.json's `response` says.
ANY_2XX_4XX = frozenset(range(200, 300)) | frozenset(range(400, 500))
NOT_A_ROUTE = frozenset({403, 404, 480})  # an INVITE to a number the center does not serve
OWED = {
    # valid; wsinv's To has a tag, so it is a request within a dialog the server does not know: 481
    # (RFC 3261 §12.2.2), where an INVITE out of any dialog would be refused for its number
    "wsinv": {481}, "esc01": NOT_A_ROUTE, "longreq": NOT_A_ROUTE,
    "intmeth": {501}, "esc02": {501},
    "escnull": {401}, "dblreq": {401},
    "lwsdisp": {200}, "semiuri": {200}, "transports": {200},
    "mpart01": {405},
    # invalid, where the RFC allows a choice or leniency
    "mismatch02": {400, 501},
    "baddate": ANY_2XX_4XX, "escruri": ANY_2XX_4XX, "regbadct": ANY_2XX_4XX, "badaspec": ANY_2XX_4XX,
    # semantic: an endpoint answers an OPTIONS with Max-Forwards 0 itself (483 is a proxy's)
    "zeromf": {200},
    # REGISTERs without credentials are challenged; an RFC 2543 INVITE goes nowhere either
    "cparam01": {401}, "cparam02": {401}, "regescrt": {401},
    "inv2543": NOT_A_ROUTE,
}

VIA_NAME = re.compile(rb"^(?:via|v)[ \t]*:[ \t]*", re.IGNORECASE)
SENT_PROTOCOL = re.compile(rb"^\s*SIP\s*/\s*[0-9.]+\s*/\s*[A-Za-z]+\s+\S")


def torture_cases():
    with open(os.path.join(TORTURE, "expected.json"), encoding="utf-8") as listing:
        cases = json.load(listing)
    assert len(cases) == 49, f"RFC 4475's corpus has 49 messages, expected.json lists {len(cases)}"
    for case in cases:
        with open(os.path.join(TORTURE, case["name"] + ".sip"), "rb") as message:
            case["bytes"] = message.read()
    return cases


def owed(case):
    """The statuses the server may answer this torture message with; empty: no answer at all."""
    if case["name"] in OWED:
        return set(OWED[case["name"]])
    return {case["response"]} if case["response"] is not None else set()


def header_block(data):
    """The bytes of the start line and header fields: up to the first CRLF CRLF, or all of them
    (baddn has no empty line after its last field)."""
    end = data.find(b"\r\n\r\n")
    return data if end < 0 else data[:end]


def header_values(data, name, compact):
    """The values of a header field (by its name or compact form, folded lines joined)."""
    fields = []
    for line in header_block(data).split(b"\r\n")[1:]:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += b" " + line.strip()
        else:
            field, colon, value = line.partition(b":")
            fields.append([field.strip().lower() if colon else None, value.strip()])
    return [value.decode("utf-8", errors="replace") for field, value in fields if field in (name, compact)]


def with_top_via_here(data, port):
    """The message with its top Via's sent-protocol and sent-by made `SIP/2.0/UDP 127.0.0.1:<port>`,
    its parameters (branch included, whatever its value) kept as they are, and `rport` added unless
    there; every other byte unchanged. None when there is no Via whose sent-by can be read.

    One exception: where the parameters hold an empty one (badinv01's `;;`, the fault under test),
    they are kept byte for byte and no `rport` is added, since appending it would move the empty
    parameter from the end into the middle and change the fault. The answer still comes here: the
    sent-by names this socket's address and port (RFC 3261 §18.2.2)."""
    block = header_block(data)
    lines = block.split(b"\r\n")
    offset = len(lines[0]) + 2
    for index in range(1, len(lines)):
        name = VIA_NAME.match(lines[index])
        if name:
            break
        offset += len(lines[index]) + 2
    else:
        return None
    # The field's value runs over its continuation lines (lines starting with SP or HT).
    last = index
    while last + 1 < len(lines) and lines[last + 1][:1] in (b" ", b"\t"):
        last += 1
    start = offset + name.end()
    end = offset + len(b"\r\n".join(lines[index:last + 1]))
    value = data[start:end]
    # The top Via is the field's first via-parm: up to the first comma outside quotes.
    quoted, comma = False, len(value)
    for position, byte in enumerate(value):
        if byte == 0x22:
            quoted = not quoted
        elif byte == 0x2C and not quoted:
            comma = position
            break
    top, rest = value[:comma], value[comma:]
    if not SENT_PROTOCOL.match(top):
        return None
    semicolon = top.find(b";")
    parameters = b"" if semicolon < 0 else top[semicolon:]
    kept = parameters.rstrip(b" \t\r\n")
    trailing = parameters[len(kept):]
    names = [part.split(b"=", 1)[0].strip().lower() for part in kept.split(b";")[1:]]
    if b"rport" not in names and b"" not in names:
        kept += b";rport"
    top = b"SIP/2.0/UDP " + f"{LOCALHOST}:{port}".encode() + kept + trailing
    return data[:start] + top + rest + data[end:]


def udp_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOCALHOST, 0))
    return sock


def options_answered(sock, sip_port, what):
    """An OPTIONS from `sock` (sent again every 500 ms) is answered 200; returns the answer."""
    call_id = f"ping-{uuid.uuid4().hex}@{LOCALHOST}"
    datagram = robustness.VALID_OPTIONS.format(host=LOCALHOST, port=sip_port, me=sock.getsockname()[1],
                                               branch=uuid.uuid4().hex, call_id=call_id).encode()
    answers = robustness.answers_to(sock, (LOCALHOST, sip_port), [(datagram, call_id)])
    assert call_id in answers, f"no answer to OPTIONS {what}"
    assert answers[call_id].status == 200, f"OPTIONS {what}: {answers[call_id].start_line}"
    return answers[call_id]


# MARK: 1. RFC 4475 over UDP

def test_rfc4475_torture_datagrams_get_the_status_a_uas_owes_and_never_stop_the_server(server):
    """RFC 4475's 49 messages, each a datagram from its own socket, all sent before any answer is
    read. To receive the answers, each message's TOP Via is rewritten before sending to
    `SIP/2.0/UDP 127.0.0.1:<that socket's port>` with its parameters kept (the branch value too,
    badbranch's bare `z9hG4bK` included) and `;rport` added: the corpus's Vias name made-up hosts
    (and some TCP or TLS), and a server sends a UDP response to the Via's sent-by port, or the source
    port only where `rport` asks (RFC 3261 §18.2.2, RFC 3581 §4). (badinv01 alone gets no `rport`:
    its Via's fault is an empty parameter at the end, which appending would move; see
    `with_top_via_here`.) Every other byte is the corpus's
    (Content-Length counts the body only, so nothing is recomputed). A message with no readable Via
    would be sent as it is and be owed no answer (none in this corpus).

    Answers are matched to requests by socket and Call-ID (insuf has none, multi01 two: by socket
    alone). A request owed an answer is sent again every 500 ms until its final response (the
    server answers retransmissions from its transactions). Requests that get no answer (the
    responses in the corpus) are checked after the rest have been answered, and after an OPTIONS
    from the same socket has had its 200: nothing else came on that socket. Then the server is
    still running and answers OPTIONS."""
    cases = torture_cases()
    target = (LOCALHOST, server.sip_port)
    by_socket = {}
    try:
        for case in cases:
            sock = udp_socket()
            by_socket[sock] = case
            case["socket"] = sock
            rewritten = with_top_via_here(case["bytes"], sock.getsockname()[1])
            case["sent"] = case["bytes"] if rewritten is None else rewritten
            case["owed"] = owed(case) if rewritten is not None else set()
            call_ids = header_values(case["bytes"], b"call-id", b"i")
            case["call_id"] = call_ids[0] if len(call_ids) == 1 else None
            case["received"] = []
            sock.sendto(case["sent"], target)

        def final(case):
            return next((m for m in case["received"] if m.is_response and m.status >= 200), None)

        def receive_until(done, resend, what):
            """Files every datagram under its socket's case until `done()`, calling `resend()`
            every 500 ms; fails at the deadline."""
            deadline = time.monotonic() + DEADLINE
            next_resend = time.monotonic() + 0.5
            while not done():
                now = time.monotonic()
                assert now < deadline, f"waited {DEADLINE:g} s for {what}"
                if now >= next_resend:
                    resend()
                    next_resend = now + 0.5
                readable, _, _ = select.select(list(by_socket), [], [], max(0.0, min(next_resend, deadline) - now))
                for sock in readable:
                    data, _ = sock.recvfrom(65536)
                    by_socket[sock]["received"].append(SipMessage("received", data.decode("utf-8", errors="replace")))

        def resend_unanswered():
            for case in cases:
                if case["owed"] and final(case) is None:
                    case["socket"].sendto(case["sent"], target)

        try:
            receive_until(lambda: all(final(case) for case in cases if case["owed"]), resend_unanswered,
                          "a final answer to every torture request owed one")
        except AssertionError:
            pass  # which ones are missing is reported below, with the rest
        assert server.process.poll() is None, "the server stopped during RFC 4475's messages"

        # The unanswered: an OPTIONS from the same socket is answered, and nothing else came.
        for case in cases:
            if case["owed"]:
                continue
            call_id = f"after-{case['name']}-{uuid.uuid4().hex}@{LOCALHOST}"
            ping = robustness.VALID_OPTIONS.format(
                host=LOCALHOST, port=server.sip_port, me=case["socket"].getsockname()[1],
                branch=uuid.uuid4().hex, call_id=call_id).encode()
            case["socket"].sendto(ping, target)
            receive_until(lambda: any(m.header("Call-ID") == call_id and m.is_response and m.status >= 200
                                      for m in case["received"]),
                          lambda: case["socket"].sendto(ping, target), f"OPTIONS answered after {case['name']}")
            pongs = [m for m in case["received"] if m.header("Call-ID") == call_id]
            assert any(m.status == 200 for m in pongs), f"OPTIONS after {case['name']}: {pongs}"
            case["received"] = [m for m in case["received"] if m.header("Call-ID") != call_id]

        problems = []
        for case in cases:
            name, answers = case["name"], case["received"]
            if not case["owed"]:
                if answers:
                    problems.append(f"{name} ({case['kind']}): owed no answer, got "
                                    + ", ".join(m.start_line for m in answers))
                continue
            answer = final(case)
            if answer is None:
                problems.append(f"{name} ({case['kind']}): owed {sorted(case['owed'])}, got no final answer"
                                + (f" (only {', '.join(m.start_line for m in answers)})" if answers else ""))
                continue
            if case["call_id"] is not None and answer.header("Call-ID") != case["call_id"]:
                problems.append(f"{name}: answered with Call-ID {answer.header('Call-ID')!r}, "
                                f"not the request's {case['call_id']!r}")
            if answer.status not in case["owed"]:
                problems.append(f"{name} ({case['kind']}): owed {sorted(case['owed'])}, got {answer.start_line!r}")
        assert not problems, "RFC 4475 over UDP:\n" + "\n".join(problems)
    finally:
        for sock in by_socket:
            sock.close()

    assert server.process.poll() is None, "the server is still running after all 49 messages"
    with udp_socket() as sock:
        options_answered(sock, server.sip_port, "after RFC 4475's messages")


# MARK: 2. A flood of garbage during a call

FLOOD = 5000
BURST = 500


def test_a_flood_of_garbage_datagrams_leaves_options_answered_and_a_live_call_undisturbed(server, peers, supervisor):
    """5,000 datagrams of random bytes (1 to 1,400 of them, seeded) while a customer's call is up,
    sent in bursts of 500, each burst followed by an OPTIONS answered 200 (sent again every 500 ms),
    so what is measured is the server, not the kernel's socket buffer. Then OPTIONS is answered 200,
    the call's task is as it was, and the customer's BYE is answered 200."""
    customer = peers.customer("customer_calls_and_hangs_up", caller="15550401")
    customer.wait_for("sent", start="ACK")
    before = eventually(lambda: supervisor.task_from("15550401"), "the live call's task")

    rng = random.Random(4475_2024)
    target = (LOCALHOST, server.sip_port)
    flood_deadline = time.monotonic() + 12 * DEADLINE
    with udp_socket() as sock:
        for burst in range(FLOOD // BURST):
            for _ in range(BURST):
                sock.sendto(rng.randbytes(rng.randint(1, 1400)), target)
            assert server.process.poll() is None, f"the server stopped during burst {burst + 1}"
            options_answered(sock, server.sip_port, f"after burst {burst + 1} of {FLOOD // BURST}")
            assert time.monotonic() < flood_deadline, "the flood took too long"
        options_answered(sock, server.sip_port, f"after all {FLOOD} garbage datagrams")

    assert server.process.poll() is None, "the server is still running"
    after = supervisor.task(before["id"])
    assert after is not None and after["status"] == before["status"], after
    assert after["customer"]["state"] == before["customer"]["state"], after
    customer.cue()  # the call is still whole: its BYE is answered
    assert first(customer.succeeded(), "received", status=200, method="BYE")


# MARK: 3. TCP connections that never finish a message

def read_tcp_message(connection, deadline):
    """One SIP message from a stream: header fields up to CRLF CRLF, then Content-Length bytes."""
    data = b""
    while True:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            lengths = header_values(data[:end + 4], b"content-length", b"l")
            assert lengths, f"a message over TCP without Content-Length:\n{data!r}"
            total = end + 4 + int(lengths[0])
            if len(data) >= total:
                return SipMessage("received", data[:total].decode("utf-8", errors="replace"))
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no whole message on the TCP connection in time; got {data!r}"
        connection.settimeout(remaining)
        chunk = connection.recv(65536)
        assert chunk, f"the server closed the TCP connection; got {data!r}"
        data += chunk


def closed_by_server(connection, deadline):
    """Reads until the server closes the connection: EOF, or a reset (the server closing with bytes
    of ours still unread). Any bytes before are returned."""
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"the server kept the connection open past the deadline; got {data!r}"
        connection.settimeout(remaining)
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            return data
        except socket.timeout:
            continue
        if not chunk:
            return data
        data += chunk


def register_over_tcp(sip_port, local_port, call_id, branch):
    return (f"REGISTER sip:{LOCALHOST}:{sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/TCP {LOCALHOST}:{local_port};branch=z9hG4bK{branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:agent1@{LOCALHOST}>;tag=tcp{branch[:8]}\r\n"
            f"To: <sip:agent1@{LOCALHOST}>\r\n"
            f"Call-ID: {call_id}\r\n"
            "CSeq: 1 REGISTER\r\n"
            f"Contact: <sip:agent1@{LOCALHOST}:{local_port};transport=tcp>\r\n"
            "Expires: 3600\r\n"
            "Content-Length: 0\r\n")  # the blank line that ends the header fields is the caller's


def test_half_open_and_unframed_tcp_connections_do_not_stop_udp_calls_or_new_tcp_registrations(server, peers):
    """One TCP connection sends a REGISTER's header fields without the blank line that ends them,
    then nothing, and stays open; another sends 100 KB of bytes with no CR or LF (so no CRLF CRLF).
    Meanwhile an OPTIONS over UDP is answered 200, and a customer's call over UDP (INVITE to
    sip:2000@127.0.0.1:<port>) is answered 200 and its BYE 200. Then a whole REGISTER on a new TCP
    connection gets its 401 on that connection (framed by Content-Length, RFC 3261 §18.3), and the
    server has closed the connection that sent 100 KB with no end of headers (past the largest
    message it takes, 64 KB): reading it ends (EOF, or a reset since bytes of ours were unread)."""
    address = (LOCALHOST, server.sip_port)
    half = socket.create_connection(address, timeout=DEADLINE)
    garbage = socket.create_connection(address, timeout=DEADLINE)
    fresh = None
    try:
        half_port = half.getsockname()[1]
        half.sendall(register_over_tcp(server.sip_port, half_port, f"half-{uuid.uuid4().hex}@{LOCALHOST}",
                                       uuid.uuid4().hex).encode())

        rng = random.Random(18_3)
        noise = bytes(rng.choice([b for b in range(256) if b not in (10, 13)]) for _ in range(100 * 1024))
        sent = 0
        try:
            while sent < len(noise):
                sent += garbage.send(noise[sent:sent + 8192])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close it before all is sent (it is past 64 KB well before 100 KB)
        assert sent > 65_535, f"only {sent} bytes of garbage went out before the server closed"

        with udp_socket() as sock:
            options_answered(sock, server.sip_port, "while two TCP connections hang")
        customer = peers.customer("customer_calls_and_hangs_up", caller="15550402")
        customer.wait_for("received", status=200, method="INVITE")
        customer.wait_for("sent", start="ACK")
        customer.cue()
        assert first(customer.succeeded(), "received", status=200, method="BYE")

        fresh = socket.create_connection(address, timeout=DEADLINE)
        call_id = f"tcp-{uuid.uuid4().hex}@{LOCALHOST}"
        fresh.sendall(register_over_tcp(server.sip_port, fresh.getsockname()[1], call_id, uuid.uuid4().hex)
                      .encode() + b"\r\n")
        answer = read_tcp_message(fresh, time.monotonic() + DEADLINE)
        assert answer.is_response and answer.status == 401, answer.text
        assert answer.header("Call-ID") == call_id, answer.text
        assert answer.header("CSeq") == "1 REGISTER", answer.text
        assert answer.headers("WWW-Authenticate"), answer.text

        closed_by_server(garbage, time.monotonic() + DEADLINE)
        assert server.process.poll() is None, "the server is still running"
    finally:
        for connection in (half, garbage, fresh):
            if connection is not None:
                connection.close()


def test_a_tcp_connection_that_finishes_no_message_within_the_timeout_is_closed_and_one_between_messages_stays_open(
        tmp_path):
    """With `--sip-tcp-timeout 1`: a connection that has sent a whole REGISTER (answered 401) and
    then nothing stays open; a connection that sends nothing, and one that sends half a REGISTER,
    are both closed by the server (EOF) within the deadline, each more than a second after the
    first connection's message was finished. Then the first connection carries a second REGISTER,
    answered 401 on it: a quiet connection between messages (a phone registered over TCP) is kept."""
    server = Server(tmp_path / "switchboard.sqlite", "--drain-seconds", "0", "--sip-tcp-timeout", "1")
    address = (LOCALHOST, server.sip_port)
    connections = []
    try:
        kept = socket.create_connection(address, timeout=DEADLINE)
        connections.append(kept)
        kept_port = kept.getsockname()[1]
        call_id = f"kept-{uuid.uuid4().hex}@{LOCALHOST}"
        kept.sendall(register_over_tcp(server.sip_port, kept_port, call_id, uuid.uuid4().hex).encode() + b"\r\n")
        assert read_tcp_message(kept, time.monotonic() + DEADLINE).status == 401
        finished = time.monotonic()

        silent = socket.create_connection(address, timeout=DEADLINE)
        trickling = socket.create_connection(address, timeout=DEADLINE)
        connections += [silent, trickling]
        trickling.sendall(register_over_tcp(server.sip_port, trickling.getsockname()[1],
                                            f"trickle-{uuid.uuid4().hex}@{LOCALHOST}", uuid.uuid4().hex)
                          .encode()[:120])
        assert closed_by_server(silent, time.monotonic() + DEADLINE) == b""
        assert closed_by_server(trickling, time.monotonic() + DEADLINE) == b""
        assert time.monotonic() - finished > 1.0

        second = register_over_tcp(server.sip_port, kept_port, call_id, uuid.uuid4().hex).replace(
            "CSeq: 1 REGISTER", "CSeq: 2 REGISTER")
        kept.sendall(second.encode() + b"\r\n")
        answer = read_tcp_message(kept, time.monotonic() + DEADLINE)
        assert answer.status == 401 and answer.header("CSeq") == "2 REGISTER", answer.text
        assert server.process.poll() is None, "the server is still running"
    finally:
        for connection in connections:
            connection.close()
        server.stop()
