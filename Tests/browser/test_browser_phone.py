"""The browser is the phone: who hears whom, by tones, with headless Chromium's fake microphone.

Each Chromium is started with its own WAV file as its microphone (a steady tone: the customer
440 Hz, Agent 1 1000 Hz, Agent 2 1500 Hz) and each page reports what it receives through its
phone's spectrum (`window.switchboardPhone.hearing()`: the share of the received power at each
frequency since `listen()`). SIP parties are Python: a customer's INVITE from the trusted
loopback trunk, and an agent's registered phone (test_desktop_station.SipPhone), each with a
TonePeer (Tests/sip/tone_peer.py) for its media, which scores what it hears the same way.

Four walks: a browser customer with a browser agent; a SIP customer with a browser agent; a
browser customer with a phone agent; and the spec's conference walk — a SIP customer, a browser
Agent 1 and a phone Agent 2 through hold, consult, conference, exit and end — asserting in each
state exactly who hears whom. Waiting is for states (the page, the API); a hearing is a window of
audio taken once the state it measures is in place.
"""
import math
import os
import re
import socket
import struct
import sys
import time
import uuid
import wave

import pytest
import requests

from test_desktop_resilience import RestUser
from test_desktop_station import SipPhone, parse_sip, status_of

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sip"))
from tone_peer import AGENT1_TONE, AGENT2_TONE, CUSTOMER_TONE, MUSIC_NOTES, SUPERVISOR_TONE, TonePeer  # noqa: E402

TONES = {"customer": CUSTOMER_TONE, "agent1": AGENT1_TONE, "agent2": AGENT2_TONE, "supervisor": SUPERVISOR_TONE}
FREQUENCIES = [CUSTOMER_TONE, AGENT1_TONE, AGENT2_TONE, SUPERVISOR_TONE, *MUSIC_NOTES]
# A tone heard steadily scores 0.3–1 of the received power; one not sent at all under 0.001. Two
# voices mixed score about half each; the music's notes a quarter or less each.
PRESENT = 0.04
ABSENT = 0.01
WINDOW = 2.0   # seconds of audio per hearing
SETTLE = 0.6   # after a change is seen, before its window starts


