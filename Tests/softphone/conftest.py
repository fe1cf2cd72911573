"""Real softphones (baresip) against a real Switchboard server, all on 127.0.0.1.

Each softphone is a `baresip -f DIR` with its own configuration folder (filled from
`baresip.conf.template`), a WAV file as its microphone, no sound card, and the `ctrl_tcp` module
on its own loopback port: the test drives it with JSON netstrings and reads its events. Every
process started here is stopped by a fixture finalizer, also when the test fails."""
import json
import math
import os
import random
import shutil
import socket
import string
import struct
import subprocess
import sys
import threading
import time
import wave

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
import switchboard_server  # noqa: E402
from switchboard_server import BINARY, Server  # noqa: E402

BARESIP = shutil.which("baresip")
TEMPLATE = os.path.join(HERE, "baresip.conf.template")


def eventually(probe, done, timeout, message, interval=0.05):
    """Polls `probe()` until `done(observation)`, at most `timeout` seconds; returns the observation.
    On timeout, fails with `message` and the last observation."""
    deadline = time.monotonic() + timeout
    while True:
        observation = probe()
        if done(observation):
            return observation
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (not within {timeout} s; last seen: {observation!r})")
        time.sleep(interval)


# The softphones' SIP and ctrl_tcp ports come from 10000–19999, below the kernel's ephemeral range
# (32768–60999) where any outgoing connection could take a port between our choosing it and
# baresip binding it (CI once failed on exactly that), and never twice in one run.
QUIET_PORTS = range(10000, 20000)
_handed_out = set()


def _free(port, kind):
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(also_next=False):
    """A loopback port free for both TCP and UDP right now (SIP uses both on one port). With
    `also_next`, the port after it is free for TCP too: baresip 1.0 always opens SIP/TLS on the SIP
    port + 1 and has no setting to leave it out."""
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(QUIET_PORTS.start, QUIET_PORTS.stop - 1)
        ports = (port, port + 1) if also_next else (port,)
        if not _handed_out.isdisjoint(ports):
            continue
        if not (_free(port, socket.SOCK_STREAM) and _free(port, socket.SOCK_DGRAM)):
            continue
        if also_next and not _free(port + 1, socket.SOCK_STREAM):
            continue
        _handed_out.update(ports)
        return port
    raise RuntimeError(f"no free loopback port in {QUIET_PORTS}")


class Desktop:
    """One signed-in user speaking the REST API."""

    def __init__(self, url, username, password="switchboard"):
        self.url = url
        self.name = username
        answer = requests.post(f"{url}/v1/auth/login", json={"username": username, "password": password}, timeout=10)
        assert answer.status_code == 200, f"{username} cannot sign in: {answer.status_code} {answer.text}"
        self.token = answer.json()["token"]

    def call(self, method, path, body=None):
        return requests.request(method, f"{self.url}{path}", json=body,
                                headers={"Authorization": f"Bearer {self.token}"}, timeout=10)


