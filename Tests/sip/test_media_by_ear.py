"""The media, checked by ear: what each party of a call hears in every state of the spec.

SIPp does the signalling of the customer (on the trunk) and of Agent 1's and Agent 2's phones; the
SDP of each points at a Python tone peer (tone_peer.py) that sends the party's own tone to the
server's port for that leg (from the SDP the server sent: the 200 OK for the customer, the INVITE
for a phone) and records what the server sends it. Tones: the customer 440 Hz, Agent 1 1000 Hz,
Agent 2 1500 Hz; the server's built-in music is a phrase of 520, 660, 780 and 660 Hz.

Every state is heard in a window that starts once the state is in place (the REST API shows it and
`Bystander.settle()` has passed, so the command's media plan has reached the media layer): the
window lasts WINDOW seconds and its first SETTLE seconds are not judged (packets in flight, the
mix's jitter buffer filling). In a window, a party hears a source if the source's share of the
window's energy (the Goertzel score, see tone_peer.py) reaches HEARD (MUSIC_HEARD for the music),
and does not hear it if the share stays under NOT_HEARD (MUSIC_NOT_HEARD); a party that must hear
nothing gets no RTP packet at all in the window. Every measurement is printed (pytest -s).
"""
import math
import time

import pytest

from conftest import (LOCALHOST, Bystander, User, command, eventually, first, on_phone_station, participant,
                      received_requests, sdp_media, still_waiting, task_state)
from tone_peer import (AGENT1_TONE, AGENT2_TONE, CUSTOMER_TONE, MUSIC_NOTES, SUPERVISOR_TONE, PCMA, PCMU, TonePeer, alaw_decode, alaw_encode, decode,
                       encode, parse_event, tone_scores, ulaw_decode, ulaw_encode)

# Scenarios (in scenarios/).
CUSTOMER_WAITS = "customer_calls_with_media_and_waits"        # BYE only after the cue
CUSTOMER_HANGS_UP = "customer_calls_with_media_and_hangs_up"  # hangs up (BYE) at the cue
PHONE_WAITS = "agent_phone_answers_with_media_and_waits"      # answers; BYE only after the cue
LAW_NAMES = {PCMU: "PCMU", PCMA: "PCMA"}

# A window of listening after each state change, and the part of it not judged.
WINDOW = 1.5
SETTLE = 0.5

# Thresholds on a source's share of the window's energy, chosen from measured scores (over
# loopback, against the debug build): a party's tone heard alone scores 0.9997–1.0, two parties
# heard in a mix 0.49–0.51 each (0.43–0.44 for a customer whose leg loses and reorders 5 % of its
# packets), the music's notes 0.058 (520 and 780 Hz, a quarter of the phrase each) and 0.23 (660 Hz,
# half of it); a source that is not heard scores 3e-5 at most (G.711's quantization noise).
HEARD = 0.1
NOT_HEARD = 0.01
MUSIC_HEARD = 0.03
MUSIC_NOT_HEARD = 0.005

# The supervisor's tone is listed too: in every state of these tests nobody may hear it (no
# supervisor is on those calls); test_supervisor_by_ear.py puts one there.
SOURCES = {"customer": CUSTOMER_TONE, "agent1": AGENT1_TONE, "agent2": AGENT2_TONE, "supervisor": SUPERVISOR_TONE,
           "music": "music"}
NOTHING = "nothing"  # a party that receives no RTP at all


@pytest.fixture
def tones():
    """Starts tone peers: `tones(name, frequency, **options)`; all are closed afterwards."""
    started = []

    def start(name, frequency, **options):
        peer = TonePeer(name, frequency, **options)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.close()


def media_keys(tone, event_payload_type=101):
    """The SIPp keys that put `tone`'s port, law and telephone-event type in a scenario's SDP."""
    return {"rtp_port": tone.port, "codec_pt": tone.payload_type, "codec_name": LAW_NAMES[tone.payload_type],
            "event_pt": event_payload_type}


def server_media(message, leg):
    """The server's media address for a leg, from the SDP it sent: 127.0.0.1 and an even port of
    20000–29999 (RTP; RTCP on the next). Returns (port, payload types)."""
    address, port, payload_types = sdp_media(message.body)
    assert address == LOCALHOST, f"{leg}: the server's SDP gives {address}, not 127.0.0.1:\n{message.body}"
    assert 20000 <= port <= 29999 and port % 2 == 0, f"{leg}: the server's RTP port {port} is not even in 20000-29999"
    return port, payload_types


