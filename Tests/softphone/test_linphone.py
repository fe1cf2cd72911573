"""A third, independent softphone: Linphone (`linphonec`) as Agent 1's phone, with the server's
default settings. It registers (it answers the first challenge offered: MD5), is rung for a
customer's call (the customer is baresip, dialling 2000), answers (auto-answer), hears the
customer's 440 Hz while the customer hears its 1000 Hz, and hangs up; the customer's call ends.
Linphone records what it receives (`record`, with `soundcard use files`); baresip's sndfile module
records the customer's side. Judged by tones, as in test_baresip_media.py."""
import os

import pytest

from conftest import Desktop, eventually, free_port, write_tone_wav
from linphone import LINPHONEC, Linphone
from test_baresip_media import HEARD, NOT_HEARD, RATE, recorded_samples, recorded_seconds, recording, recording_config, scores

SECONDS = 20


def test_linphone_registers_with_the_defaults_is_rung_answers_hears_the_customer_and_hangs_up(server, softphone, tmp_path):
    if LINPHONEC is None:
        pytest.fail("linphonec is not installed (apt-get install -y linphone-cli)", pytrace=False)
    agent = Desktop(server.url, "agent1")
    microphone = write_tone_wav(tmp_path / "agent-1000hz.wav", 1000)
    heard = str(tmp_path / "linphone-heard.wav")
    rtp = free_port()
    phone = Linphone(str(tmp_path / "linphone"), "agent1", server.sip_port, sip_port=free_port(), rtp_port=rtp - rtp % 2)
    try:
        phone.wait_for(r"linphonec>", SECONDS)
        for command in ("soundcard use files", "autoanswer enable", f"play {microphone}", f"record {heard}"):
            phone.send(command)
        eventually(phone.registered, bool, SECONDS, "linphonec never said it was registered")
        eventually(lambda: agent.call("PUT", "/v1/me/station", {"station": "phone"}).status_code,
                   lambda status: status == 200, SECONDS, "the server never saw Linphone register as agent1")
        assert agent.call("PUT", "/v1/me/state", {"state": "available"}).status_code == 200

        customer = softphone("customer-phone", "<sip:15550100@127.0.0.1>;regint=0",
                             extra_config=recording_config(tmp_path / "customer-phone"))
        assert customer.command("dial", f"sip:2000@127.0.0.1:{server.sip_port}")["ok"]
        customer_up, _ = customer.wait_event("CALL_ESTABLISHED", SECONDS)
        connected = phone.wait_for(r"Call \d+ with .* connected", SECONDS)
        task = eventually(lambda: agent.call("GET", "/v1/tasks").json(), lambda tasks: tasks and tasks[0]["status"] == "connected",
                          SECONDS, "agent1's task to be connected")
        assert task[0]["customer"]["number"] == "15550100"

        # Both record two and a half seconds of the connected call.
        answered_at = recorded_seconds(customer)
        eventually(lambda: (recorded_seconds(customer) - answered_at, max(0, os.path.getsize(heard) - 44) / 2 / RATE
                            if os.path.exists(heard) else 0.0),
                   lambda seen: min(seen) >= 2.5, SECONDS, "both phones to record 2.5 s of the call")

        mark = phone.send("terminate")
        phone.wait_for(r"ended", SECONDS, after=mark)
        customer.wait_event("CALL_CLOSED", SECONDS, after=customer_up)
        eventually(lambda: agent.call("GET", "/v1/tasks").json(),
                   lambda tasks: not tasks or tasks[0]["status"] in ("wrapUp", "ended") or tasks[0].get("wrapUpRequired"),
                   SECONDS, "the call to end for agent1")
        assert connected

        heard_by_customer = scores(recorded_samples(recording(customer))[-int(2.2 * RATE):-int(0.2 * RATE)])
        heard_by_agent = scores(recorded_samples(heard)[-int(2.2 * RATE):-int(0.2 * RATE)])
        print(f"customer heard: {heard_by_customer}\nLinphone heard: {heard_by_agent}")
        assert heard_by_customer["agent1"] >= HEARD, f"the customer hears Linphone's 1000 Hz: {heard_by_customer}"
        assert heard_by_agent["customer"] >= HEARD, f"Linphone hears the customer's 440 Hz: {heard_by_agent}"
        assert heard_by_agent["agent1"] < NOT_HEARD and heard_by_customer["customer"] < NOT_HEARD, \
            f"nobody hears themself: customer {heard_by_customer}, Linphone {heard_by_agent}"
    finally:
        phone.stop()
        print(phone.text()[-8000:])
