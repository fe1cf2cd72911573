"""Drives a real Switchboard server with real SIP peers: SIPp plays the customer on the trunk and
the agents' phones (scenarios in scenarios/), the REST API plays the agents' desktops and the
supervisor. Each test starts its own server and stops it, and kills every SIPp it started.

SIPp is required: without it these tests fail (they are not skipped); the suite's runner installs
it (`apt-get install -y sip-tester`).

Waiting is always for a state, polled with a deadline, never a fixed sleep: the REST API for the
center's state, and each SIPp's message trace (-trace_msg) for what that peer has seen so far.

A SIPp peer that must act when the test says so (a customer hanging up, a phone hanging up) waits
in its scenario for a cue: an INFO the test sends straight to that SIPp's port with the call's
Call-ID (SIPp files a message under its call by Call-ID). It never goes through the server.

An agent's phone is two SIPp runs on one UDP port: the first registers, the next waits for the
server's INVITE, which goes where the REGISTER came from. SIPp before 3.7.3 (Debian 12 has 3.6.1)
knows MD5 alone and reads only the first challenge: the server's defaults list MD5 first, so it
registers as it is; `register_by_hand` answers either challenge, to check both.
"""
import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from switchboard_server import BINARY, ROOT, Server  # noqa: E402,F401
from waiting import eventually  # noqa: E402,F401  (the tests import it from here)

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")
SIPP = shutil.which("sipp")
LOCALHOST = "127.0.0.1"
# How long any awaited state may take (the server answers in milliseconds; this is for a slow machine).
DEADLINE = 10.0
# Every SIPp ends by itself within this (its -timeout), whatever happens.
SIPP_LIFETIME = 40
# Default password of every demo user and of every agent's SIP account.
PASSWORD = "switchboard"


def _sipp_version():
    if SIPP is None:
        return None
    text = subprocess.run([SIPP, "-v"], capture_output=True, text=True, timeout=10).stdout
    match = re.search(r"SIPp v(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(part) for part in match.groups()) if match else None


SIPP_VERSION = _sipp_version()
@pytest.fixture(autouse=True, scope="session")
def sipp_installed():
    if SIPP is None:
        pytest.fail("sipp is not installed (these tests drive the server with SIPp): apt-get install -y sip-tester",
                    pytrace=False)
    if not os.path.exists(BINARY):
        pytest.fail(f"the server binary is missing: {BINARY} (build it first)", pytrace=False)




# MARK: Ports

# SIPp's ports come from 10000–19999: below the kernel's ephemeral range (32768–60999), where any
# bind to port 0 or outgoing connection could take a port between our choosing it and SIPp binding
# it, and below the server's RTP range (20000–29999). Within this run no port is handed out twice
# (a phone's port is reused only on purpose, by passing it), so two peers never race for one.
QUIET_PORTS = range(10000, 20000)
_handed_out = set()


def _bindable(port):
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.bind((LOCALHOST, port))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def quiet_udp_ports(count=1, even=False):
    """The first of `count` consecutive UDP ports on 127.0.0.1 that nobody holds now and that this
    run has not handed out before (see QUIET_PORTS)."""
    rng = random.Random()
    for _ in range(500):
        first = rng.randrange(QUIET_PORTS.start, QUIET_PORTS.stop - count)
        if even:
            first -= first % 2
        ports = range(first, first + count)
        if _handed_out.isdisjoint(ports) and all(_bindable(port) for port in ports):
            _handed_out.update(ports)
            return first
    raise RuntimeError(f"no free run of {count} UDP ports in {QUIET_PORTS}")


def udp_port_held(port):
    """Whether a UDP socket is bound to `port` now, read from /proc/net/udp: unlike binding a probe,
    looking cannot take the port from a process that is about to bind it."""
    wanted = f":{port:04X}"
    with open("/proc/net/udp") as table:
        next(table)
        return any(line.split()[1].endswith(wanted) for line in table if line.strip())


# MARK: SIP messages, as a SIPp trace shows them

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
           "c": "content-type", "k": "supported", "s": "subject", "e": "content-encoding"}