def tone_wav(path, frequency, seconds=10, rate=48_000):
    """A mono 16-bit WAV of one steady tone (Chromium loops it as the microphone)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        # Whole cycles per file, so the loop has no click.
        samples = [int(9000 * math.sin(2 * math.pi * frequency * n / rate)) for n in range(seconds * rate)]
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return str(path)


@pytest.fixture
def microphones(tmp_path):
    return {party: tone_wav(tmp_path / f"{party}.wav", frequency) for party, frequency in TONES.items()}


# MARK: Hearing

class BrowserEar:
    """What a page receives, through its phone."""

    def __init__(self, page, name):
        self.page, self.name = page, name

    def listen(self):
        self.page.js("window.switchboardPhone.listen()")

    def scores(self):
        scores = self.page.js("return window.switchboardPhone.hearing(arguments[0])", FREQUENCIES)
        scores.pop("rms", None)
        return scores


class PeerEar:
    """What a TonePeer receives."""

    def __init__(self, peer, name):
        self.peer, self.name = peer, name
        self.since = None

    def listen(self):
        self.since = time.monotonic()

    def scores(self):
        hearing = self.peer.hearing(self.since, time.monotonic())
        return {str(frequency): hearing.scores[frequency] for frequency in FREQUENCIES}


def hears(ears, expected, present=PRESENT):
    """Starts every ear, waits one window, then checks each hears exactly what `expected` says:
    {ear name: set of 'customer', 'agent1', 'agent2', 'supervisor', 'music'} (an empty set: silence).
    `present`: the share a tone heard must reach (lower where a loud tone peer is mixed with a
    browser's quieter microphone: Chromium's audio processing lowers the fake tone)."""
    time.sleep(SETTLE)   # the change just seen reaches the media (not a wait for a state)
    for ear in ears:
        ear.listen()
    time.sleep(WINDOW)   # the window of audio being measured
    problems = []
    for ear in ears:
        scores = {int(float(key)): value for key, value in ear.scores().items()}
        music = max(scores[note] for note in MUSIC_NOTES)
        heard = {party for party, tone in TONES.items() if scores[tone] > present}
        if music > present / 2:
            heard.add("music")
        want = expected[ear.name]
        absent_ok = all(scores[TONES[party]] < ABSENT for party in TONES if party not in want)
        if heard != want or not absent_ok:
            problems.append(f"{ear.name} heard {sorted(heard)} (want {sorted(want)}): "
                            + " ".join(f"{k}:{v:.3g}" for k, v in scores.items()))
    assert not problems, "; ".join(problems)


# MARK: SIP parties

class SipCustomer:
    """A customer calling `number` over SIP from the trusted loopback trunk, its media a TonePeer."""

    def __init__(self, server, number="2000"):
        self.server = server
        self.number = number
        self.peer = TonePeer("customer", CUSTOMER_TONE)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.call_id = f"{uuid.uuid4().hex}@127.0.0.1"
        self.tag = uuid.uuid4().hex[:10]
        self.remote_tag = None
        self.target = ("127.0.0.1", server.sip_port)

    def call(self):
        """INVITE, then (once answered: the call reached its queue) ACK and the tone."""
        sdp = "\r\n".join(["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
                           f"m=audio {self.peer.port} RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000",
                           "a=rtpmap:101 telephone-event/8000", ""])
        self.invite = self.request("INVITE", 1, sdp)
        deadline = time.monotonic() + 10
        while True:
            self.socket.settimeout(max(0.1, deadline - time.monotonic()))
            data, _ = self.socket.recvfrom(65535)
            start, headers, body = parse_sip(data)
            status = status_of(start)
            if status and status >= 200:
                assert status == 200, f"the customer's INVITE was answered {start}"
                break
        self.remote_tag = re.search(r"tag=([^;>\s]+)", headers["to"][0]).group(1)
        port = int(re.search(r"m=audio (\d+)", body).group(1))
        self.request("ACK", 1)
        self.peer.send_to("127.0.0.1", port)
        return self

    def request(self, method, cseq, body=""):
        to = f"<sip:{self.number}@127.0.0.1>" + (f";tag={self.remote_tag}" if self.remote_tag else "")
        lines = [f"{method} sip:{self.number}@127.0.0.1:{self.target[1]} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex};rport",
                 "Max-Forwards: 70", f"From: \"Customer\" <sip:+15550100@127.0.0.1>;tag={self.tag}", f"To: {to}",
                 f"Call-ID: {self.call_id}", f"CSeq: {cseq} {method}", f"Contact: <sip:customer@127.0.0.1:{self.port}>"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines += [f"Content-Length: {len(body.encode())}", "", body]
        text = "\r\n".join(lines)
        self.socket.sendto(text.encode(), self.target)
        return text

    def hang_up(self):
        self.request("BYE", 2)

    def close(self):
        self.peer.close()
        self.socket.close()


class PhoneAgent(SipPhone):
    """An agent's registered SIP phone whose answer points at a TonePeer playing the agent's tone."""

    def __init__(self, server, agent):
        super().__init__(server, agent)
        self.peer = TonePeer(agent, TONES[agent])

    def wait_ringing(self, timeout=10):
        start, headers, body = self.receive(lambda start, headers: start.startswith("INVITE "), "INVITE", timeout)
        self.invite = (start, headers)
        self.offer = body
        self.respond(180, "Ringing")
        return start.split()[1]

    def pick_up(self):
        sdp = "\r\n".join(["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
                           f"m=audio {self.peer.port} RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000",
                           "a=rtpmap:101 telephone-event/8000", ""])
        call_id = self.invite[1]["call-id"][0]
        self.respond(200, "OK", sdp)
        self.receive(lambda start, headers: start.startswith("ACK ") and headers.get("call-id", [""])[0] == call_id,
                     "ACK for the answer")
        self.peer.send_to("127.0.0.1", int(re.search(r"m=audio (\d+)", self.offer).group(1)))

    def close(self):
        self.peer.close()
        super().close()


# MARK: Pages

def browser_agent(browsers, user, microphone):
    """A signed-in agent whose station is the browser (the phone connected), Available."""
    page = browsers(user, audio=microphone)
    page.choose_station("Browser")
    page.wait_station("Browser")
    page.wait(lambda driver: page.js("return document.querySelector('#phone-panel').dataset.phone") == "connected",
              f"{user}'s browser phone connected")
    page.become_available()
    return page


def web_customer(browsers, server, microphone, number="2000"):
    """The customer's page at /call/{number}, calling: connected and queued."""
    page = browsers(None, audio=microphone)
    page.driver.get(f"{server.url}/call/{number}")
    page.wait_visible("#call-start", "the Call button").click()
    page.wait(lambda driver: page.js("return document.querySelector('#call-state').dataset.state") == "connected",
              "the customer's web call connected")
    return page