def wait_out(deadline):
    """Until `deadline` (time.monotonic()): the listening window's length, not a wait for a state."""
    while time.monotonic() < deadline:
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def notes_in_order(hearing):
    """The music's notes as heard, packet by packet: [[note, packets], ...] for each run of packets
    whose strongest note is the same."""
    runs = []
    for packet in hearing.audio_packets:
        scores = tone_scores(decode(packet.payload, packet.payload_type), MUSIC_NOTES)
        note = max(scores, key=scores.get)
        if runs and runs[-1][0] == note:
            runs[-1][1] += 1
        else:
            runs.append([note, 1])
    return runs


class MediaCall:
    """A customer's call whose parties' media are tone peers: the customer on the trunk, Agent 1's
    phone, and (unless told) Agent 2's phone, each a SIPp answering with its tone peer's port."""

    def __init__(self, server, peers, tones, caller, *, customer=CUSTOMER_WAITS, customer_law=PCMU,
                 customer_events=101, customer_options=None, agent2=True, agent1_available=True,
                 customer_sdp_peer=None):
        self.server = server
        self.peers = peers
        self.caller = caller
        self.tone = {"customer": tones("customer", CUSTOMER_TONE, payload_type=customer_law,
                                       event_payload_type=customer_events, **(customer_options or {})),
                     "agent1": tones("agent1", AGENT1_TONE)}
        self.phone = {"agent1": self._phone("agent1")}
        if agent2:
            self.tone["agent2"] = tones("agent2", AGENT2_TONE)
            self.phone["agent2"] = self._phone("agent2")
        self.agent1 = on_phone_station(server, "agent1", available=agent1_available)
        self.agent2 = on_phone_station(server, "agent2", available=False) if agent2 else None
        self.supervisor = User(server, "supervisor1")
        self.bystander = Bystander(server)
        self.server_ports = {}
        self.moments = {}

        # The customer's SDP names its tone peer (or, to check latching, another socket).
        described = customer_sdp_peer or self.tone["customer"]
        self.customer = peers.client(customer, service="2000", keys={
            "caller": caller, **media_keys(described, customer_events)})
        answer = self.customer.wait_for("received", status=200, method="INVITE")
        self.server_ports["customer"], self.customer_answer_types = server_media(answer, "customer")
        if customer_sdp_peer is None:
            self.start_sending("customer")
        task = eventually(lambda: self.supervisor.task_from(caller), "the customer's call to become a task")
        self.id = task["id"]
        if agent1_available:
            self.connect_agent1()

    def _phone(self, agent):
        """`agent`'s phone: registered, then a SIPp on that port answering with the tone peer's port."""
        port = self.peers.register_phone(agent)
        return self.peers.server_side(PHONE_WAITS, port, keys={"agent": agent, **media_keys(self.tone[agent])})

    def start_sending(self, party):
        self.tone[party].send_to(LOCALHOST, self.server_ports[party])

    def answer_phone(self, agent):
        """`agent`'s phone gets the server's INVITE (its tone peer starts sending to the port the
        INVITE's SDP gives) and answers; returns the INVITE."""
        invite = self.phone[agent].wait_for("received", start="INVITE")
        self.server_ports[agent], offered = server_media(invite, agent)
        assert offered[:2] == [PCMU, PCMA] and 101 in offered, f"{agent}: the server offers {offered}"
        self.start_sending(agent)
        self.phone[agent].wait_for("received", start="ACK")
        ports = list(self.server_ports.values())
        assert len(set(ports)) == len(ports), f"each leg has its own RTP port: {self.server_ports}"
        return invite

    def connect_agent1(self):
        self.answer_phone("agent1")
        task_state(self.agent1, self.id,
                   lambda t: t["status"] == "connected" and participant(t, "agent1")["state"] == "connected",
                   "Agent 1 to be connected by answering the phone")

    def consult(self):
        """Agent 1 consults Agent 2, whose phone answers: the consult is accepted."""
        self.agent2.available()
        consulting = command(self.agent1, self.id, "consult", {"destinationType": "agent", "to": "agent2"})
        assert consulting["status"] == "consulting" and consulting["customer"]["state"] == "held", consulting
        self.answer_phone("agent2")
        task_state(self.agent1, self.id, lambda t: participant(t, "agent2")["state"] == "connected",
                   "Agent 2's answer to accept the consult")

    def conference(self):
        """Consult Agent 2, then Conference."""
        self.consult()
        self.merge()

    def merge(self):
        """Agent 1 merges the consult into a conference; remembers when (for what Agent 2 heard before)."""
        self.moments["conference"] = time.monotonic()
        merged = command(self.agent1, self.id, "consult/conference")
        assert merged["status"] == "conferenced" and merged["customer"]["state"] == "connected", merged

    # Listening.

    def listen(self, state):
        """Every party's hearing in a window that starts now that `state` is in place."""
        self.bystander.settle()  # the command's line actions (the media plan) are with the SIP layer
        start = time.monotonic()
        wait_out(start + WINDOW)
        heard = {party: tone.hearing(start + SETTLE, start + WINDOW) for party, tone in self.tone.items()}
        for hearing in heard.values():
            print(f"[{state}] {hearing.describe()}")
        return heard

    def expect(self, heard, state, **parties):
        """Each named party hears exactly the sources given (a set of SOURCES' names), or NOTHING."""
        problems = []
        for party, sources in parties.items():
            hearing = heard[party]
            if sources == NOTHING:
                if hearing.packets:
                    problems.append(f"{party} should receive nothing but got {hearing.describe()}")
                continue
            if not hearing.audio_packets:
                problems.append(f"{party} should hear {sorted(sources)} but got no audio: {hearing.describe()}")
                continue
            for source, frequency in SOURCES.items():
                score = hearing.score(frequency)
                heard_at, absent_under = (MUSIC_HEARD, MUSIC_NOT_HEARD) if source == "music" else (HEARD, NOT_HEARD)
                if source in sources and score < heard_at:
                    problems.append(f"{party} should hear {source} (score {score:.4f} < {heard_at})")
                elif source not in sources and score >= absent_under:
                    problems.append(f"{party} should not hear {source} (score {score:.4f} >= {absent_under})")
        assert not problems, f"in state '{state}':\n  " + "\n  ".join(problems) + "\n" + "\n".join(
            h.describe() for h in heard.values())

    # Ending, as the spec-row tests do: the peers that may now be hung up are cued first.

    def stays_on_the_call(self, *sipps):
        self.bystander.settle()
        for sipp in sipps:
            still_waiting(sipp)
            assert received_requests(sipp, "BYE") == [], f"{sipp.scenario} was hung up:\n{sipp.report()}"
        for sipp in sipps:
            sipp.cue()

    def agent2_exits_and_the_others_hear_each_other(self, state):
        """From a conference: Agent 2 exits (its phone gets a BYE), the customer and Agent 1 then
        hear only each other and Agent 2 nothing; then Agent 1 ends the call."""
        self.stays_on_the_call(self.phone["agent2"])
        exited = command(self.agent2, self.id, "conference/exit")
        assert participant(exited, "agent2")["state"] == "left", exited
        assert first(self.phone["agent2"].succeeded(), "received", start="BYE")
        self.expect(self.listen(state), state, customer={"agent1"}, agent1={"customer"}, agent2=NOTHING)
        self.ends(self.agent1, self.customer, self.phone["agent1"])

    def ends(self, agent, *sipps, action="end"):
        """`agent`'s desktop ends the call (`action`): BYEs to the legs still up (`sipps`)."""
        self.stays_on_the_call(*sipps)
        command(agent, self.id, action)
        for sipp in sipps:
            assert first(sipp.succeeded(), "received", start="BYE"), f"{sipp.scenario} gets a BYE"


