#!/usr/bin/env python3
"""Calls per second through Switchboard's B2BUA with the agents' phones over TLS and their media
keyed for SRTP (SDES), against the same with the phones over UDP and plain RTP, in one run.

The customers are SIPp (UDP) calling 2000, as in sip_calls.py. The agents' phones are a farm in
this process (asyncio): each agent registers with digest — over UDP from one shared socket, or over
TLS on a connection of its own — and answers every INVITE with 200 at once (over TLS with an
`a=crypto` key when the server's offer carries one, so the leg is SRTP), ACKs nothing, and answers
BYE and OPTIONS with 200. The same farm serves both runs, so the ratio is the server's cost of TLS
and SRTP set-up per call (no RTP flows here: the SRTP data path is media-bench --srtp's).

    python3 Benchmarks/sip_calls_secure.py --rate 150 --calls 3000 --agents 300
"""
import argparse
import asyncio
import base64
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import time
import uuid

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sip_calls import BINARY, CUSTOMER, HOST, PASSWORD, configuration, counts, free_port, percentile, run_sipp, setup_times, sha  # noqa: E402


def message(head_lines, body=""):
    return ("\r\n".join(head_lines) + f"\r\nContent-Length: {len(body.encode())}\r\n\r\n" + body).encode()


def header(text, name):
    match = re.search(rf"^{name}:\s*(.*)$", text, re.MULTILINE | re.IGNORECASE)
    return match.group(1).strip() if match else ""


def answer(request, status, reason, to_tag=None, extra=(), body=""):
    lines = [f"SIP/2.0 {status} {reason}"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for value in re.findall(rf"^{name}:\s*(.*)$", request, re.MULTILINE | re.IGNORECASE):
            value = value.strip()
            if name == "To" and to_tag and ";tag=" not in value:
                value += f";tag={to_tag}"
            lines.append(f"{name}: {value}")
    lines += list(extra)
    return message(lines, body)


class Farm:
    """The agents' phones: register, then answer what the server sends."""

    def __init__(self, transport, sip_port, tls_port, agents):
        self.transport, self.sip_port, self.tls_port, self.agents = transport, sip_port, tls_port, agents
        self.answered = 0
        self.keyed = 0
        self.writers = []
        self.readers = []

    def respond(self, text, send):
        method = text.split(" ", 1)[0]
        if method == "INVITE":
            offer = text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in text else ""
            media = f"v=0\r\no=phone 1 1 IN IP4 {HOST}\r\ns=-\r\nc=IN IP4 {HOST}\r\nt=0 0\r\n"
            profile = "RTP/SAVP" if "RTP/SAVP" in offer else "RTP/AVP"
            media += f"m=audio 40000 {profile} 0\r\na=rtpmap:0 PCMU/8000\r\n"
            if self.transport == "tls" and "a=crypto:" in offer:
                key = base64.b64encode(os.urandom(30)).decode()
                media += f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}\r\n"
                self.keyed += 1
            contact = f"Contact: <sip:phone@{HOST}:5099;transport={'tls' if self.transport == 'tls' else 'udp'}>"
            send(answer(text, 200, "OK", uuid.uuid4().hex[:10], [contact, "Content-Type: application/sdp"], media))
            self.answered += 1
        elif method in ("BYE", "OPTIONS"):
            send(answer(text, 200, "OK", uuid.uuid4().hex[:10]))

    async def register(self, agent, send, receive, local):
        uri = f"sip:{HOST}:{self.tls_port if self.transport == 'tls' else self.sip_port}"
        call_id = uuid.uuid4().hex
        via = "TLS" if self.transport == "tls" else "UDP"
        contact = f"<sip:{agent}@{HOST}:{local}" + (";transport=tls>" if self.transport == "tls" else ">")

        async def transact(cseq, authorization=None):
            lines = [f"REGISTER {uri} SIP/2.0", f"Via: SIP/2.0/{via} {HOST}:{local};branch=z9hG4bK{uuid.uuid4().hex};rport",
                     "Max-Forwards: 70", f"From: <sip:{agent}@{HOST}>;tag=r", f"To: <sip:{agent}@{HOST}>",
                     f"Call-ID: {call_id}", f"CSeq: {cseq} REGISTER", f"Contact: {contact}", "Expires: 3600"]
            if authorization:
                lines.append(f"Authorization: {authorization}")
            send(message(lines))
            return await receive(call_id, cseq)

        challenge = await transact(1)
        offer = next(value for value in re.findall(r"^WWW-Authenticate:\s*(.*)$", challenge, re.MULTILINE) if "SHA-256" in value)
        nonce = re.search(r'nonce="([^"]+)"', offer).group(1)
        ha1 = sha(f"{agent}:switchboard:{PASSWORD}", "SHA-256")
        response = sha(f"{ha1}:{nonce}:00000001:c0ffee:auth:{sha(f'REGISTER:{uri}', 'SHA-256')}", "SHA-256")
        ok = await transact(2, f'Digest username="{agent}", realm="switchboard", nonce="{nonce}", uri="{uri}", '
                               f'response="{response}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c0ffee"')
        assert ok.startswith("SIP/2.0 200"), ok.splitlines()[0]

    async def start(self):
        if self.transport == "udp":
            await self.start_udp()
        else:
            await asyncio.gather(*(self.start_tls(agent) for agent in self.agents))

    async def start_udp(self):
        loop = asyncio.get_running_loop()
        waiting = {}
        farm = self

        class Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data, address):
                text = data.decode(errors="replace")
                if text.startswith("SIP/2.0"):
                    key = (header(text, "Call-ID"), header(text, "CSeq").split(" ")[0])
                    if not text.startswith("SIP/2.0 100") and key in waiting and not waiting[key].done():
                        waiting[key].set_result(text)
                else:
                    farm.respond(text, lambda data: transport.sendto(data, address))

        transport, _ = await loop.create_datagram_endpoint(Protocol, local_addr=(HOST, 0))
        local = transport.get_extra_info("sockname")[1]

        for agent in self.agents:
            def send(data):
                transport.sendto(data, (HOST, self.sip_port))

            async def receive(call_id, cseq):
                future = loop.create_future()
                waiting[(call_id, str(cseq))] = future
                return await asyncio.wait_for(future, 10)
            await self.register(agent, send, receive, local)
        self.writers.append(transport)

    async def start_tls(self, agent):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        reader, writer = await asyncio.open_connection(HOST, self.tls_port, ssl=context)
        local = writer.get_extra_info("sockname")[1]
        loop = asyncio.get_running_loop()
        waiting = {}

        async def read_forever():
            buffer = b""
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    head, rest = buffer.split(b"\r\n\r\n", 1)
                    length = int(header(head.decode(errors="replace"), "Content-Length") or 0)
                    if len(rest) < length:
                        break
                    text = (head + b"\r\n\r\n" + rest[:length]).decode(errors="replace")
                    buffer = rest[length:]
                    if text.startswith("SIP/2.0"):
                        key = (header(text, "Call-ID"), header(text, "CSeq").split(" ")[0])
                        if not text.startswith("SIP/2.0 100") and key in waiting and not waiting[key].done():
                            waiting[key].set_result(text)
                    else:
                        self.respond(text, writer.write)

        self.readers.append(asyncio.ensure_future(read_forever()))

        async def receive(call_id, cseq):
            future = loop.create_future()
            waiting[(call_id, str(cseq))] = future
            return await asyncio.wait_for(future, 10)
        await self.register(agent, writer.write, receive, local)
        self.writers.append(writer)