# MARK: The walks

def test_a_browser_customer_and_a_browser_agent_hear_each_other_and_the_queue_music_before(server, browsers, microphones):
    agent = browser_agent(browsers, "agent1", microphones["agent1"])
    customer = web_customer(browsers, server, microphones["customer"])
    customer_ear, agent_ear = BrowserEar(customer, "customer"), BrowserEar(agent, "agent1")
    agent.wait_card()
    # Ringing: the customer waits with the queue's music; the agent's page rings (it hears nothing of the call).
    hears([customer_ear], {"customer": {"music"}})
    agent.press("accept")
    agent.wait_card(status="connected")
    hears([customer_ear, agent_ear], {"customer": {"agent1"}, "agent1": {"customer"}})
    # Mute: the customer hears nothing of the agent (and the agent still hears the customer).
    agent.find("#phone-mute").click()
    agent.wait(lambda driver: agent.find("#phone-mute").get_attribute("aria-pressed") == "true", "Mute pressed")
    hears([customer_ear, agent_ear], {"customer": set(), "agent1": {"customer"}})
    agent.find("#phone-mute").click()
    hears([customer_ear], {"customer": {"agent1"}})
    # The customer hangs up from the page: the agent's call ends and wants its wrap-up.
    customer.find("#call-end").click()
    agent.wait_wrapup_dialog()


def test_a_sip_customer_and_a_browser_agent_hear_each_other_through_hold_and_resume(server, browsers, microphones):
    agent = browser_agent(browsers, "agent1", microphones["agent1"])
    customer = SipCustomer(server).call()
    try:
        agent_ear, customer_ear = BrowserEar(agent, "agent1"), PeerEar(customer.peer, "customer")
        agent.press("accept")
        agent.wait_card(status="connected")
        hears([customer_ear, agent_ear], {"customer": {"agent1"}, "agent1": {"customer"}})
        agent.press("hold")
        agent.wait_card(status="held")
        hears([customer_ear, agent_ear], {"customer": {"music"}, "agent1": set()})
        agent.press("resume")
        agent.wait_card(status="connected")
        hears([customer_ear, agent_ear], {"customer": {"agent1"}, "agent1": {"customer"}})
        customer.hang_up()
        agent.wait_wrapup_dialog()
    finally:
        customer.close()


def test_a_browser_customer_and_a_phone_agent_hear_each_other(server, browsers, microphones):
    phone = PhoneAgent(server, "agent1").register()
    try:
        rest = RestUser(server, "agent1")
        rest.send("PUT", "/v1/me/station", {"station": "phone"})
        rest.become("available")
        customer = web_customer(browsers, server, microphones["customer"])
        phone.wait_ringing()
        phone.pick_up()
        customer_ear, phone_ear = BrowserEar(customer, "customer"), PeerEar(phone.peer, "agent1")
        hears([customer_ear, phone_ear], {"customer": {"agent1"}, "agent1": {"customer"}})
    finally:
        phone.close()