# MARK: The spec's states

def test_a_queued_customer_hears_only_music_and_once_agent1_answers_the_customer_and_agent1_hear_only_each_other(
        server, peers, tones):
    call = MediaCall(server, peers, tones, "15550401", agent2=False, agent1_available=False)
    task_state(call.supervisor, call.id, lambda t: t["status"] == "queued", "the call to wait in its queue")
    heard = call.listen("queued")
    call.expect(heard, "queued", customer={"music"}, agent1=NOTHING)
    # The built-in music: 520, 660, 780, 660 Hz, 250 ms (12.5 packets) each, round and round.
    runs = notes_in_order(heard["customer"])
    print(f"[queued] the customer's music, note by note: {runs}")
    phrase = [520, 660, 780, 660]
    start = phrase.index(runs[0][0]) if runs[0][0] != 660 else (phrase.index(runs[1][0]) - 1) % 4
    assert [note for note, _ in runs] == [phrase[(start + i) % 4] for i in range(len(runs))], runs
    assert all(12 <= length <= 13 for _, length in runs[1:-1]), runs

    call.agent1.available()
    call.connect_agent1()
    call.expect(call.listen("connected"), "connected", customer={"agent1"}, agent1={"customer"})
    call.ends(call.agent1, call.customer, call.phone["agent1"])


