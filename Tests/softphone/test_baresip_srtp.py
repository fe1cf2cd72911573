"""Encrypted calls with real softphones: SIP over TLS to the server's TLS port (its self-signed
certificate) and SRTP with SDES keys, baresip's `mediaenc=srtp-mand` (RTP/SAVP, no plain RTP
accepted). Agent 1's baresip registers over TLS, the customer's baresip calls 2000 over TLS, and
each hears the other's tone through the server, which decrypts and re-encrypts every packet
(judged by tones, as in test_baresip_media.py). With srtp-mand baresip drops any packet that is
not SRTP under the keys it agreed, so each tone heard crossed the wire encrypted both ways. The
agent's phone refuses the server's best-effort offer (keys in RTP/AVP) and is offered RTP/SAVP."""
import os

from conftest import Desktop, eventually, write_tone_wav
from test_baresip_media import (CONNECTED_AUDIO, HEARD, NOT_HEARD, RATE, recorded_samples, recorded_seconds, recording,
                                recording_config, scores)

SECONDS = 20
SRTP = "\nmodule\t\t\tsrtp.so\n"


def test_over_tls_with_srtp_mandatory_the_softphones_hear_each_other_through_the_server(server, softphone, tmp_path):
    assert server.tls_port, "the server's SIP over TLS port"
    tls = f"127.0.0.1:{server.tls_port};transport=tls"
    agent = Desktop(server.url, "agent1")
    phone = softphone("agent-phone", f"<sip:agent1@{tls}>;auth_pass=switchboard;mediaenc=srtp-mand;regint=600",
                      microphone=write_tone_wav(tmp_path / "agent-1000hz.wav", 1000),
                      extra_config=SRTP + recording_config(tmp_path / "agent-phone"))
    customer = softphone("customer-phone", f"<sip:15550100@127.0.0.1;transport=tls>;mediaenc=srtp-mand;regint=0",
                         extra_config=SRTP + recording_config(tmp_path / "customer-phone"))

    eventually(lambda: agent.call("PUT", "/v1/me/station", {"station": "phone"}).status_code,
               lambda status: status == 200, SECONDS, "agent1's softphone to register over TLS")
    assert agent.call("PUT", "/v1/me/state", {"state": "available"}).status_code == 200

    assert customer.command("dial", f"sip:2000@{tls}")["ok"], "the customer's softphone cannot dial 2000 over TLS"
    customer_up, _ = customer.wait_event("CALL_ESTABLISHED", SECONDS)
    phone.wait_event("CALL_INCOMING", SECONDS)
    ringing = recorded_seconds(customer)
    assert phone.command("accept")["ok"]
    phone_up, _ = phone.wait_event("CALL_ESTABLISHED", SECONDS)
    eventually(lambda: (recorded_seconds(customer) - ringing, recorded_seconds(phone)),
               lambda seen: min(seen) >= CONNECTED_AUDIO, SECONDS, "both softphones to record the connected call")

    assert customer.command("hangup")["ok"]
    customer.wait_event("CALL_CLOSED", SECONDS, after=customer_up)
    phone.wait_event("CALL_CLOSED", SECONDS, after=phone_up)

    customer_heard = scores(recorded_samples(recording(customer))[-int(2.2 * RATE):-int(0.2 * RATE)])
    agent_heard = scores(recorded_samples(recording(phone))[-int(2.2 * RATE):-int(0.2 * RATE)])
    print(f"customer heard: {customer_heard}\nagent heard: {agent_heard}")
    assert customer_heard["agent1"] >= HEARD, f"the customer hears Agent 1's 1000 Hz: {customer_heard}"
    assert agent_heard["customer"] >= HEARD, f"Agent 1 hears the customer's 440 Hz: {agent_heard}"
    assert customer_heard["customer"] < NOT_HEARD and agent_heard["agent1"] < NOT_HEARD

    # Both legs were SRTP: the softphones said so, and the server's SDP answers carried keys.
    for soft in (phone, customer):
        log = soft.log_text(tail=200000)
        assert "RTP/SAVP" in log and "a=crypto:" in log, f"{soft.name}: no SRTP in the SDP\n{log[-3000:]}"
