#!/usr/bin/env python3
"""Calls per second through Switchboard's B2BUA, with SIPp on this machine (issue 10's benchmark).

Each call: a customer (SIPp UAC) INVITEs 2000 and is answered once queued; the call is offered to an
agent whose station is their phone (SIPp UAS, registered with digest for every agent); the phone
answers; after --hold-ms the customer hangs up (BYE); the server BYEs the phone; the agent's wrap-up
is applied (auto wrap-up after 1 s, the default reason) and the agent is available again.

Reports the calls completed and failed, the rate, and call setup (INVITE sent → 200 OK received, as
the customer sees it) p50/p99; then the same SIPp UAC against a SIPp UAS directly (no Switchboard)
at the same rate: the ceiling on this machine. Everything on 127.0.0.1; every process is stopped.

    python3 Benchmarks/sip_calls.py --rate 500 --calls 15000 --agents 1500

`SWITCHBOARD_BINARY` picks the binary (to compare builds in one sitting); `SERVE_ARGS` adds options
to `serve` (`--sip-qualify-seconds 0`: no OPTIONS pings to the SIPp phones, which a build from
before qualify never sent).
"""
import argparse
import csv
import glob
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("SWITCHBOARD_BINARY", os.path.join(ROOT, ".build", "release", "switchboard"))
HOST = "127.0.0.1"
PASSWORD = "bench"

