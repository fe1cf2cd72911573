"""Real softphones hear each other through the server: a customer's baresip calls 2000 with a
440 Hz WAV as its microphone, Agent 1's baresip answers with a 1000 Hz WAV, and each records what
it receives with baresip's `sndfile` module (an audio filter that writes the decoded audio it
receives to `dump-<time>-dec.wav` in `snd_path`, and what it sends to `dump-<time>-enc.wav`).

The recordings are judged with the SIP suite's detector (Tests/sip/tone_peer.py: a Goertzel
score, each tone's share of the window's energy), on the last seconds of each call."""
import os
import sys

import pytest

from conftest import Desktop, eventually, write_tone_wav

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sip"))
from tone_peer import MUSIC_NOTES, tone_scores  # noqa: E402

REGISTRATION_SECONDS = 20
CALL_SECONDS = 15
RATE = 8000
# What a recording must hold before the test moves on (polled, bounded by CALL_SECONDS).
RINGING_AUDIO = 1.5       # the customer's, while Agent 1's phone rings (the customer hears music)
CONNECTED_AUDIO = 2.5     # each one's, once Agent 1 has answered
HEARD = 0.1
NOT_HEARD = 0.01
MUSIC_HEARD = 0.03


SNDFILE = "/usr/lib/baresip/modules/sndfile.so"  # the template's module_path


def recording_config(directory):
    """baresip configuration lines that load sndfile and record into the phone's own folder."""
    return f"\nmodule\t\t\tsndfile.so\nsnd_path\t\t{directory}\n"


def recording(phone):
    """The path of the phone's recording of what it received (sndfile's *-dec.wav), or None."""
    names = sorted(name for name in os.listdir(phone.directory) if name.startswith("dump-") and name.endswith("-dec.wav"))
    return os.path.join(phone.directory, names[-1]) if names else None


def recorded_samples(path):
    """The 16-bit mono samples of a WAV that sndfile may still be writing: everything after the
    "data" chunk's header, whatever the header's sizes say yet."""
    if path is None:
        return []
    with open(path, "rb") as file:
        data = file.read()
    at = data.find(b"data", 12)
    if at < 0:
        return []
    body = data[at + 8:]
    body = body[:len(body) - len(body) % 2]
    return [int.from_bytes(body[i:i + 2], "little", signed=True) for i in range(0, len(body), 2)]


def recorded_seconds(phone):
    path = recording(phone)
    if path is None:
        return 0.0
    return max(0, os.path.getsize(path) - 44) / 2 / RATE


def scores(samples):
    found = tone_scores(samples, (440, 1000) + MUSIC_NOTES)
    return {"customer": found[440], "agent1": found[1000], "music": max(found[f] for f in MUSIC_NOTES)}


def test_softphones_hear_each_other_the_customer_hears_music_while_the_agents_phone_rings_then_the_agents_1000_hz(
        server, softphone, tmp_path):
    if not os.path.exists(SNDFILE):
        pytest.fail(f"baresip's sndfile module is missing ({SNDFILE}): the softphones cannot record what they "
                    "hear (Debian's baresip-core ships it)")
    registrar = f"127.0.0.1:{server.sip_port}"
    agent = Desktop(server.url, "agent1")
    agent_microphone = write_tone_wav(tmp_path / "agent-1000hz.wav", 1000)
    phone = softphone("agent-phone", f"<sip:agent1@{registrar}>;auth_pass=switchboard;regint=600",
                      microphone=agent_microphone, extra_config=recording_config(tmp_path / "agent-phone"))
    customer = softphone("customer-phone", "<sip:15550100@127.0.0.1>;regint=0",
                         extra_config=recording_config(tmp_path / "customer-phone"))

    eventually(lambda: agent.call("PUT", "/v1/me/station", {"station": "phone"}).status_code,
               lambda status: status == 200, REGISTRATION_SECONDS,
               "the server never saw agent1's softphone register (PUT /v1/me/station phone stayed 409)")
    answer = agent.call("PUT", "/v1/me/state", {"state": "available"})
    assert answer.status_code == 200, f"agent1 cannot become available: {answer.status_code} {answer.text}"

    assert customer.command("dial", f"sip:2000@{registrar}")["ok"], "the customer's softphone cannot dial 2000"
    customer_up, _ = customer.wait_event("CALL_ESTABLISHED", CALL_SECONDS)  # the server answers at once
    phone.wait_event("CALL_INCOMING", CALL_SECONDS)

    # While Agent 1's phone rings, the customer hears the music: let it record some first.
    eventually(lambda: recorded_seconds(customer), lambda seconds: seconds >= RINGING_AUDIO, CALL_SECONDS,
               f"the customer's softphone to record {RINGING_AUDIO} s while Agent 1's phone rings "
               f"(sndfile's *-dec.wav in {customer.directory}: {os.listdir(customer.directory)})")
    ringing = recorded_seconds(customer)
    assert phone.command("accept")["ok"], "the agent's softphone cannot accept the call"
    phone_up, _ = phone.wait_event("CALL_ESTABLISHED", CALL_SECONDS)
    eventually(lambda: (recorded_seconds(customer) - ringing, recorded_seconds(phone)),
               lambda seen: min(seen) >= CONNECTED_AUDIO, CALL_SECONDS,
               f"both softphones to record {CONNECTED_AUDIO} s of the connected call (customer's since the "
               f"answer, agent's)")

    assert customer.command("hangup")["ok"], "the customer's softphone cannot hang up"
    customer.wait_event("CALL_CLOSED", CALL_SECONDS, after=customer_up)
    phone.wait_event("CALL_CLOSED", CALL_SECONDS, after=phone_up)

    heard_by_customer = recorded_samples(recording(customer))
    heard_by_agent = recorded_samples(recording(phone))
    while_ringing = scores(heard_by_customer[RATE // 4:int(RINGING_AUDIO * RATE)])
    # The last two seconds of each recording, but its final 0.2 s (the hang-up).
    customer_connected = scores(heard_by_customer[-int(2.2 * RATE):-int(0.2 * RATE)])
    agent_connected = scores(heard_by_agent[-int(2.2 * RATE):-int(0.2 * RATE)])
    print(f"customer while ringing: {while_ringing}\ncustomer connected: {customer_connected}\n"
          f"agent connected: {agent_connected}")

    assert while_ringing["music"] >= MUSIC_HEARD and while_ringing["agent1"] < NOT_HEARD, \
        f"while Agent 1's phone rings the customer hears the music only: {while_ringing}"
    assert customer_connected["agent1"] >= HEARD, f"the customer hears Agent 1's 1000 Hz: {customer_connected}"
    assert customer_connected["customer"] < NOT_HEARD and customer_connected["music"] < NOT_HEARD, \
        f"the customer hears neither themself nor the music once connected: {customer_connected}"
    assert agent_connected["customer"] >= HEARD, f"Agent 1 hears the customer's 440 Hz: {agent_connected}"
    assert agent_connected["agent1"] < NOT_HEARD and agent_connected["music"] < NOT_HEARD, \
        f"Agent 1 hears neither themself nor the music: {agent_connected}"
