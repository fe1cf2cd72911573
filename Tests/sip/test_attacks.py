"""The attacker's tools against a running server (Debian's sipvicious: svmap, svwar, svcrack), each
against its own server on loopback; 127.0.0.2 and 127.0.0.3 stand for other machines.

- svwar, over REGISTER and over INVITE, finds no agent names: every name gets the same answer.
- svcrack does not find `switchboard` in a word list where it sits at position 50: wrong answers
  block the guessing address (and the user, for addresses that never signed in as them), and a
  blocked attempt is refused whatever its password. The agent's own phone still registers.
- svmap learns no software or version unless the operator configures one.
- A flood of requests from one unknown address is cut to a rate, and others are still answered."""
import re
import shutil
import socket
import subprocess
import time
import uuid

import pytest
import requests

from conftest import DEADLINE, LOCALHOST, Server, SipMessage, quiet_udp_ports, register_by_hand

AGENTS = ["agent1", "agent2", "agent3", "agent4", "supervisor1"]
OTHERS = ["alice", "zorro", "reception", "sales"]


def tool(name):
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (apt-get install -y sipvicious)", pytrace=False)
    return found


def run(*command, timeout=120):
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    return done.stdout + done.stderr


@pytest.mark.parametrize("method,force", [("REGISTER", False), ("REGISTER", True), ("INVITE", False)])
def test_svwar_finds_no_agent_names(server, tmp_path, method, force):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(AGENTS + OTHERS) + "\n")
    output = run(tool("svwar"), "-m", method, "-d", str(names), "-p", str(server.sip_port), "-P", str(quiet_udp_ports()),
                 *(["--force"] if force else []), LOCALHOST)
    assert "found nothing" in output, output
    for name in AGENTS:
        assert f"'{name}' exists" not in output and f"| {name} " not in output, output


def metric(server, name):
    text = requests.get(f"{server.url}/metrics", timeout=DEADLINE).text
    return sum(float(value) for value in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE))


def test_svcrack_does_not_find_the_password_at_position_50_and_the_agents_own_phone_still_registers(server, tmp_path):
    # The agent's phone has registered before, from its own address (127.0.0.2); svcrack guesses
    # from 127.0.0.1 (it binds no other address).
    messages, _ = register_by_hand(server.sip_port, "agent1", algorithm="MD5", source="127.0.0.2")
    assert messages[-1].status == 200, messages[-1].text

    words = [f"guess{index:02d}" for index in range(1, 50)] + ["switchboard"] + [f"after{index:02d}" for index in range(1, 11)]
    assert words.index("switchboard") == 49
    dictionary = tmp_path / "words.txt"
    dictionary.write_text("\n".join(words) + "\n")
    output = run(tool("svcrack"), "-u", "agent1", "-d", str(dictionary), "-p", str(server.sip_port),
                 "-P", str(quiet_udp_ports()), LOCALHOST)
    assert "found nothing" in output, output
    assert "The password for" not in output, output
    assert metric(server, "switchboard_sip_guessing_blocks_total") >= 1
    assert metric(server, "switchboard_sip_digest_failures_total") >= 5

    # From the guessing address even the right password is refused, with a clear 403 and Retry-After.
    refused, _ = register_by_hand(server.sip_port, "agent1", algorithm="MD5")
    assert refused[-1].status == 403 and int(refused[-1].header("Retry-After")) > 0, refused[-1].text
    # A third address has never signed in as agent1: the user's block holds there too.
    stranger, _ = register_by_hand(server.sip_port, "agent1", algorithm="MD5", source="127.0.0.3")
    assert stranger[-1].status == 403, stranger[-1].text
    # The agent's own phone, on its own address, is not locked out.
    again, _ = register_by_hand(server.sip_port, "agent1", algorithm="MD5", source="127.0.0.2")
    assert again[-1].status == 200, again[-1].text


@pytest.mark.parametrize("header", [None, "Switchboard test"])
def test_svmap_learns_no_software_or_version_unless_configured(tmp_path, header):
    server = Server(tmp_path / "switchboard.sqlite", "--drain-seconds", "0",
                    *(["--sip-server-header", header] if header else []))
    try:
        output = run(tool("svmap"), "-p", str(server.sip_port), "-P", str(quiet_udp_ports()), LOCALHOST)
        row = next((line for line in output.splitlines() if f"{LOCALHOST}:{server.sip_port}" in line), None)
        assert row is not None, output
        assert (header or "unknown") in row, row
        assert "switchboard" not in row.lower() or header, row
    finally:
        server.stop()


def test_a_flood_from_one_unknown_address_is_cut_to_a_rate_while_others_are_answered(server):
    flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flood.bind(("127.0.0.3", 0))
    me = flood.getsockname()[1]
    sent = 1_000
    answered = 0

    def read_answers():
        count = 0
        try:
            while True:
                flood.recvfrom(65536)
                count += 1
        except BlockingIOError:
            return count

    try:
        # Answers are read as they come (a socket's buffer holds only a couple of hundred).
        flood.setblocking(False)
        started = time.monotonic()
        for index in range(sent):  # bounded: 1,000 datagrams at about 1,000 a second (paced, so the
            # kernel's socket buffers drop none and what is cut is the server's doing)
            flood.sendto((f"OPTIONS sip:{LOCALHOST}:{server.sip_port} SIP/2.0\r\n"
                          f"Via: SIP/2.0/UDP 127.0.0.3:{me};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                          "Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.3>;tag=f\r\nTo: <sip:x@127.0.0.1>\r\n"
                          f"Call-ID: flood-{index}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(),
                         (LOCALHOST, server.sip_port))
            time.sleep(0.001)
            answered += read_answers()
        seconds = time.monotonic() - started
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # the last answers on their way
            answered += read_answers()
            time.sleep(0.01)
        # The burst (200) and the rate (50/s) over the seconds the flood took, far below all of it.
        # (A busy machine may make the kernel drop some datagrams before the server reads them: the
        # lower bound leaves room for that; the upper one is the limit's.)
        assert 100 <= answered <= 200 + 50 * (seconds + 1), f"{answered} of {sent} answered in {seconds:.1f} s"
        # Someone else is answered meanwhile.
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind((LOCALHOST, 0))
        other.settimeout(DEADLINE)
        other.sendto((f"OPTIONS sip:{LOCALHOST}:{server.sip_port} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP 127.0.0.1:{other.getsockname()[1]};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                      "Max-Forwards: 70\r\nFrom: <sip:y@127.0.0.1>;tag=g\r\nTo: <sip:y@127.0.0.1>\r\n"
                      "Call-ID: not-flood\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), (LOCALHOST, server.sip_port))
        answer = SipMessage("received", other.recvfrom(65536)[0].decode())
        other.close()
        assert answer.status == 200
        assert metric(server, "switchboard_sip_requests_dropped_total") >= 300, "the server itself dropped the excess"
    finally:
        flood.close()