class SipMessage:
    """One message a SIPp sent or received: its start line, header fields (in order) and body."""

    def __init__(self, direction, text):
        self.direction = direction  # "sent" or "received"
        self.text = text
        head, _, self.body = text.replace("\r\n", "\n").partition("\n\n")
        lines = head.split("\n")
        self.start_line = lines[0].strip()
        self.fields = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.fields:
                name, value = self.fields[-1]
                self.fields[-1] = (name, value + " " + line.strip())
            elif ":" in line:
                name, value = line.split(":", 1)
                self.fields.append((name.strip(), value.strip()))

    @property
    def is_response(self):
        return self.start_line.startswith("SIP/2.0 ")

    @property
    def status(self):
        return int(self.start_line.split(" ")[1]) if self.is_response else None

    @property
    def reason(self):
        return self.start_line.split(" ", 2)[2] if self.is_response else None

    @property
    def method(self):
        if self.is_response:
            return self.header("CSeq", "").split(" ")[-1]
        return self.start_line.split(" ")[0]

    @property
    def request_uri(self):
        return None if self.is_response else self.start_line.split(" ")[1]

    def headers(self, name):
        wanted = name.lower()
        return [value for field, value in self.fields if COMPACT.get(field.lower(), field.lower()) == wanted]

    def header(self, name, default=None):
        values = self.headers(name)
        return values[0] if values else default

    def __repr__(self):
        return f"<{self.direction} {self.start_line!r}>"


def parse_trace(text):
    """The messages in a SIPp -trace_msg log, in order. Each one follows a line of dashes (and the
    time) and a line saying whether it was sent or received."""
    messages = []
    for chunk in re.split(r"^-{20,}.*$", text, flags=re.MULTILINE):
        chunk = chunk.lstrip("\r\n")
        if not chunk.strip():
            continue
        description, _, rest = chunk.partition("\n")
        lowered = description.lower()
        if "message sent" in lowered:
            direction = "sent"
        elif "message received" in lowered:
            direction = "received"
        else:
            continue
        body = rest.lstrip("\r\n")
        if body.strip():
            messages.append(SipMessage(direction, body.rstrip("\n") + "\n"))
    return messages


def first(messages, direction, start=None, status=None, method=None):
    """The first message that went this way and matches: a request's method (`start`), or a
    response's status (and CSeq method)."""
    for message in messages:
        if message.direction != direction:
            continue
        if start is not None and (message.is_response or message.method != start):
            continue
        if status is not None and (not message.is_response or message.status != status):
            continue
        if method is not None and message.method != method:
            continue
        return message
    return None


# MARK: A phone's REGISTER with digest, by hand

def _hash(algorithm, text):
    return hashlib.new({"MD5": "md5", "SHA-256": "sha256"}[algorithm], text.encode()).hexdigest()


def _digest_parameters(challenge):
    assert challenge.startswith("Digest "), challenge
    return {name.lower(): value.strip('"') for name, value in
            re.findall(r'([A-Za-z-]+)=("[^"]*"|[^,\s]+)', challenge[7:])}