def test_the_conference_walk_with_a_sip_customer_a_browser_agent1_and_a_phone_agent2(server, browsers, microphones):
    """The spec's rows by ear: Agent 1 (browser) holds, consults Agent 2 (phone), conferences;
    Agent 2 exits; then Agent 1 ends the call."""
    agent2_phone = PhoneAgent(server, "agent2").register()
    agent2 = RestUser(server, "agent2")
    agent2.send("PUT", "/v1/me/station", {"station": "phone"})
    agent1 = browser_agent(browsers, "agent1", microphones["agent1"])
    customer = SipCustomer(server).call()
    try:
        ears = [PeerEar(customer.peer, "customer"), BrowserEar(agent1, "agent1"), PeerEar(agent2_phone.peer, "agent2")]
        agent1.press("accept")
        agent1.wait_card(status="connected")
        hears(ears[:2], {"customer": {"agent1"}, "agent1": {"customer"}})

        agent1.press("hold")
        agent1.wait_card(status="held")
        hears(ears[:2], {"customer": {"music"}, "agent1": set()})

        # Consult Agent 2 (Available on the phone): the customer stays on music; the agents talk alone.
        agent2.become("available")
        agent1.consult_agent("agent2")
        agent2_phone.wait_ringing()
        agent2_phone.pick_up()
        agent1.wait_card(status="consulting")
        hears(ears, {"customer": {"music"}, "agent1": {"agent2"}, "agent2": {"agent1"}})

        # Conference: everyone hears the other two.
        agent1.press("consult/conference")
        agent1.wait_card(status="conferenced")
        hears(ears, {"customer": {"agent1", "agent2"}, "agent1": {"customer", "agent2"}, "agent2": {"customer", "agent1"}})

        # Agent 2 exits: the customer and Agent 1 hear each other; Agent 2's phone hears nothing more.
        agent2.command(agent1.task_id(), "conference/exit")
        agent1.wait_party("agent2", state="left")
        agent1.wait_card(status="connected")
        hears(ears, {"customer": {"agent1"}, "agent1": {"customer"}, "agent2": set()})

        # Agent 1 ends the call: the customer's line is hung up, and nobody hears anyone.
        agent1.press("end")
        agent1.wait_wrapup_dialog()
        hears(ears[:2], {"customer": set(), "agent1": set()})
    finally:
        customer.close()
        agent2_phone.close()


# MARK: A secure context

NAME = "switchboard.test"  # not a loopback name: a page there is a secure context only over HTTPS


def test_a_page_that_is_not_a_secure_context_is_refused_the_browser_station_in_words(server, browsers, microphones):
    port = server.url.rsplit(":", 1)[1]
    agent = browsers("agent1", url=f"http://{NAME}:{port}", audio=microphones["agent1"], resolve={NAME: "127.0.0.1"})
    assert agent.js("return window.isSecureContext") is False
    agent.choose_station("Browser")
    agent.wait(lambda driver: "secure context" in agent.station_error(), "the station's refusal in words")
    agent.wait_station("Desktop")
    assert "Calls still ring on the Desktop" in agent.station_error()


@pytest.mark.serve("--https", "--https-name", NAME)
def test_over_https_the_desktop_has_the_microphone_and_a_web_call_is_heard(server, browsers, microphones):
    assert server.url.startswith("https://")
    origin = f"https://{NAME}:{server.url.rsplit(':', 1)[1]}"
    trusting = ("--ignore-certificate-errors",)  # the certificate made at start, for NAME
    agent = browsers("agent1", url=origin, audio=microphones["agent1"], resolve={NAME: "127.0.0.1"}, flags=trusting)
    assert agent.js("return window.isSecureContext") is True
    agent.choose_station("Browser")
    agent.wait_station("Browser")
    agent.become_available()
    customer = browsers(None, url=origin, audio=microphones["customer"], resolve={NAME: "127.0.0.1"}, flags=trusting)
    customer.driver.get(f"{origin}/call/2000")
    customer.wait_visible("#call-start", "the Call button").click()
    customer.wait(lambda driver: customer.js("return document.querySelector('#call-state').dataset.state") == "connected",
                  "the customer's web call connected over HTTPS")
    agent.press("accept")
    agent.wait_card(status="connected")
    hears([BrowserEar(customer, "customer"), BrowserEar(agent, "agent1")], {"customer": {"agent1"}, "agent1": {"customer"}})


def test_after_a_sigkill_the_desktop_renegotiates_and_the_call_carries_on_with_sound(server, browsers, microphones):
    """The server is killed mid-call and started again on the same ports and database: the SIP
    customer's leg is carried on (its records), and the desktop's phone, its connection lost,
    offers again; the new session takes the agent's leg of the call the center still holds."""
    agent = browser_agent(browsers, "agent1", microphones["agent1"])
    customer = SipCustomer(server).call()
    try:
        agent.press("accept")
        agent.wait_card(status="connected")
        ears = [PeerEar(customer.peer, "customer"), BrowserEar(agent, "agent1")]
        hears(ears, {"customer": {"agent1"}, "agent1": {"customer"}})
        server.kill()
        server.restart()
        # The phone notices (ICE consent fails), reconnects with a fresh offer, and is connected again.
        agent.wait(lambda driver: agent.js("return document.querySelector('#phone-panel').dataset.phone") != "connected",
                   "the phone noticing the server went away", timeout=30)
        agent.wait(lambda driver: agent.js("return document.querySelector('#phone-panel').dataset.phone") == "connected",
                   "the phone connected again", timeout=40)
        agent.wait_card(status="connected")
        hears(ears, {"customer": {"agent1"}, "agent1": {"customer"}})
    finally:
        customer.close()