class Softphone:
    """One baresip process and its ctrl_tcp connection."""

    def __init__(self, directory, name, account, wav, extra_config=""):
        """`extra_config`: lines added after the template's (e.g. a module to load and its options)."""
        self.name = name
        self.directory = directory
        os.makedirs(directory)
        self.sip_port = free_port(also_next=True)
        self.ctrl_port = free_port()
        with open(TEMPLATE) as template:
            config = string.Template(template.read()).substitute(
                sip_port=self.sip_port, ctrl_port=self.ctrl_port, wav=wav)
        with open(os.path.join(directory, "config"), "w") as file:
            file.write(config + extra_config)
        with open(os.path.join(directory, "accounts"), "w") as file:
            file.write(account + "\n")
        with open(os.path.join(directory, "contacts"), "w") as file:
            file.write("")
        self.log_path = os.path.join(directory, "baresip.log")
        self.log = open(self.log_path, "w")
        self.events = []          # every ctrl_tcp event, in order
        self.responses = {}       # token → response
        self.condition = threading.Condition()
        self.sock = None
        self.tokens = 0
        self.closed = False
        self.process = subprocess.Popen([BARESIP, "-f", directory, "-v", "-s"], cwd=directory,
                                        stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def connect(self):
        """Waits (bounded) until ctrl_tcp accepts a connection, then reads it in a thread."""
        name = self.name
        self.sock = eventually(self._connect, lambda sock: sock is not None, 15,
                               f"{name}: baresip's ctrl_tcp does not accept connections on 127.0.0.1:{self.ctrl_port}"
                               f"\n{self.log_text()}")
        self.reader = threading.Thread(target=self._read, name=f"ctrl_tcp {name}", daemon=True)
        self.reader.start()

    def _connect(self):
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name}: baresip exited with {self.process.returncode}\n{self.log_text()}")
        if "Address already in use" in self.log_text():  # ctrl_tcp's port was taken: it will never listen
            raise AssertionError(f"{self.name}: baresip could not bind a port\n{self.log_text()}")
        try:
            return socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
        except OSError:
            return None

    def _read(self):
        """Splits the stream into netstrings (`LEN:JSON,`): responses by token, events in order."""
        buffer = b""
        self.sock.settimeout(None)
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                with self.condition:
                    self.closed = True
                    self.condition.notify_all()
                return
            buffer += chunk
            while b":" in buffer:
                length, _, rest = buffer.partition(b":")
                size = int(length)
                if len(rest) < size + 1:
                    break
                message = json.loads(rest[:size])
                buffer = rest[size + 1:]
                with self.condition:
                    if message.get("response"):
                        self.responses[message.get("token")] = message
                    else:
                        self.events.append(message)
                    self.condition.notify_all()

    def command(self, command, params=None, timeout=10):
        """Sends a command and returns its response ({response, ok, data, token})."""
        self.tokens += 1
        token = f"{self.name}-{self.tokens}"
        body = {"command": command, "token": token}
        if params is not None:
            body["params"] = params
        payload = json.dumps(body).encode()
        self.sock.sendall(str(len(payload)).encode() + b":" + payload + b",")
        deadline = time.monotonic() + timeout
        with self.condition:
            while token not in self.responses:
                left = deadline - time.monotonic()
                assert left > 0, f"{self.name}: no response to {body} within {timeout} s\n{self.log_text()}"
                self.condition.wait(left)
            return self.responses.pop(token)

    def wait_event(self, kind, timeout, after=0):
        """The first event of type `kind` at or after index `after`; its index comes back too."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                for index in range(after, len(self.events)):
                    if self.events[index].get("type") == kind:
                        return index, self.events[index]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [event.get("type") for event in self.events]
                    raise AssertionError(f"{self.name}: no {kind} event within {timeout} s (events: {seen})"
                                         f"\n{self.log_text()}")
                self.condition.wait(left)

    def log_text(self, tail=12000):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors="replace") as file:
            text = file.read()
        return f"--- {self.name}'s baresip log (last {tail} chars) ---\n{text[-tail:]}"

    def stop(self):
        """`quit` over ctrl_tcp, then SIGTERM, then SIGKILL; each bounded."""
        if self.process.poll() is None and self.sock is not None:
            try:
                self.sock.settimeout(2)
                payload = json.dumps({"command": "quit", "token": "quit"}).encode()
                self.sock.sendall(str(len(payload)).encode() + b":" + payload + b",")
            except OSError:
                pass
        if self.process.poll() is None and self.sock is None:
            self.process.terminate()  # never reached over ctrl_tcp: nothing to ask `quit` of
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.sock is not None:
            self.sock.close()
        self.log.close()


class _StartWatch:
    """Stands in for `subprocess` inside the harness while it starts the server: records the process,
    so that a server which never prints its addresses is killed after `seconds` (the harness reads
    its output without a deadline; killing it ends that read)."""
    PIPE, DEVNULL = subprocess.PIPE, subprocess.DEVNULL

    def __init__(self, seconds):
        self.seconds = seconds
        self.started = []
        self.timer = None

    def Popen(self, *args, **kwargs):  # noqa: N802 (subprocess's name)
        process = subprocess.Popen(*args, **kwargs)
        self.started.append(process)
        self.timer = threading.Timer(self.seconds, lambda: process.poll() is None and process.kill())
        self.timer.daemon = True
        self.timer.start()
        return process

    def cancel(self):
        if self.timer is not None:
            self.timer.cancel()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A demo server on free loopback ports (HTTP and SIP). The binary may be rebuilt in place
    meanwhile: while it is missing, or stops before listening, wait and try again (bounded)."""
    if BARESIP is None:
        pytest.fail("baresip is not installed (apt-get install -y baresip-core)")
    deadline = time.monotonic() + 180
    attempt = 0
    while True:
        attempt += 1
        watch = _StartWatch(seconds=60)
        try:
            if not os.access(BINARY, os.X_OK):
                raise RuntimeError(f"{BINARY} is missing")
            with monkeypatch.context() as patch:
                patch.setattr(switchboard_server, "subprocess", watch)
                # The server's defaults: Debian bookworm's baresip (libre 1.1), which gives up on a
                # 401 carrying any SHA-256 challenge, is known by its User-Agent and offered MD5 alone.
                running = Server(tmp_path / f"switchboard-{attempt}.sqlite", "--drain-seconds", "0")
            watch.cancel()
            break
        except (RuntimeError, OSError) as error:
            watch.cancel()
            for process in watch.started:
                if process.poll() is None:
                    process.kill()
                process.wait(timeout=10)
            if time.monotonic() >= deadline:
                pytest.fail(f"the server could not be started: {error}")
            time.sleep(1)
    yield running
    if running.process.poll() is None:
        running.stop()


