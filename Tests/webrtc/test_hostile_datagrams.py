"""Hostile datagrams at a browser session's media port, from a raw UDP socket that knows what the
SDP answer tells (the port, the server's ICE ufrag and password) but is not the browser: each is
dropped, counted in /metrics by reason (switchboard_webrtc_dropped_total), and the call goes on."""
import hashlib
import hmac
import os
import re
import socket
import struct
import threading
import zlib

from conftest import dropped, eventually, hears_exactly, on_a_call

RTP_PORTS = "21800-21999"
MAGIC_COOKIE = 0x2112A442


def attribute(kind, value):
    return struct.pack("!HH", kind, len(value)) + value + b"\x00" * (-len(value) % 4)


def binding_request(username, password, transaction_id):
    """A STUN Binding request (RFC 5389) as an ICE agent sends it: USERNAME, PRIORITY,
    ICE-CONTROLLING, MESSAGE-INTEGRITY (HMAC-SHA1 under `password`), FINGERPRINT."""
    attributes = (attribute(0x0006, username.encode()) + attribute(0x0024, struct.pack("!I", 0x6E7F1EFF))
                  + attribute(0x802A, os.urandom(8)))

    def header(length):
        return struct.pack("!HHI", 0x0001, length, MAGIC_COOKIE) + transaction_id

    # MESSAGE-INTEGRITY covers the message up to it, with the length counting it (24 bytes).
    integrity = hmac.new(password.encode(), header(len(attributes) + 24) + attributes, hashlib.sha1).digest()
    attributes += attribute(0x0008, integrity)
    # FINGERPRINT: CRC-32 of everything before it (the length counting it, 8 bytes) XOR 0x5354554E.
    crc = (zlib.crc32(header(len(attributes) + 8) + attributes) ^ 0x5354554E) & 0xFFFFFFFF
    attributes += attribute(0x8028, struct.pack("!I", crc))
    return header(len(attributes)) + attributes


def media_of(answer):
    """The server's port, ICE ufrag and password, from its SDP answer."""
    port = int(re.search(r"^m=audio (\d+) ", answer, re.MULTILINE).group(1))
    ufrag = re.search(r"^a=ice-ufrag:(\S+)", answer, re.MULTILINE).group(1)
    password = re.search(r"^a=ice-pwd:(\S+)", answer, re.MULTILINE).group(1)
    return port, ufrag, password


def raw_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def reply(sock, timeout):
    sock.settimeout(timeout)
    try:
        return sock.recvfrom(2048)[0]
    except socket.timeout:
        return None


def test_forged_stun_unchecked_dtls_and_garbage_rtp_are_dropped_counted_and_the_call_goes_on(start_server, peers):
    server = start_server()
    agent1, customer, task = on_a_call(server, peers)
    port, ufrag, password = media_of(agent1.answer)
    target = ("127.0.0.1", port)
    attacker, checker = raw_socket(), raw_socket()
    try:
        # A Binding request with our username but a MESSAGE-INTEGRITY under the wrong password:
        # no response, counted.
        attacker.sendto(binding_request(f"{ufrag}:evil", password + "x", os.urandom(12)), target)
        assert reply(attacker, 1.0) is None, "a Binding request with a wrong MESSAGE-INTEGRITY was answered"
        eventually(lambda: dropped(server).get("stun-badIntegrity", 0) >= 1, "stun-badIntegrity to be counted")

        # DTLS (a ClientHello's first byte, 22) from an address that passed no check: counted.
        before = dropped(server).get("dtls-unchecked-source", 0)
        attacker.sendto(bytes([22, 0xFE, 0xFD]) + os.urandom(60), target)
        eventually(lambda: dropped(server).get("dtls-unchecked-source", 0) >= before + 1, "dtls-unchecked-source to be counted")
        assert reply(attacker, 0.2) is None, "DTLS from an unchecked address was answered"

        # The same request under the right password is answered (so the forgery was refused for its
        # integrity alone), and a check that does not nominate leaves the browser's address selected.
        transaction = os.urandom(12)
        checker.sendto(binding_request(f"{ufrag}:other", password, transaction), target)
        response = reply(checker, 5.0)
        assert response is not None and response[:2] == b"\x01\x01" and response[8:20] == transaction, response

        # Garbage that looks like RTP (128 bytes, first byte 0x80), from both sockets, all through
        # a listening window: each dropped, and the call's audio goes on both ways.
        sending = threading.Event()
        sent = [0]

        def flood():
            while not sending.wait(0.005):
                for sock in (attacker, checker):
                    sock.sendto(bytes([0x80, 0x00]) + os.urandom(126), target)
                    sent[0] += 1

        flooder = threading.Thread(target=flood, daemon=True)
        flooder.start()
        try:
            hears_exactly("garbage RTP at agent1's port", customer=(customer, {"agent1"}), agent1=(agent1.browser, {"customer"}))
        finally:
            sending.set()
            flooder.join(timeout=5)
        assert sent[0] > 100, sent
        print(f"sent {sent[0]} garbage datagrams; dropped: {dropped(server)}")
        # Counted by reason (a busy machine's kernel may drop a few before the server reads them).
        eventually(lambda: dropped(server).get("srtp-unchecked-source", 0) >= 10, "the garbage to be counted as srtp-unchecked-source")
        assert dropped(server).get("srtp-unchecked-source", 0) <= sent[0]
        assert server.process.poll() is None, "the server is still running"
        assert agent1.webrtc_connected() is True
        assert agent1.task(task)["status"] == "connected"
    finally:
        attacker.close()
        checker.close()