def test_a_held_customer_hears_music_and_agent1_hears_nothing_until_resumed_when_they_hear_each_other_again(
        server, peers, tones):
    call = MediaCall(server, peers, tones, "15550402", agent2=False)
    held = command(call.agent1, call.id, "hold")
    assert held["status"] == "held" and held["customer"]["state"] == "held", held
    call.expect(call.listen("held"), "held", customer={"music"}, agent1=NOTHING)

    resumed = command(call.agent1, call.id, "resume")
    assert resumed["status"] == "connected", resumed
    call.expect(call.listen("resumed"), "resumed", customer={"agent1"}, agent1={"customer"})
    call.ends(call.agent1, call.customer, call.phone["agent1"])


def test_in_a_consult_the_customer_hears_only_music_the_agents_hear_only_each_other_and_agent2_never_hears_the_customer_before_the_conference(
        server, peers, tones):
    call = MediaCall(server, peers, tones, "15550403")
    call.consult()
    call.expect(call.listen("consulting"), "consulting",
                customer={"music"}, agent1={"agent2"}, agent2={"agent1"})

    call.merge()
    before = call.moments["conference"]
    agent2 = call.tone["agent2"]
    # Everything Agent 2's phone received before the conference, a second at a time.
    received = agent2.packets(until=before)
    assert received, "Agent 2 heard Agent 1 during the consult"
    start = received[0].arrival
    while start < before:
        window = agent2.hearing(start, min(start + 1.0, before))
        if len(window.audio_packets) >= 10:
            assert window.scores[CUSTOMER_TONE] < NOT_HEARD, \
                f"Agent 2 heard the customer before the conference: {window.describe()}"
        start += 0.5
    call.expect(call.listen("conferenced"), "conferenced",
                customer={"agent1", "agent2"}, agent1={"customer", "agent2"}, agent2={"customer", "agent1"})
    call.ends(call.agent1, call.customer, call.phone["agent1"], call.phone["agent2"], action="conference/end")


def test_in_a_conference_each_party_hears_the_other_two_not_themself_and_after_agent2_exits_the_customer_and_agent1_hear_only_each_other(
        server, peers, tones):
    call = MediaCall(server, peers, tones, "15550404")
    call.conference()
    call.expect(call.listen("conferenced"), "conferenced",
                customer={"agent1", "agent2"}, agent1={"customer", "agent2"}, agent2={"customer", "agent1"})

    call.agent2_exits_and_the_others_hear_each_other("after Agent 2 exits")


def test_after_agent1_transfers_the_conference_the_customer_and_agent2_hear_only_each_other_and_agent1_receives_nothing(
        server, peers, tones):
    call = MediaCall(server, peers, tones, "15550405")
    call.conference()
    call.stays_on_the_call(call.phone["agent1"])
    transferred = command(call.agent1, call.id, "conference/transfer")
    assert transferred["wrapUpRequired"] is True, transferred
    assert first(call.phone["agent1"].succeeded(), "received", start="BYE")
    mine = call.agent2.task(call.id)
    assert mine["status"] == "connected" and participant(mine, "agent2")["role"] == "owner", mine
    call.expect(call.listen("after Agent 1 transfers"), "after Agent 1 transfers",
                customer={"agent2"}, agent2={"customer"}, agent1=NOTHING)
    call.ends(call.agent2, call.customer, call.phone["agent2"])


def test_in_wrap_up_assist_after_the_customer_leaves_agent1_and_agent2_still_hear_each_other(server, peers, tones):
    call = MediaCall(server, peers, tones, "15550406", customer=CUSTOMER_HANGS_UP)
    call.conference()
    call.customer.cue()  # the customer hangs up
    assert first(call.customer.succeeded(), "received", status=200, method="BYE")
    task_state(call.agent1, call.id, lambda t: t["status"] == "wrapUpAssist", "wrap-up assist")
    call.expect(call.listen("wrap-up assist"), "wrap-up assist",
                customer=NOTHING, agent1={"agent2"}, agent2={"agent1"})
    call.ends(call.agent2, call.phone["agent1"], call.phone["agent2"], action="conference/exit")