def test_a_denied_microphone_is_said_in_words_and_the_station_stays(server, browsers):
    agent = browsers("agent1", flags=("--use-fake-device-for-media-stream", "--deny-permission-prompts"))
    assert agent.js("return window.isSecureContext") is True  # 127.0.0.1: it is the permission that is refused
    agent.choose_station("Browser")
    agent.wait(lambda driver: "not allowed to use the microphone" in agent.station_error(), "the refusal in words")
    agent.wait_station("Desktop")
    assert agent.find("#phone-panel").get_attribute("data-phone") == "off"


@pytest.mark.serve("--webrtc-consent-seconds", "2", "--desktop-grace-seconds", "600")
def test_an_available_agent_whose_browser_goes_away_is_idle_with_a_reason_the_supervisor_sees(server, browsers, microphones):
    supervisor = browsers("supervisor1")
    agent = browser_agent(browsers, "agent1", microphones["agent1"])
    supervisor.wait_agent_row("agent1", "agent1 available", state="available")
    # The agent's browser is gone at once (no goodbye): its phone stops answering ICE checks.
    agent.driver.quit()
    supervisor.wait_agent_row("agent1", "agent1 idle: browser phone disconnected", state="idle", text="Browser phone disconnected")


def test_a_supervisor_listens_from_the_browser_monitor_is_heard_by_nobody_coach_by_agent1_only_barge_by_all(
        server, browsers, microphones):
    agent = browser_agent(browsers, "agent1", microphones["agent1"])
    customer = SipCustomer(server).call()
    try:
        agent.press("accept")
        task = agent.task_id()
        agent.wait_card(status="connected")
        supervisor = browsers("supervisor1", audio=microphones["supervisor"])
        card = f"#sv-calls [data-task-id='{task}']"
        supervisor.wait_visible(card, "the call on the board")
        supervisor.find(f"{card} select[data-sv=station] option[value=browser]").click()

        def listen(mode, shown):
            supervisor.find(f"{card} [data-sv='{mode}']").click()
            supervisor.wait(lambda d: shown in supervisor.find(f"{card} [data-sv=listeners]").text, f"the board to say {shown}")

        listen("monitor", "monitoring")
        supervisor.wait(lambda d: supervisor.js("return document.querySelector('#phone-panel').dataset.phone") == "connected",
                        "the supervisor's browser phone connected")
        ears = [BrowserEar(supervisor, "supervisor"), BrowserEar(agent, "agent1"), PeerEar(customer.peer, "customer")]
        # The customer's tone peer is louder than a browser's microphone: a mix of the two gives the
        # browser's tone a share of about 0.03 (a tone not sent stays under 0.001).
        mixed = ABSENT * 2
        hears(ears, {"supervisor": {"customer", "agent1"}, "agent1": {"customer"}, "customer": {"agent1"}}, present=mixed)
        listen("coach", "coaching")
        hears(ears, {"supervisor": {"customer", "agent1"}, "agent1": {"customer", "supervisor"}, "customer": {"agent1"}},
              present=mixed)
        listen("barge", "barged in")
        hears(ears, {"supervisor": {"customer", "agent1"}, "agent1": {"customer", "supervisor"},
                     "customer": {"agent1", "supervisor"}}, present=mixed)
        supervisor.find(f"{card} [data-sv=leave]").click()
        supervisor.wait(lambda d: supervisor.find(f"{card} [data-sv=listeners]").text.startswith("Nobody"), "the supervisor gone")
        hears(ears, {"supervisor": set(), "agent1": {"customer"}, "customer": {"agent1"}})
        customer.hang_up()
        agent.wait_wrapup_dialog()
    finally:
        customer.close()
