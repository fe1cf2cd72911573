"""SIP over TLS (RFC 3261 §26, RFC 5630) against a running server with its self-signed certificate:
requests over TLS are answered on the connection, a phone registers with digest over it, sips:
URIs over UDP are refused, and hostile bytes on the TLS port change nothing else."""
import hashlib
import re
import socket
import ssl
import time
import uuid

from conftest import DEADLINE, LOCALHOST, SipMessage
from test_wire_abuse import closed_by_server, read_tcp_message


def tls_connection(server):
    """A TLS client connection to the server's SIP over TLS port (its certificate is self-signed:
    the test checks it is the one the server made, not a chain)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((LOCALHOST, server.tls_port), timeout=DEADLINE)
    return context.wrap_socket(raw, server_hostname=LOCALHOST)


def request(method, uri, local_port, call_id, cseq=1, extra=(), transport="TLS"):
    lines = [f"{method} {uri} SIP/2.0",
             f"Via: SIP/2.0/{transport} {LOCALHOST}:{local_port};branch=z9hG4bK{uuid.uuid4().hex};rport",
             "Max-Forwards: 70",
             f"From: <sip:agent1@{LOCALHOST}>;tag=tls{call_id[:6]}",
             f"To: <sip:agent1@{LOCALHOST}>",
             f"Call-ID: {call_id}",
             f"CSeq: {cseq} {method}",
             *extra,
             "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def exchange(connection, data):
    connection.sendall(data)
    return read_tcp_message(connection, time.monotonic() + DEADLINE)


def test_options_over_tls_is_answered_on_the_connection_with_its_via(server):
    assert server.tls_port, "the server said where SIP over TLS listens"
    with tls_connection(server) as connection:
        assert connection.version() in ("TLSv1.2", "TLSv1.3"), connection.version()
        call_id = f"ping-{uuid.uuid4().hex}"
        answer = exchange(connection, request("OPTIONS", f"sip:{LOCALHOST}:{server.tls_port};transport=tls",
                                              connection.getsockname()[1], call_id))
        assert answer.status == 200, answer.text
        assert answer.header("Call-ID") == call_id
        assert answer.header("Via").startswith("SIP/2.0/TLS"), answer.header("Via")


def digest(challenge, method, uri, password="switchboard"):
    fields = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge[7:]))
    ha1 = hashlib.md5(f"agent1:{fields['realm']}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{fields['nonce']}:00000001:c0ffee:auth:{ha2}".encode()).hexdigest()
    return (f'Digest username="agent1", realm="{fields["realm"]}", nonce="{fields["nonce"]}", uri="{uri}", '
            f'response="{response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"')


def test_a_phone_registers_over_tls_with_digest_and_a_sips_contact(server):
    with tls_connection(server) as connection:
        local = connection.getsockname()[1]
        uri, call_id = f"sips:{LOCALHOST}:{server.tls_port}", f"reg-{uuid.uuid4().hex}"
        contact = f"Contact: <sips:agent1@{LOCALHOST}:{local}>"
        challenge = exchange(connection, request("REGISTER", uri, local, call_id, 1, [contact, "Expires: 600"]))
        assert challenge.status == 401, challenge.text
        md5 = next(value for value in challenge.headers("WWW-Authenticate") if "MD5" in value)
        ok = exchange(connection, request("REGISTER", uri, local, call_id, 2,
                                          [contact, "Expires: 600", f"Authorization: {digest(md5, 'REGISTER', uri)}"]))
        assert ok.status == 200, ok.text
        assert ok.headers("Contact") and ok.headers("Contact")[0].startswith("<sips:agent1@"), ok.text


def test_a_sips_uri_over_udp_is_refused_416_and_not_served_in_the_clear(server):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOCALHOST, 0))
    try:
        call_id = f"clear-{uuid.uuid4().hex}"
        sock.settimeout(DEADLINE)
        sock.sendto(request("OPTIONS", f"sips:{LOCALHOST}:{server.sip_port}", sock.getsockname()[1], call_id,
                            transport="UDP"), (LOCALHOST, server.sip_port))
        answer = SipMessage("received", sock.recvfrom(65536)[0].decode())
        assert answer.status == 416, answer.text
        assert "TLS" in answer.reason
    finally:
        sock.close()


def test_bytes_that_are_not_tls_and_a_malformed_message_inside_tls_leave_the_server_serving(server):
    plain = socket.create_connection((LOCALHOST, server.tls_port), timeout=DEADLINE)
    try:
        plain.sendall(request("OPTIONS", f"sip:{LOCALHOST}", plain.getsockname()[1], "not-tls", transport="TCP"))
        closed_by_server(plain, time.monotonic() + DEADLINE)
    finally:
        plain.close()
    with tls_connection(server) as connection:
        bad = request("OPTIONS", f"sip:{LOCALHOST}", connection.getsockname()[1], "bad").replace(b"SIP/2.0\r\n", b"SIP/7.0\r\n", 1)
        assert exchange(connection, bad).status == 505
        answer = exchange(connection, request("OPTIONS", f"sip:{LOCALHOST}", connection.getsockname()[1], "good"))
        assert answer.status == 200, answer.text


def test_rfc4475s_torture_messages_and_garbage_inside_tls_change_nothing_else(server):
    """Each of RFC 4475's 49 messages inside a TLS connection of its own (whatever it gets: an
    answer, or the connection closed for broken framing), then 64 KB of random bytes inside another:
    afterwards a well-formed OPTIONS over TLS is answered 200 and the server runs on."""
    import random
    from test_wire_abuse import torture_cases
    for case in torture_cases():
        with tls_connection(server) as connection:
            connection.sendall(case["bytes"] if case["bytes"].endswith(b"\r\n\r\n") or b"Content-Length" in case["bytes"]
                               else case["bytes"] + b"\r\n\r\n")
            connection.settimeout(0.5)
            try:
                connection.recv(65536)  # an answer, or nothing, or the close: any of them is fine
            except (socket.timeout, ConnectionResetError, ssl.SSLError, OSError):
                pass
    rng = random.Random(4475)
    with tls_connection(server) as connection:
        try:
            for _ in range(8):
                connection.sendall(bytes(rng.randrange(256) for _ in range(8192)))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass  # closed for broken framing before all of it went
    with tls_connection(server) as connection:
        answer = exchange(connection, request("OPTIONS", f"sip:{LOCALHOST}", connection.getsockname()[1], "after-torture"))
        assert answer.status == 200, answer.text
    assert server.process.poll() is None