def test_once_agent1_ends_the_call_no_leg_receives_anything(server, peers, tones):
    call = MediaCall(server, peers, tones, "15550407", agent2=False)
    call.expect(call.listen("connected"), "connected", customer={"agent1"}, agent1={"customer"})
    call.ends(call.agent1, call.customer, call.phone["agent1"])
    task_state(call.agent1, call.id, lambda t: t["status"] == "ended", "the call to end")
    call.expect(call.listen("ended"), "ended", customer=NOTHING, agent1=NOTHING)


# MARK: A restart

def test_after_a_sigkill_and_a_restart_a_conference_carries_on_on_the_same_ports_each_party_hearing_the_other_two(
        server, peers, tones):
    call = MediaCall(server, peers, tones, "15550409")
    call.conference()
    everyone = {"customer": {"agent1", "agent2"}, "agent1": {"customer", "agent2"}, "agent2": {"customer", "agent1"}}
    call.expect(call.listen("conferenced"), "conferenced", **everyone)

    server.kill()  # nothing is cleaned up; the peers keep sending to the ports they were given
    server.restart()
    # The desktops' sessions and the call are restored; the phones' dialogs and ports are the same.
    task_state(call.agent1, call.id, lambda t: t["status"] == "conferenced", "the conference after the restart")
    call.expect(call.listen("conferenced, after the restart"), "conferenced, after the restart", **everyone)

    # The dialogs carry on: Agent 2 exits (a BYE in its old dialog), the two others hear each other.
    call.agent2_exits_and_the_others_hear_each_other("after Agent 2 exits, after the restart")


# MARK: Codecs, digits, a bad network, symmetric RTP

def test_a_customer_on_pcma_and_agent1_on_pcmu_hear_each_other_each_in_its_own_law(server, peers, tones):
    call = MediaCall(server, peers, tones, "15550408", customer_law=PCMA, agent2=False)
    assert call.customer_answer_types == [PCMA, 101], f"the server answers the PCMA offer: {call.customer_answer_types}"
    heard = call.listen("connected, PCMA customer and PCMU agent")
    call.expect(heard, "connected, PCMA customer and PCMU agent", customer={"agent1"}, agent1={"customer"})
    assert heard["customer"].payload_types() == [PCMA], heard["customer"].describe()
    assert heard["agent1"].payload_types() == [PCMU], heard["agent1"].describe()
    call.ends(call.agent1, call.customer, call.phone["agent1"])


def test_a_digit_the_customer_sends_reaches_agent1_as_telephone_events_in_the_payload_type_agent1_offered(
        server, peers, tones):
    # The customer offers telephone-event as 96; Agent 1's phone answers the server's 101.
    call = MediaCall(server, peers, tones, "15550409", customer_events=96, agent2=False)
    assert call.customer_answer_types == [PCMU, 96], call.customer_answer_types
    agent1 = call.tone["agent1"]
    call.bystander.settle()
    sent_at = time.monotonic()
    call.tone["customer"].send_digit("7", frames=5)

    def events_ended():
        events = [p for p in agent1.packets(since=sent_at) if p.payload_type == 101]
        return events if any(parse_event(p.payload)[1] for p in events) else None
    events = eventually(events_ended, "Agent 1 to receive the digit's end")
    parsed = [parse_event(p.payload) for p in events]
    assert {event for event, _, _, _ in parsed} == {7}, f"events received: {parsed}"
    assert len({p.timestamp for p in events}) == 1, "one event: every packet has the event's timestamp"
    assert events[0].marker, "the event's first packet has the marker bit"
    ends = [duration for _, end, _, duration in parsed if end]
    assert ends and set(ends) == {5 * 160}, f"the end packets carry the whole duration: {parsed}"
    assert not [p for p in agent1.packets(since=sent_at) if p.payload_type == 96], \
        "Agent 1 gets the events in its own payload type, not the customer's"
    call.expect(call.listen("connected, after the digit"), "connected, after the digit",
                customer={"agent1"}, agent1={"customer"})
    call.ends(call.agent1, call.customer, call.phone["agent1"])


