"""The browser as a phone, over real HTTP and real WebRTC: aiortc (PyPI), an implementation
independent of the server's, plays each browser, the agents' desktops (a WebRTC session for the
sign-in, station `browser`) and the customers' web-call pages alike. Each peer's microphone is a
tone of its own and each records what it receives, so a test says who hears whom by ear.

Each test starts its own server (`serve --demo`, see Tests/support/switchboard_server.py) and stops
it, and closes every peer it made. A module's servers take their media ports from the module's
RTP_PORTS (a range of its own within 20000–29999), so no two modules ever offer the same port.

Waiting is always for a state, polled with a deadline (`eventually`), never a fixed sleep; the only
sleeps let audio accumulate for a listening window (`listen`).

Run: `python3 -m pytest -q Tests/webrtc` (the server binary is .build/debug/switchboard, or the
one SWITCHBOARD_BINARY names); -s prints every listening window's measurements.

Tones: the customer 440 Hz (1250 Hz from a page that reconnected), Agent 1 1000 Hz, Agent 2 1500 Hz; the server's built-in music is a
phrase of 520, 660, 780 and 660 Hz.
"""
import os
import re
import sys
import threading
import time

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from switchboard_server import BINARY, Server  # noqa: E402
from waiting import eventually  # noqa: E402,F401  (the tests import it from here)
from webrtc_peer import WebRTCPeer  # noqa: E402

PASSWORD = "switchboard"
# How long any awaited state may take (the server answers in milliseconds; this is for a busy machine).
DEADLINE = 10.0
# Tones.
CUSTOMER_TONE = 440
AGENT1_TONE = 1000
AGENT2_TONE = 1500
CUSTOMER2_TONE = 1250  # the customer's page after it reconnects (a new peer)
MUSIC_NOTES = (520, 660, 780)
SOURCES = {"customer": CUSTOMER_TONE, "customer2": CUSTOMER2_TONE, "agent1": AGENT1_TONE, "agent2": AGENT2_TONE,
           "music": MUSIC_NOTES}

# A listening window: it starts once a state is observed through the API; its first SETTLE seconds
# are not judged (the media plan reaching the media engine, packets in flight, aiortc's jitter
# buffer), the next WINDOW seconds are.
SETTLE = 0.5
WINDOW = 1.5

# Thresholds on a source's share of the window's energy (the Goertzel score, see webrtc_peer.py). A
# party's tone heard alone scores about 1, two parties mixed about 0.5 each; the music's notes
# together about 0.35 (660 Hz 0.23, 520 and 780 Hz about 0.06 each); a source not heard scores
# 1e-5 or less (G.711's quantization noise).
HEARD = 0.05
NOT_HEARD = 0.01
MUSIC_HEARD = 0.1  # the notes' shares summed
MUSIC_NOT_HEARD = 0.01  # each note's share


def pytest_configure(config):
    if not os.path.exists(BINARY):
        raise pytest.UsageError(f"the server binary is missing: {BINARY} (build it, or set SWITCHBOARD_BINARY)")




# MARK: Servers and peers


@pytest.fixture
def start_server(tmp_path, request):
    """`start_server(*options)`: a server with these `serve` options, plus "--drain-seconds 0" and
    the module's RTP_PORTS unless the options give their own. Every one is stopped afterwards."""
    started = []

    def start(*options):
        if "--drain-seconds" not in options:
            options = (*options, "--drain-seconds", "0")
        if "--rtp-ports" not in options:
            options = (*options, "--rtp-ports", request.module.RTP_PORTS)
        running = Server(tmp_path / f"switchboard-{len(started)}.sqlite", *options)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.stop()


@pytest.fixture
def peers():
    """`peers(frequency)`: a new aiortc browser whose microphone plays that tone; all are closed
    afterwards. `peers.freeze(peer)` stops a peer dead (see below)."""
    made = []
    gates = []

    def make(frequency):
        peer = WebRTCPeer(frequency)
        made.append(peer)
        return peer

    def freeze(peer):
        """Blocks the peer's asyncio loop: from now on it sends nothing at all (no ICE consent
        check, no media, no DTLS close), as a browser whose machine went to sleep or lost its
        network. It is let go at the end, to be closed."""
        gate = threading.Event()
        gates.append(gate)
        peer.loop.call_soon_threadsafe(gate.wait)

    make.freeze = freeze
    yield make
    for gate in gates:
        gate.set()
    failures = []
    for peer in made:
        try:
            peer.close()
        except Exception as error:  # every peer is closed, whatever one of them does
            failures.append(f"{peer.frequency} Hz: {error!r}")
    assert not failures, f"peers that did not close: {failures}"