def run(binary, transport, args, directory, agents, config):
    """One server, one farm, one SIPp customer run; returns (completed, failed, seconds, setup times, farm)."""
    config_path = os.path.join(directory, f"config-{transport}.json")
    with open(config_path, "w") as handle:
        json.dump(config, handle)
    server = subprocess.Popen(
        [binary, "serve", "--config", config_path, "--port", "0", "--sip-port", "0", "--sip-tls-port", "0",
         "--database", os.path.join(directory, f"bench-{transport}.sqlite"), "--drain-seconds", "0", "--telephony", "sip",
         "--sip-qualify-seconds", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    customer = None
    try:
        url = sip_port = tls_port = None
        for line in server.stdout:
            if m := re.search(r"running: (http://127\.0\.0\.1:\d+)/", line):
                url = m.group(1)
            if m := re.search(r"SIP is listening: udp and tcp 127\.0\.0\.1:(\d+)", line):
                sip_port = int(m.group(1))
            if m := re.search(r"SIP over TLS is listening: 127\.0\.0\.1:(\d+)", line):
                tls_port = int(m.group(1))
            if url and sip_port and tls_port:
                break
        farm = Farm(transport, sip_port, tls_port, agents)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(farm.start())
        session = requests.Session()
        for agent in agents:
            token = session.post(f"{url}/v1/auth/login", json={"username": agent, "password": PASSWORD}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert session.put(f"{url}/v1/me/station", json={"station": "phone"}, headers=headers).ok
            assert session.put(f"{url}/v1/me/state", json={"state": "available"}, headers=headers).ok
        name = f"{transport}_customer"
        customer = run_sipp(CUSTOMER.replace("HOLD_MS", str(args.hold_ms)), directory, name, f"{HOST}:{sip_port}",
                            free_port(), [], args.rate, args.calls)
        started = time.monotonic()

        async def until_done():
            while customer.poll() is None:
                await asyncio.sleep(0.05)  # the farm answers while SIPp runs (polling a child process, bounded by SIPp's -timeout)
        loop.run_until_complete(until_done())
        elapsed = time.monotonic() - started
        for reader in farm.readers:
            reader.cancel()
        async def drained():
            await asyncio.gather(*farm.readers, return_exceptions=True)
        loop.run_until_complete(drained())
        loop.close()
        ok, failed = counts(directory, name)
        return ok, failed, elapsed, setup_times(directory, name), farm
    finally:
        if customer is not None and customer.poll() is None:
            customer.kill()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=150)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--hold-ms", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1, help="alternating UDP and TLS runs")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="sip-secure-bench-")
    agents, config = configuration(args.agents)
    for round_number in range(args.rounds):
        results = {}
        for transport in ("udp", "tls"):
            folder = os.path.join(directory, str(round_number))
            os.makedirs(folder, exist_ok=True)
            ok, failed, elapsed, times, farm = run(BINARY, transport, args, folder, agents, config)
            results[transport] = ok / elapsed
            print(f"{transport.upper():>3}: {ok} completed, {failed} failed, {elapsed:.1f} s, {ok / elapsed:.0f} calls/s; setup "
                  f"p50 {percentile(times, 0.5):.1f} ms, p99 {percentile(times, 0.99):.1f} ms; phones answered {farm.answered}"
                  + (f", {farm.keyed} of them with SRTP keys" if transport == "tls" else ""), flush=True)
        print(f"round {round_number + 1}: TLS+SRTP / UDP+RTP = {results['tls'] / results['udp']:.2f}", flush=True)


if __name__ == "__main__":
    main()