def test_five_percent_loss_and_reordering_on_the_customers_leg_in_a_conference_do_not_silence_the_others(
        server, peers, tones):
    call = MediaCall(server, peers, tones, "15550410", customer_options={"loss": 0.05, "reorder": 0.05, "seed": 4733})
    call.conference()
    customer = call.tone["customer"]
    lost, reordered = customer.lost, customer.reordered
    heard = call.listen("conferenced, 5% loss and reordering from the customer")
    assert customer.lost > lost and customer.reordered > reordered, "the customer's packets were lost and reordered"
    call.expect(heard, "conferenced, 5% loss and reordering from the customer",
                customer={"agent1", "agent2"}, agent1={"customer", "agent2"}, agent2={"customer", "agent1"})
    for party in ("agent1", "agent2"):
        # The mix goes on every 20 ms whatever the customer's leg does: ~50 packets a second.
        assert len(heard[party].audio_packets) >= 45, heard[party].describe()
    call.ends(call.agent1, call.customer, call.phone["agent1"], call.phone["agent2"], action="conference/end")


def test_the_server_sends_to_the_sdp_address_until_the_legs_first_packet_then_to_where_its_packets_come_from(
        server, peers, tones):
    """Symmetric RTP: the customer's SDP names one socket, its packets come from another."""
    described = tones("the SDP's address", None)
    call = MediaCall(server, peers, tones, "15550411", agent2=False, agent1_available=False,
                     customer_sdp_peer=described)
    call.tone["the SDP's address"] = described
    task_state(call.supervisor, call.id, lambda t: t["status"] == "queued", "the call to wait in its queue")
    call.expect(call.listen("queued, before the customer sends"), "queued, before the customer sends",
                **{"the SDP's address": {"music"}, "customer": NOTHING})

    call.start_sending("customer")  # from a socket the SDP does not name
    eventually(lambda: call.tone["customer"].packets(), "the music to follow the customer's packets")
    call.expect(call.listen("queued, after the customer's first packet"), "queued, after the customer's first packet",
                **{"the SDP's address": NOTHING, "customer": {"music"}})

    # Once latched, packets from anywhere else are dropped: Agent 1 never hears this 2 kHz.
    stranger = tones("a stranger", 2000)
    stranger.send_to(LOCALHOST, call.server_ports["customer"])
    call.agent1.available()
    call.connect_agent1()
    heard = call.listen("connected, a stranger sending to the customer's port")
    call.expect(heard, "connected, a stranger sending to the customer's port", customer={"agent1"}, agent1={"customer"})
    stranger_score = tone_scores(heard["agent1"].samples, [2000])[2000]
    print(f"[connected, a stranger sending to the customer's port] agent1 2000 Hz: {stranger_score:.4f}")
    assert stranger_score < NOT_HEARD, f"Agent 1 hears the stranger's packets: {stranger_score:.4f}"
    call.ends(call.agent1, call.customer, call.phone["agent1"])


# MARK: The ear itself

def test_the_tone_peers_g711_and_detector_give_known_values():
    """What the thresholds above stand on: G.711 values from the standard's tables, and the
    detector's scores for a steady tone (1), two equal tones (a half each), a note sounding a
    quarter of the window (1/16), and silence (0)."""
    assert [ulaw_decode(b) for b in (0xFF, 0x7F, 0x80, 0x00)] == [0, 0, 32124, -32124]
    assert [alaw_decode(b) for b in (0xD5, 0x55, 0xAA, 0x2A)] == [8, -8, 32256, -32256]
    assert [ulaw_encode(s) for s in (0, 32767, -32768)] == [0xFF, 0x80, 0x00]
    assert [alaw_encode(s) for s in (0, 32767, -32768)] == [0xD5, 0xAA, 0x2A]

    def sine(frequency, count=8000, amplitude=4000):
        return [amplitude * math.sin(2 * math.pi * frequency * n / 8000) for n in range(count)]
    for law in (PCMU, PCMA):
        steady = tone_scores(decode(encode([int(s) for s in sine(440)], law), law), [440, 1000])
        assert steady[440] > 0.99 and steady[1000] < 1e-4, steady
    both = tone_scores([a + b for a, b in zip(sine(1000), sine(1500))], [440, 1000, 1500])
    assert abs(both[1000] - 0.5) < 0.01 and abs(both[1500] - 0.5) < 0.01 and both[440] < 1e-4, both
    quarter = tone_scores(sine(520, 2000) + sine(660, 4000)[2000:] + sine(780, 6000)[4000:] + sine(660, 8000)[6000:],
                          [520, 660, 780])
    assert abs(quarter[520] - 1 / 16) < 0.01 and abs(quarter[780] - 1 / 16) < 0.01, quarter
    assert tone_scores([0] * 8000, [440]) == {440: 0.0}