@pytest.fixture
def rtp_sequence_start(monkeypatch):
    """`rtp_sequence_start(n)`: the peers whose RTP starts from now on start their sequence numbers
    at `n` (None: at random again). A browser picks its first sequence number at random (RFC 3550
    §5.1); a test that replaces one peer by another fixes both, so what it checks does not depend
    on the luck of the draw."""
    import aiortc.rtcrtpsender

    chosen = [None]
    random_start = aiortc.rtcrtpsender.random_sequence_number
    monkeypatch.setattr(aiortc.rtcrtpsender, "random_sequence_number",
                        lambda: random_start() if chosen[0] is None else chosen[0])

    def choose(start):
        chosen[0] = start

    return choose


def close_peer_connection(peer):
    """The page goes away (a reload, a closed tab): its peer connection closes (aiortc sends DTLS
    close_notify). The peer object itself is closed by the `peers` fixture."""
    peer._run(peer.pc.close(), timeout=10)


# MARK: Users


class User:
    """One signed-in user (a desktop), speaking the REST API."""

    def __init__(self, server, username, password=PASSWORD):
        self.server = server
        self.name = username
        answer = requests.post(f"{server.url}/v1/auth/login", json={"username": username, "password": password}, timeout=10)
        assert answer.status_code == 200, f"{username} signs in: {answer.status_code} {answer.text}"
        self.token = answer.json()["token"]
        self.browser = None  # the WebRTCPeer of the current media session
        self.session = None  # its Location
        self.answer = None  # the server's SDP answer to it

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method, path, body=None, headers=None):
        return requests.request(method, f"{self.server.url}{path}", json=body, headers={**self.headers, **(headers or {})},
                                timeout=10)

    def me(self):
        answer = self.call("GET", "/v1/me")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def available(self):
        answer = self.call("PUT", "/v1/me/state", {"state": "available"})
        assert answer.status_code == 200, f"{self.name} available: {answer.status_code} {answer.text}"

    def station(self, station):
        return self.call("PUT", "/v1/me/station", {"station": station})

    def webrtc_connected(self):
        answer = self.call("GET", "/v1/me/webrtc")
        assert answer.status_code == 200, answer.text
        return answer.json()["connected"]

    def open_browser(self, peer):
        """POSTs `peer`'s offer as this user's media session (201 expected); waits until the server
        says it is connected. Returns the response (its body is the server's SDP answer)."""
        answer = peer.post(f"{self.server.url}/v1/me/webrtc", self.headers)
        assert answer.status_code == 201, f"{self.name}'s session: {answer.status_code} {answer.text}"
        assert answer.headers["Content-Type"].startswith("application/sdp"), answer.headers
        assert re.fullmatch(r"/v1/me/webrtc/[^/]+", answer.headers["Location"]), answer.headers["Location"]
        self.browser, self.session, self.answer = peer, answer.headers["Location"], answer.text
        eventually(self.webrtc_connected, f"{self.name}'s WebRTC session to connect")
        return answer

    def close_browser(self):
        """The desktop ends its session (DELETE on its location): 204."""
        answer = self.call("DELETE", self.session)
        assert answer.status_code == 204, f"{self.name} DELETE {self.session}: {answer.status_code} {answer.text}"

    # Tasks.

    def tasks(self):
        answer = self.call("GET", "/v1/tasks")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def task(self, task):
        answer = self.call("GET", f"/v1/tasks/{task}")
        return answer.json() if answer.status_code == 200 else None

    def command(self, task, name, body=None, expect=200):
        answer = self.call("POST", f"/v1/tasks/{task}/{name}", body)
        assert answer.status_code == expect, f"{self.name} {name}: {answer.status_code} {answer.text}"
        return answer.json()

    def offered(self):
        """The task offered to this agent now (waits for it)."""
        return eventually(lambda: next((task for task in self.tasks() if participant(task, self.name)["state"] == "ringing"), None),
                          f"a task to be offered to {self.name}")

    def wait_task(self, task, predicate, what):
        return eventually(lambda: (lambda seen: seen if seen and predicate(seen) else None)(self.task(task)), what)


def participant(task, agent):
    return next((p for p in task["participants"] if p.get("agentId") == agent), {"state": None})


def sign_in(server, username):
    """`username` signed in (not available yet)."""
    return User(server, username)


def browser_agent(server, peers, username, tone):
    """`username` signed in, with a connected WebRTC session (an aiortc browser playing `tone`) and
    station `browser`; not available yet."""
    agent = User(server, username)
    agent.open_browser(peers(tone))
    answer = agent.station("browser")
    assert answer.status_code == 200, f"{username}: station browser: {answer.status_code} {answer.text}"
    return agent