def register_by_hand(sip_port, agent, password=PASSWORD, expires=3600, algorithm="SHA-256", port=None, user_agent=None,
                     source=LOCALHOST):
    """What a phone does to register, done here with either algorithm (SIPp 3.6 answers MD5 alone):
    REGISTER from 127.0.0.1:`port` (None: a quiet port, which a SIPp can take over to answer), take
    the 401's challenge for `algorithm`, REGISTER again with the digest (qop=auth, RFC 7616 §3.4.1).
    `source`: the address it registers from (127.0.0.2… stand for other machines).
    Returns the messages in order and the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((source, quiet_udp_ports() if port is None else port))
    port = sock.getsockname()[1]
    call_id = f"{uuid.uuid4().hex}@{LOCALHOST}"
    uri = f"sip:{LOCALHOST}:{sip_port}"
    messages = []

    def transact(cseq, authorization=None):
        text = (f"REGISTER {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {source}:{port};branch=z9hG4bK{uuid.uuid4().hex};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:{agent}@{LOCALHOST}>;tag=byhand\r\n"
                f"To: <sip:{agent}@{LOCALHOST}>\r\n"
                f"Call-ID: {call_id}\r\n"
                f"CSeq: {cseq} REGISTER\r\n"
                f"Contact: <sip:{agent}@{source}:{port}>\r\n"
                f"Expires: {expires}\r\n"
                + (f"User-Agent: {user_agent}\r\n" if user_agent else "")
                + (f"Authorization: {authorization}\r\n" if authorization else "")
                + "Content-Length: 0\r\n\r\n")
        messages.append(SipMessage("sent", text))
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:  # retransmitted every 500 ms (T1), as over UDP
            sock.sendto(text.encode(), (LOCALHOST, sip_port))
            sock.settimeout(0.5)
            try:
                while True:
                    data, _ = sock.recvfrom(65536)
                    answer = SipMessage("received", data.decode("utf-8", errors="replace"))
                    if answer.is_response and answer.header("Call-ID") == call_id \
                            and answer.header("CSeq") == f"{cseq} REGISTER":
                        messages.append(answer)
                        if answer.status >= 200:
                            return answer
            except socket.timeout:
                continue
        raise AssertionError(f"no final response to REGISTER (CSeq {cseq}) within {DEADLINE:g} s")

    try:
        challenge = transact(1)
        if challenge.status != 401:
            return messages, port
        offers = [_digest_parameters(value) for value in challenge.headers("WWW-Authenticate")]
        offer = next((o for o in offers if o.get("algorithm", "MD5").upper() == algorithm.upper()), None)
        assert offer, f"no {algorithm} challenge in {challenge.headers('WWW-Authenticate')}"
        cnonce, nc = uuid.uuid4().hex[:16], "00000001"
        ha1 = _hash(algorithm, f"{agent}:{offer['realm']}:{password}")
        ha2 = _hash(algorithm, f"REGISTER:{uri}")
        response = _hash(algorithm, f"{ha1}:{offer['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        transact(2, f'Digest username="{agent}", realm="{offer["realm"]}", nonce="{offer["nonce"]}", '
                    f'uri="{uri}", response="{response}", algorithm={algorithm}, qop=auth, nc={nc}, '
                    f'cnonce="{cnonce}"')
        return messages, port
    finally:
        sock.close()


# MARK: SIPp

class Sipp:
    """One SIPp process playing one scenario once (-m 1), on its own UDP port, tracing every message
    it sends and receives into the test's temporary folder."""

    def __init__(self, workdir, scenario, *, remote=None, port=None, service=None, keys=None,
                 username=None, password=None):
        self.scenario = scenario
        self.port = port or quiet_udp_ports()
        os.makedirs(workdir, exist_ok=True)
        base = os.path.join(workdir, f"{scenario}-{self.port}-{uuid.uuid4().hex[:6]}")
        self.messages_path = base + "-messages.log"
        self.errors_path = base + "-errors.log"
        self.output_path = base + "-output.log"
        command = [SIPP]
        if remote:
            command.append(remote)
        command += [
            "-sf", os.path.join(SCENARIOS, scenario + ".xml"),
            "-i", LOCALHOST, "-p", str(self.port), "-t", "u1",
            "-m", "1", "-l", "1",
            "-timeout", f"{SIPP_LIFETIME}s", "-timeout_error",
            "-recv_timeout", str(int(DEADLINE * 2 * 1000)),
            "-mp", str(quiet_udp_ports(4, even=True)), "-cp", str(quiet_udp_ports()),
            "-trace_msg", "-message_file", self.messages_path,
            "-trace_err", "-error_file", self.errors_path,
            "-nostdin",
        ]
        if service:
            command += ["-s", service]
        if username:
            command += ["-au", username]
        if password:
            command += ["-ap", password]
        for key, value in (keys or {}).items():
            command += ["-key", key, str(value)]
        self.command = command
        self.output = open(self.output_path, "w")
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self.output,
                                        stderr=subprocess.STDOUT, cwd=workdir)

    # What it saw.

    def messages(self):
        try:
            with open(self.messages_path, encoding="utf-8", errors="replace") as log:
                return parse_trace(log.read())
        except FileNotFoundError:
            return []

    def wait_for(self, direction, start=None, status=None, method=None, timeout=DEADLINE):
        """Waits until this SIPp has sent or received such a message; returns it."""
        what = f"{self.scenario} to have {direction} {start or status}{' ' + method if method else ''}"

        def seen():
            ended = self.process.poll() is not None
            message = first(self.messages(), direction, start, status, method)
            if message is None and ended:
                raise AssertionError(f"{what}, but SIPp ended (exit {self.process.returncode}).\n{self.report()}")
            return message

        return eventually(seen, what, timeout)

    def call_id(self):
        messages = self.messages()
        assert messages, f"{self.scenario} has no call yet"
        return messages[0].header("Call-ID")

    def report(self):
        """The peer's log for a failure message: errors, then every message it saw."""
        parts = [f"$ {' '.join(self.command)}"]
        for path in (self.errors_path, self.output_path):
            try:
                with open(path, encoding="utf-8", errors="replace") as log:
                    text = log.read().strip()
            except FileNotFoundError:
                continue
            if text:
                parts.append(f"--- {os.path.basename(path)}\n{text[-4000:]}")
        parts.append("--- messages: " + ", ".join(f"{m.direction} {m.start_line}" for m in self.messages()))
        return "\n".join(parts)

    # Driving it.

    def cue(self):
        """Tells the scenario's waiting step (`<recv request="INFO"/>`) to go on: an INFO with the
        call's Call-ID, sent straight to this SIPp (not through the server)."""
        call_id = self.call_id()
        message = (
            f"INFO sip:cue@{LOCALHOST}:{self.port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {LOCALHOST}:9;branch=z9hG4bK-cue-{uuid.uuid4().hex}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:test@{LOCALHOST}>;tag=cue\r\n"
            f"To: <sip:cue@{LOCALHOST}>\r\n"
            f"Call-ID: {call_id}\r\n"
            "CSeq: 1 INFO\r\n"
            "Content-Length: 0\r\n\r\n")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as cue:
            cue.sendto(message.encode(), (LOCALHOST, self.port))

    def wait_until_listening(self):
        """Until SIPp holds its port (so a request sent to it is not lost)."""
        def listening():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.scenario} ended before listening (exit {self.process.returncode}).\n"
                                     + self.report())
            return udp_port_held(self.port)

        eventually(listening, f"{self.scenario} to listen on UDP {self.port}")

    def finish(self, timeout=DEADLINE * 2):
        """Waits for the scenario's end; its exit status (0: the call went as the scenario says)."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"{self.scenario} did not end within {timeout:g} s.\n{self.report()}")

    def succeeded(self, timeout=DEADLINE * 2):
        """Asserts that the scenario ran to its end as written."""
        status = self.finish(timeout)
        assert status == 0, f"{self.scenario} failed (SIPp exit {status}).\n{self.report()}"
        return self.messages()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.output.close()


class Peers:
    """The SIP peers of one test, against one server: customers on the trunk and agents' phones."""

    def __init__(self, server, workdir):
        self.server = server
        self.workdir = str(workdir)
        self.remote = f"{LOCALHOST}:{server.sip_port}"
        self.started = []

    def client(self, scenario, **options):
        """A SIPp that starts the scenario toward the server (a UAC)."""
        sipp = Sipp(self.workdir, scenario, remote=self.remote, **options)
        self.started.append(sipp)
        return sipp

    def server_side(self, scenario, port, **options):
        """A SIPp that waits on `port` for the server's request (a UAS)."""
        sipp = Sipp(self.workdir, scenario, port=port, **options)
        self.started.append(sipp)
        sipp.wait_until_listening()
        return sipp

    def register(self, agent, scenario="phone_registers", password=PASSWORD, expires=3600, port=None):
        """Runs a REGISTER scenario for `agent` and returns its SIPp (finished or not)."""
        return self.client(scenario, port=port, username=agent, password=password,
                           keys={"agent": agent, "expires": expires})

    def phone(self, agent, scenario):
        """`agent`'s phone: registered (with digest) from a port, then answering there as `scenario`
        says. SIPp plays it in two runs on the same port: one registers, the next waits for the
        server's INVITE, which goes where the REGISTER came from."""
        return self.server_side(scenario, self.register_phone(agent), keys={"agent": agent})

    def register_phone(self, agent):
        """Registers `agent`'s phone with the right digest; the port it registered from."""
        registration = self.register(agent)
        registration.succeeded()
        return registration.port

    def customer(self, scenario="customer_calls_and_hangs_up", number="2000", caller="15550100"):
        """A customer's call from the trunk (this host) to `number`."""
        return self.client(scenario, service=number, keys={"caller": caller})

    def stop_all(self):
        for sipp in self.started:
            sipp.stop()


