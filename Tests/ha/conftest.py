"""Two Switchboard nodes on one PostgreSQL database (docs/ha.md), for the pair's tests: each node a
real `serve` process on loopback, its output read line by line so a test can wait for what it says
("is the standby", "is running", "holds the lease", "lost the lease")."""
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from switchboard_server import BINARY, ROOT  # noqa: E402
from waiting import eventually  # noqa: E402

POSTGRES = os.environ.get("SWITCHBOARD_TEST_POSTGRES")


def new_database():
    parts = urllib.parse.urlsplit(POSTGRES)
    name = f"switchboard_pair_{uuid.uuid4().hex}"
    subprocess.run(["createdb", "-h", parts.hostname, "-p", str(parts.port), "-U", parts.username, name], check=True)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


class Node:
    """One node: `serve --database postgres://…` with the simulator and a short lease."""

    def __init__(self, name, database, folder, lease_seconds=1.5, port=0, sip_port=None, rtp_ports=None, extra=()):
        self.name = name
        self.lines = queue.Queue()
        self.said = []
        self.url = None
        # Without a SIP port: the simulator alone. With one: SIP (and the simulator beside it).
        telephony = (["--telephony", "simulator"] if sip_port is None else
                     ["--sip-port", str(sip_port), "--sip-tls-port", "off", "--sip-qualify-seconds", "0", "--rtp-ports", rtp_ports])
        self.process = subprocess.Popen(
            [BINARY, "serve", "--demo", "--host", "127.0.0.1", "--port", str(port), *telephony,
             "--database", database, "--node", name, "--lease-seconds", str(lease_seconds), "--drain-seconds", "0",
             "--recordings", str(folder / f"{name}.recordings"), "--desktop-grace-seconds", "3600", *extra],
            stdout=subprocess.PIPE, stderr=open(folder / f"{name}.log", "a"), text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern, timeout=20):
        """The first line (from now on, or already said) matching `pattern`; its match."""
        for line in self.said:
            if (match := re.search(pattern, line)):
                self.said.remove(line)
                return match
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if (match := re.search(pattern, line)):
                return match
            self.said.append(line)
        raise AssertionError(f"{self.name} did not say /{pattern}/ in {timeout} s; it said {self.said}")

    def running(self):
        """Waits until this node serves as the active one; its URL."""
        self.url = self.wait_for(r"Switchboard is running: (http://127\.0\.0\.1:\d+)/").group(1)
        return self.url

    def standing_by(self):
        self.url = self.wait_for(r"Switchboard is the standby: (http://127\.0\.0\.1:\d+)/").group(1)
        return self.url

    def health(self):
        answer = requests.get(f"{self.url}/health", timeout=5)
        return answer.status_code, answer.json()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(18)  # SIGCONT: a paused node cannot stop
            stop_process(self.process)