# MARK: Web calls


def post_web_call(server, peer, number="2000"):
    """POSTs `peer`'s offer as a customer's web call to `number` (no sign-in); the response."""
    return peer.post(f"{server.url}/v1/webcalls/{number}")


def web_call_state(server, location):
    answer = requests.get(f"{server.url}{location}", timeout=10)
    assert answer.status_code == 200, f"GET {location}: {answer.status_code} {answer.text}"
    return answer.json()["state"]


def web_call(server, peer, number="2000"):
    """A customer's web call from `peer` (201 expected, the answer applied), once connected."""
    answer = post_web_call(server, peer, number)
    assert answer.status_code == 201, f"web call to {number}: {answer.status_code} {answer.text}"
    assert re.fullmatch(rf"/v1/webcalls/{number}/[^/]+", answer.headers["Location"]), answer.headers["Location"]
    eventually(lambda: web_call_state(server, peer.location) == "connected", "the web call to connect")
    return peer


def error_code(answer):
    try:
        return answer.json()["error"]["code"]
    except ValueError:
        return None


# MARK: Listening


class Hearing:
    """What one peer received in a window: each source's share, and how many samples."""

    def __init__(self, name, scores, samples):
        self.name, self.scores, self.samples = name, scores, samples

    def share(self, source):
        tone = SOURCES[source]
        return sum(self.scores[note] for note in tone) if source == "music" else self.scores[tone]

    def hears(self, source):
        return self.share(source) >= (MUSIC_HEARD if source == "music" else HEARD)

    def silent_on(self, source):
        if source == "music":
            return all(self.scores[note] < MUSIC_NOT_HEARD for note in MUSIC_NOTES)
        return self.share(source) < NOT_HEARD

    def __repr__(self):
        shares = ", ".join(f"{source} {self.share(source):.4f}" for source in SOURCES)
        return f"{self.name} ({self.samples} samples): {shares}"


def listen(state, **parties):
    """Every named peer's hearing in a window that starts now that `state` is in place."""
    start = time.monotonic()
    while time.monotonic() < start + SETTLE + WINDOW:  # the window's length: audio accumulating, not a wait for a state
        time.sleep(0.05)
    frequencies = (CUSTOMER_TONE, CUSTOMER2_TONE, AGENT1_TONE, AGENT2_TONE, *MUSIC_NOTES)
    heard = {}
    for name, peer in parties.items():
        scores, samples = peer.heard(start + SETTLE, start + SETTLE + WINDOW, frequencies)
        heard[name] = Hearing(name, scores, samples)
        print(f"[{state}] {heard[name]}")
    return heard


def expect(heard, state, **parties):
    """Each named party hears exactly the sources given (names from SOURCES; an empty set: none of
    them, silence or no audio at all); every other source stays under its NOT_HEARD threshold."""
    problems = []
    for party, sources in parties.items():
        hearing = heard[party]
        for source in SOURCES:
            if source in sources and not hearing.hears(source):
                problems.append(f"{party} should hear {source}")
            if source not in sources and not hearing.silent_on(source):
                problems.append(f"{party} should not hear {source}")
    assert not problems, f"[{state}] " + "; ".join(problems) + "\n" + "\n".join(repr(h) for h in heard.values())


def hears_exactly(state, **parties):
    """Listens to the peers given as name=(peer, sources) and checks each hears exactly its sources."""
    heard = listen(state, **{name: peer for name, (peer, _) in parties.items()})
    expect(heard, state, **{name: sources for name, (_, sources) in parties.items()})
    return heard


# MARK: Metrics


def dropped(server):
    """switchboard_webrtc_dropped_total by reason, from /metrics."""
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    counts = {}
    for match in re.finditer(r'^switchboard_webrtc_dropped_total\{reason="([^"]*)"\} (\S+)$', text, re.MULTILINE):
        counts[match.group(1)] = float(match.group(2))
    return counts


def on_a_call(server, peers, agent_tone=AGENT1_TONE):
    """agent1 on the browser station, connected to a web-call customer; (agent1, customer, task)."""
    agent1 = browser_agent(server, peers, "agent1", agent_tone)
    agent1.available()
    customer = web_call(server, peers(CUSTOMER_TONE))
    task = agent1.offered()["id"]
    agent1.command(task, "accept")
    agent1.wait_task(task, lambda t: t["status"] == "connected" and t["customer"]["state"] == "connected", "the call to connect")
    return agent1, customer, task