CUSTOMER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="customer calls 2000, talks, hangs up">
  <send retrans="500" start_rtd="setup">
    <![CDATA[
INVITE sip:2000@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+1555[call_number]@[local_ip]>;tag=[pid]c[call_number]
To: <sip:2000@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:customer@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=customer 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="setup" rrs="true"/>
  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+1555[call_number]@[local_ip]>;tag=[pid]c[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <pause milliseconds="HOLD_MS"/>
  <send retrans="500">
    <![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+1555[call_number]@[local_ip]>;tag=[pid]c[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <recv response="200" crlf="true"/>
  <ResponseTimeRepartition value="5, 10, 20, 50, 100, 200, 500, 1000"/>
</scenario>
"""

PHONE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="agent phones answer every call, the server hangs up">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]p[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:phone@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=phone 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
  </send>
</scenario>
"""


def free_port(kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def sha(text, algorithm):
    return hashlib.new("md5" if algorithm == "MD5" else "sha256", text.encode()).hexdigest()


def register_all(sip_port, agents, port):
    """Every agent's phone REGISTERs from the phones' port (SHA-256 digest), so INVITEs come back there."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, port))
    sock.settimeout(2)
    uri = f"sip:{HOST}:{sip_port}"
    try:
        for agent in agents:
            call_id = uuid.uuid4().hex

            def send(cseq, authorization=None):
                text = (f"REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {HOST}:{port};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                        f"Max-Forwards: 70\r\nFrom: <sip:{agent}@{HOST}>;tag=r\r\nTo: <sip:{agent}@{HOST}>\r\n"
                        f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:{agent}@{HOST}:{port}>\r\n"
                        "Expires: 3600\r\n" + (f"Authorization: {authorization}\r\n" if authorization else "")
                        + "Content-Length: 0\r\n\r\n")
                for _ in range(5):
                    sock.sendto(text.encode(), (HOST, sip_port))
                    try:
                        while True:
                            data = sock.recv(65536).decode(errors="replace")
                            if f"CSeq: {cseq} REGISTER" in data and call_id in data and not data.startswith("SIP/2.0 100"):
                                return data
                    except socket.timeout:
                        continue
                raise SystemExit(f"no answer to {agent}'s REGISTER")

            challenge = send(1)
            offer = next(line for line in challenge.split("\r\n") if line.startswith("WWW-Authenticate") and "SHA-256" in line)
            nonce = re.search(r'nonce="([^"]+)"', offer).group(1)
            ha1 = sha(f"{agent}:switchboard:{PASSWORD}", "SHA-256")
            ha2 = sha(f"REGISTER:{uri}", "SHA-256")
            response = sha(f"{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}", "SHA-256")
            answer = send(2, f'Digest username="{agent}", realm="switchboard", nonce="{nonce}", uri="{uri}", '
                             f'response="{response}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c0ffee"')
            if not answer.startswith("SIP/2.0 200"):
                raise SystemExit(f"{agent} could not register: {answer.splitlines()[0]}")
    finally:
        sock.close()


def configuration(agent_count):
    try:
        import bcrypt
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "bcrypt"], check=True)
        import bcrypt
    # The server reads the $2a$ spelling of bcrypt (the same hash as $2b$).
    hashed = "$2a$" + bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()[4:]
    agents = [f"a{i:05d}" for i in range(agent_count)]
    digest = lambda agent: (f"md5:{sha(f'{agent}:switchboard:{PASSWORD}', 'MD5')},"
                            f"sha256:{sha(f'{agent}:switchboard:{PASSWORD}', 'SHA-256')}")
    return agents, {
        "agents": [{"id": a, "displayName": a, "passwordHash": hashed, "team": "t", "sipDigest": digest(a)} for a in agents],
        "supervisors": [{"id": "supervisor1", "displayName": "S", "passwordHash": hashed}],
        "queues": [{"id": "sales", "name": "Sales", "teams": ["t"]}],
        "wrapUpCodes": [{"id": "resolved", "name": "Resolved"}],
        "idleCodes": [{"id": "break", "name": "Break"}],
        "desktopProfile": {"ringNoAnswerSeconds": 20, "autoWrapUpSeconds": 1, "defaultWrapUpCode": "resolved",
                           "maxConferenceParticipants": 3},
        "sip": {"numbers": {"2000": "sales"}, "trunks": [HOST]},
    }


def run_sipp(scenario_text, directory, name, target, port, extra, rate, calls):
    scenario = os.path.join(directory, name + ".xml")
    with open(scenario, "w") as handle:
        handle.write(scenario_text)
    command = ["sipp", "-sf", scenario, "-i", HOST, "-p", str(port), "-mp", str(free_port()), "-m", str(calls),
               "-r", str(rate), "-l", "100000", "-max_socket", "1000", "-trace_stat", "-trace_rtt", "-rtt_freq", "1",
               "-fd", "1", "-timeout", "600", "-timeout_error", "-nostdin", "-bg" if False else "-nd", *extra]
    if target:
        command.append(target)
    return subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def setup_times(directory, name):
    """Call setup (INVITE → 200) of every call, from SIPp's response-time trace, in ms."""
    times = []
    for path in glob.glob(os.path.join(directory, f"{name}_*_rtt.csv")):
        with open(path) as handle:
            for row in csv.reader(handle, delimiter=";"):
                if len(row) >= 2 and row[1].replace(".", "", 1).isdigit():
                    times.append(float(row[1]))
    return sorted(times)


def counts(directory, name):
    """Successful and failed calls from SIPp's last statistics line."""
    paths = glob.glob(os.path.join(directory, f"{name}_*_.csv"))
    if not paths:
        return 0, 0
    with open(paths[0]) as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header, last = rows[0], rows[-1]
    return int(last[header.index("SuccessfulCall(C)")]), int(last[header.index("FailedCall(C)")])


def percentile(values, p):
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=500, help="calls per second offered")
    parser.add_argument("--calls", type=int, default=15000)
    parser.add_argument("--agents", type=int, default=1500)
    parser.add_argument("--hold-ms", type=int, default=500, help="how long the customer stays after the answer")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="sip-bench-")
    agents, config = configuration(args.agents)
    with open(os.path.join(directory, "config.json"), "w") as handle:
        json.dump(config, handle)
    server = subprocess.Popen(
        [BINARY, "serve", "--config", os.path.join(directory, "config.json"), "--port", "0", "--sip-port", "0",
         "--database", os.path.join(directory, "bench.sqlite"), "--drain-seconds", "0", "--telephony", "sip",
         *os.environ.get("SERVE_ARGS", "").split()],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    processes = []
    try:
        url = sip_port = None
        for line in server.stdout:
            if m := re.search(r"running: (http://127\.0\.0\.1:\d+)/", line):
                url = m.group(1)
            if m := re.search(r"SIP is listening: udp and tcp 127\.0\.0\.1:(\d+)", line):
                sip_port = int(m.group(1))
            if url and sip_port:
                break
        phones_port = free_port()
        register_all(sip_port, agents, phones_port)
        session = requests.Session()
        for agent in agents:
            answer = session.post(f"{url}/v1/auth/login", json={"username": agent, "password": PASSWORD})
            assert answer.ok, f"{agent} cannot sign in: {answer.text}"
            token = answer.json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert session.put(f"{url}/v1/me/station", json={"station": "phone"}, headers=headers).ok
            assert session.put(f"{url}/v1/me/state", json={"state": "available"}, headers=headers).ok
        print(f"{len(agents)} agents registered, signed in, station phone, available", flush=True)

        def measure(name, target, server_port):
            phones = run_sipp(PHONE, directory, name + "_phone", None, server_port, [], args.rate, 10 ** 9)
            processes.append(phones)
            customer = run_sipp(CUSTOMER.replace("HOLD_MS", str(args.hold_ms)), directory, name + "_customer",
                                target, free_port(), [], args.rate, args.calls)
            processes.append(customer)
            started = time.monotonic()
            customer.wait(timeout=args.calls / args.rate + 900)
            elapsed = time.monotonic() - started
            phones.terminate()
            phones.wait(timeout=10)
            ok, failed = counts(directory, name + "_customer")
            times = setup_times(directory, name + "_customer")
            return ok, failed, elapsed, times

        # Through Switchboard: the phones are the SIPp UAS on the port every agent registered from.
        phones = run_sipp(PHONE, directory, "b2bua_phone", None, phones_port, [], args.rate, 10 ** 9)
        processes.append(phones)
        customer = run_sipp(CUSTOMER.replace("HOLD_MS", str(args.hold_ms)), directory, "b2bua_customer",
                            f"{HOST}:{sip_port}", free_port(), [], args.rate, args.calls)
        processes.append(customer)
        started = time.monotonic()
        customer.wait(timeout=args.calls / args.rate + 900)
        elapsed = time.monotonic() - started
        phones.terminate()
        ok, failed = counts(directory, "b2bua_customer")
        answered, _ = counts(directory, "b2bua_phone")
        times = setup_times(directory, "b2bua_customer")
        # Every call was wrapped up (auto wrap-up, 1 s): the agents are all available again.
        supervisor = session.post(f"{url}/v1/auth/login", json={"username": "supervisor1", "password": PASSWORD}).json()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            views = session.get(f"{url}/v1/agents", headers={"Authorization": f"Bearer {supervisor['token']}"}).json()
            available = sum(1 for view in views if view["state"] == "available")
            if available == len(agents):
                break
            time.sleep(0.5)
        print(f"agent phones answered {answered} calls; {available} of {len(agents)} agents available again after wrap-up")
        print(f"Switchboard: {ok} calls completed, {failed} failed, in {elapsed:.1f} s: {ok / elapsed:.0f} calls/s; "
              f"setup p50 {percentile(times, 0.5):.1f} ms, p99 {percentile(times, 0.99):.1f} ms ({len(times)} samples)")

        # The ceiling: the same UAC straight to a SIPp UAS that answers (no B2BUA, no second leg).
        direct_port = free_port()
        ok2, failed2, elapsed2, times2 = measure("direct", f"{HOST}:{direct_port}", direct_port)
        print(f"SIPp to SIPp: {ok2} calls completed, {failed2} failed, in {elapsed2:.1f} s: {ok2 / elapsed2:.0f} calls/s; "
              f"setup p50 {percentile(times2, 0.5):.1f} ms, p99 {percentile(times2, 0.99):.1f} ms")
        print(f"ratio: Switchboard / SIPp-to-SIPp = {(ok / elapsed) / (ok2 / elapsed2):.2f}; traces in {directory}")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