def write_tone_wav(path, frequency, seconds=60, amplitude=3000):
    """`seconds` of a steady `frequency` (whole hertz, repeating every 0.1 s when a multiple of 10),
    8 kHz mono 16-bit (G.711's rate), at `path`."""
    rate = 8000
    frame = b"".join(struct.pack("<h", int(amplitude * math.sin(2 * math.pi * frequency * n / rate)))
                     for n in range(rate // 10))
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(frame * (seconds * 10))
    return str(path)


@pytest.fixture
def wav(tmp_path):
    """60 s of a quiet 440 Hz tone, 8 kHz mono 16-bit (G.711's rate): the customer's microphone.
    Long enough that aufile does not reach the end (which would end the call) during the test."""
    return write_tone_wav(tmp_path / "tone.wav", 440)


@pytest.fixture
def softphone(tmp_path, wav):
    """Starts baresip softphones: `softphone(name, account_line)` (optionally with its own
    `microphone` WAV and `extra_config` lines); all are stopped afterwards, and their logs are
    printed (pytest shows them when the test fails)."""
    started = []

    def start(name, account, microphone=None, extra_config=""):
        # Should a port found free still be taken before baresip binds it, the start is retried on
        # fresh ports (bounded); anything else fails the test at once. baresip exits when it cannot
        # bind SIP, but only warns and runs on without ctrl_tcp when that cannot bind.
        for attempt in range(1, 4):
            directory = tmp_path / (name if attempt == 1 else f"{name}-{attempt}")
            phone = Softphone(str(directory), name, account, microphone or wav, extra_config)
            started.append(phone)  # before connecting: stopped even if that fails
            try:
                phone.connect()
                return phone
            except AssertionError:
                if attempt == 3 or "Address already in use" not in phone.log_text():
                    raise
                phone.stop()

    yield start
    for phone in started:
        phone.stop()
    for phone in started:
        print(phone.log_text(tail=20000))