def stop_process(process):
    """SIGTERM to the process we started, by its own pid; SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def until(condition, what, timeout=15):
    """`eventually`, a request that finds no node (refused, reset) taken as "not yet"."""
    def attempt():
        try:
            return condition()
        except requests.RequestException:
            return None
    return eventually(attempt, what, timeout=timeout)


def settled(front):
    """Waits until the front sends everything to the active node: four answers in a row from it
    (HAProxy starts by thinking both nodes up, and takes a second to mark the standby down)."""
    until(lambda: all(requests.get(f"{front.url}/health", timeout=2).status_code == 200 for _ in range(4)),
          "the front to send everything to the active node")


def sip_pair(pair, **options):
    """Node a (active, then) and node b (the standby), each with SIP on a port of its own and its
    own RTP range; `options` go to both (a database, say) and `http` gives their HTTP ports.
    Returns (a, b, their SIP ports)."""
    sip, http = (free_port(), free_port()), options.pop("http", (0, 0))
    a = pair("a", port=http[0], sip_port=sip[0], rtp_ports="31000-31999", **options)
    a.running()
    b = pair("b", port=http[1], sip_port=sip[1], rtp_ports="32000-32999", **options)
    b.standing_by()
    return a, b, sip


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Kamailio:
    """Kamailio with the repository's deploy/kamailio.cfg, in front of two nodes' SIP ports."""

    def __init__(self, folder, node_sip_ports):
        self.port = free_port()
        listing = folder / "switchboard.list"
        # Node A first: of the active ones, the highest priority gets new calls.
        listing.write_text("".join(f"1 sip:127.0.0.1:{port} 0 {10 - index}\n" for index, port in enumerate(node_sip_ports)))
        config = os.path.join(ROOT, "deploy", "kamailio.cfg")
        self.log = open(folder / "kamailio.log", "w")
        self.process = subprocess.Popen(
            ["kamailio", "-DD", "-E", "-f", config, "-l", f"udp:127.0.0.1:{self.port}", "-A", f'DISPATCHER_LIST="{listing}"',
             "-P", str(folder / "kamailio.pid"), "-Y", str(folder), "-m", "32", "-M", "8"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        stop_process(self.process)


def starter(kind, tmp_path):
    """A fixture's body: a function that starts `kind(tmp_path, …)`, and every one it started
    stopped afterwards."""
    started = []

    def start(*arguments):
        running = kind(tmp_path, *arguments)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def kamailio(tmp_path):
    yield from starter(Kamailio, tmp_path)


class PostgresPair:
    """A PostgreSQL primary with a synchronous standby (scripts/postgres-pair-for-tests) and HAProxy
    (deploy/haproxy-postgres.cfg) giving them one address that follows the primary."""

    def __init__(self, folder):
        # Under /tmp, not the test's folder: as root, the servers run as `postgres`, who must be
        # able to reach it (pytest's folders are private to their owner).
        self.folder = tempfile.mkdtemp(prefix="switchboard-postgres-pair-")
        self.script = os.path.join(ROOT, "scripts", "postgres-pair-for-tests")
        self.haproxy = None
        try:
            self._start(folder)
        except BaseException:
            self.stop()  # whatever was started, stopped: the fixture never yields to stop it
            raise

    def _start(self, folder):
        ports = subprocess.run([self.script, "start", str(self.folder)], capture_output=True, text=True, check=True).stdout.split()
        self.primary, self.standby = int(ports[0]), int(ports[1])
        self.port = free_port()
        config = os.path.join(ROOT, "deploy", "haproxy-postgres.cfg")
        environment = {**os.environ, "SWITCHBOARD_POSTGRES_FRONT": f"127.0.0.1:{self.port}",
                       "SWITCHBOARD_POSTGRES_PRIMARY": f"127.0.0.1:{self.primary}",
                       "SWITCHBOARD_POSTGRES_STANDBY": f"127.0.0.1:{self.standby}"}
        self.haproxy = subprocess.Popen(["haproxy", "-db", "-f", config], env=environment,
                                        stdout=subprocess.DEVNULL, stderr=open(folder / "haproxy-postgres.log", "w"))
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(self.primary), "-U", "switchboard", "switchboard"], check=True)
        self.url = f"postgres://switchboard@127.0.0.1:{self.port}/switchboard"

    def kill_primary(self):
        subprocess.run([self.script, "kill", str(self.folder)], check=True)

    def promote(self):
        subprocess.run([self.script, "promote", str(self.folder)], check=True)

    def stop(self):
        if self.haproxy is not None:
            stop_process(self.haproxy)
        subprocess.run([self.script, "stop", str(self.folder)], check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def postgres_pair(tmp_path):
    running = PostgresPair(tmp_path)
    yield running
    running.stop()


class Front:
    """HAProxy with the repository's deploy/haproxy.cfg, in front of two nodes' HTTP ports."""

    def __init__(self, folder, node_ports):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = os.path.join(ROOT, "deploy", "haproxy.cfg")
        environment = {**os.environ, "SWITCHBOARD_FRONT": f"127.0.0.1:{self.port}",
                       "SWITCHBOARD_NODE_A": f"127.0.0.1:{node_ports[0]}", "SWITCHBOARD_NODE_B": f"127.0.0.1:{node_ports[1]}"}
        subprocess.run(["haproxy", "-c", "-q", "-f", config], env=environment, check=True)
        self.process = subprocess.Popen(["haproxy", "-db", "-f", config], env=environment,
                                        stdout=subprocess.DEVNULL, stderr=open(folder / "haproxy.log", "w"))

    def stop(self):
        stop_process(self.process)


@pytest.fixture
def front(tmp_path):
    yield from starter(Front, tmp_path)


@pytest.fixture
def pair(tmp_path):
    """Starts nodes on one new database; stops every one afterwards."""
    if not POSTGRES:
        pytest.fail("SWITCHBOARD_TEST_POSTGRES is not set: scripts/test starts a PostgreSQL server for these tests")
    database = new_database()
    started = []

    def start(name, database=database, **options):
        node = Node(name, database, tmp_path, **options)
        started.append(node)
        return node

    start.database = database
    yield start
    for node in started:
        node.stop()


# MARK: Desktops and what phones heard, for the tests with calls

class Desk:
    """An agent's or the supervisor's REST session; `url`: whichever node serves now."""

    def __init__(self, url, name):
        self.url, self.name = url, name
        self.token = requests.post(f"{url}/v1/auth/login", json={"username": name, "password": "switchboard"}, timeout=5).json()["token"]

    def call(self, method, path, body=None):
        answer = requests.request(method, f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {self.token}"}, timeout=5)
        assert answer.status_code in (200, 201), f"{self.name} {method} {path}: {answer.status_code} {answer.text}"
        return answer.json()


def fetched(desk, path):
    """GET through the front, or None while it has no node to send it to (the failover's gap)."""
    try:
        answer = requests.get(f"{desk.url}{path}", headers={"Authorization": f"Bearer {getattr(desk, 'token', '')}"}, timeout=2)
    except requests.RequestException:
        return None
    return answer.json() if answer.status_code == 200 else None


def participant(task, agent):
    return next((p for p in task["participants"] if p.get("agentId") == agent), None)


def heard(phone, since, seconds=1.5):
    """What `phone` heard in the window from `since` (waited for, never slept through by chance)."""
    eventually(lambda: time.monotonic() > since + seconds, f"{phone.name}'s window to close", timeout=seconds + 5)
    return phone.tone.hearing(since, since + seconds)