# MARK: REST

class User:
    """One signed-in user of the REST API: an agent's desktop, or the supervisor."""

    def __init__(self, server, username, password=PASSWORD):
        self.server = server
        self.name = username
        answer = requests.post(f"{server.url}/v1/auth/login", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["token"]

    def call(self, method, path, body=None):
        return requests.request(method, f"{self.server.url}{path}", json=body,
                                headers={"Authorization": f"Bearer {self.token}"}, timeout=10)

    def get(self, path):
        answer = self.call("GET", path)
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def me(self):
        return self.get("/v1/me")

    def tasks(self):
        return self.get("/v1/tasks")

    def task(self, task_id):
        """The task as this user sees it, or None once it is gone from view."""
        answer = self.call("GET", f"/v1/tasks/{task_id}")
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.text
        return answer.json()

    def history(self, task_id):
        return [entry["event"] for entry in self.get(f"/v1/tasks/{task_id}/history")]

    def station(self, station):
        return self.call("PUT", "/v1/me/station", {"station": station})

    def available(self):
        answer = self.call("PUT", "/v1/me/state", {"state": "available"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def task_from(self, caller):
        """The live task of the call from this number, if this user sees one."""
        return next((task for task in self.tasks() if task["customer"]["number"] == caller), None)


def participant(task, agent):
    return next((p for p in task["participants"] if p.get("agentId") == agent), None)


def tag(name_address):
    """The tag parameter of a From or To value."""
    match = re.search(r";\s*tag=([^;\s]+)", name_address or "")
    return match.group(1) if match else None


def cseq_number(message):
    return int(message.header("CSeq").split()[0])


def sdp_media(body):
    """(connection address, audio port, payload types) of an SDP body."""
    address = re.search(r"^c=IN IP4 (\S+)", body, re.MULTILINE)
    media = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+)$", body, re.MULTILINE)
    assert address and media, f"not an SDP with an audio stream:\n{body}"
    return address.group(1), int(media.group(1)), [int(p) for p in media.group(2).split()]


# MARK: Fixtures

@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path / "switchboard.sqlite")
    assert running.sip_port, "the server did not say where SIP listens"
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture
def peers(server, tmp_path):
    """SIP peers against the test's server; any still running at the end are stopped."""
    started = Peers(server, tmp_path / "sipp")
    yield started
    started.stop_all()


@pytest.fixture
def supervisor(server):
    return User(server, "supervisor1")


# MARK: Desktop commands, phone stations and the line-action barrier (for the spec's rows over SIP)

def command(user, task_id, action, body=None, expect=200):
    """`user`'s desktop sends `action` (a path after /v1/tasks/{id}/, e.g. "consult/conference")
    and expects the HTTP status `expect`; returns the answer's JSON (a snapshot, or the refusal)."""
    answer = user.call("POST", f"/v1/tasks/{task_id}/{action}", body)
    assert answer.status_code == expect, f"{user.name} {action}: {answer.status_code} {answer.text}"
    return answer.json()


def on_phone_station(server, agent, available=True):
    """`agent` signed in on the phone station (their phone must be registered already), and made
    available unless told otherwise. Returns the desktop."""
    desk = User(server, agent)
    chosen = desk.station("phone")
    assert chosen.status_code == 200 and chosen.json()["station"] == "phone", chosen.text
    if available:
        desk.available()
    return desk


def number_participant(task, number):
    return next((p for p in task["participants"] if p.get("number") == number), None)


def task_state(user, task_id, check, what, timeout=DEADLINE):
    """Polls the task as `user` sees it until `check(snapshot)` holds; returns that snapshot."""
    def seen():
        snapshot = user.task(task_id)
        return snapshot if snapshot is not None and check(snapshot) else None
    return eventually(seen, what, timeout)


class Bystander:
    """An agent on no call (agent3 unless told) whose idle-code changes are a barrier for line actions.

    A command's line actions (INVITE, BYE, CANCEL) go to the SIP layer only once its events are
    stored, in command order; the REST API can show the new state a moment before. A command
    answered after the one under test has had its events stored after it, so once `settle()`
    returns, every earlier command's line actions are already with the SIP layer. A peer that must
    NOT be hung up runs a scenario that fails on a BYE before its cue; the test cues it only after
    `settle()`, so a BYE the server wrongly sent is in that SIPp's socket ahead of the cue."""

    CODES = ("lunch", "break")

    def __init__(self, server, agent="agent3"):
        self.desk = User(server, agent)  # signing in leaves the agent idle
        self.turn = 0

    def settle(self):
        code = self.CODES[self.turn % 2]
        self.turn += 1
        answer = self.desk.call("PUT", "/v1/me/state", {"state": "idle", "idleCodeId": code})
        assert answer.status_code == 200, answer.text
        assert answer.json()["idleCodeId"] == code, answer.text


def received_requests(sipp, method):
    """The requests of `method` this SIPp has received so far."""
    return [m for m in sipp.messages() if m.direction == "received" and not m.is_response and m.method == method]


def still_waiting(sipp):
    """Asserts the SIPp is still running its scenario (not ended nor aborted)."""
    assert sipp.process.poll() is None, f"{sipp.scenario} ended early (exit {sipp.process.returncode}).\n{sipp.report()}"
