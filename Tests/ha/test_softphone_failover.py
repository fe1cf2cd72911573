"""A real softphone across a failover: agent1's phone is baresip (Tests/softphone's harness),
registered through Kamailio; a customer calls through Kamailio and agent1 answers on baresip.
When the active node is killed, the new one re-INVITEs baresip to its own media port: the
customer hears baresip's 1000 Hz again, and later baresip takes the new node's BYE in the same
call. (baresip's own library, not ours, decides whether a re-INVITE from a new Contact is taken.)"""
import importlib.util
import os
import signal
import sys
import time

import pytest

import requests

from conftest import Desk, heard, participant, sip_pair

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
from sip_phone import Phone  # noqa: E402
from tone_peer import AGENT1_TONE, CUSTOMER_TONE  # noqa: E402
from waiting import eventually  # noqa: E402

# The softphone suite's harness (its conftest), loaded under a name of its own.
_spec = importlib.util.spec_from_file_location("softphone_harness", os.path.join(os.path.dirname(HERE), "softphone", "conftest.py"))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

HEARD = 0.1


@pytest.fixture
def baresip(tmp_path):
    if harness.BARESIP is None:
        pytest.fail("baresip is not installed (apt-get install -y baresip-core)")
    started = []

    def start(name, account, microphone):
        phone = harness.Softphone(str(tmp_path / name), name, account, microphone)
        started.append(phone)
        phone.connect()
        return phone

    yield start
    for phone in started:
        phone.stop()


def test_a_call_answered_on_baresip_carries_on_with_sound_after_the_active_node_is_killed(pair, kamailio, baresip, tmp_path):
    a, b, sip = sip_pair(pair)
    proxy = kamailio(sip)
    microphone = harness.write_tone_wav(tmp_path / "agent1-1000hz.wav", AGENT1_TONE)
    phone = baresip("agent1-phone", f"<sip:agent1@127.0.0.1:{proxy.port}>;auth_pass=switchboard;regint=600", microphone)
    agent1 = Desk(a.url, "agent1")
    # Registered through Kamailio once A lets agent1 take calls on the phone station.
    eventually(lambda: fetched_status(agent1, "PUT", "/v1/me/station", {"station": "phone"}) == 200,
               "A to see agent1's baresip register through Kamailio", timeout=20)
    agent1.call("PUT", "/v1/me/state", {"state": "available"})

    customer = Phone("customer", proxy.port, CUSTOMER_TONE, user="+15550100")
    try:
        status, _ = customer.call("2001")
        assert status == 200
        incoming, _ = phone.wait_event("CALL_INCOMING", 10)
        assert phone.command("accept")["ok"]
        established, _ = phone.wait_event("CALL_ESTABLISHED", 10, after=incoming)
        task = eventually(lambda: next((t for t in agent1.call("GET", "/v1/tasks")
                                        if participant(t, "agent1") and participant(t, "agent1")["state"] == "connected"), None),
                          "agent1 connected by answering baresip")["id"]
        before = heard(customer, time.monotonic() + 0.5)
        assert before.scores[AGENT1_TONE] > HEARD, f"on A the customer hears baresip: {before.describe()}"

        a.process.send_signal(signal.SIGKILL)
        b.running()
        # B re-INVITEs both legs; the customer's re-INVITE is seen here, baresip's by what the
        # customer hears: baresip's audio reaches the customer only if it now sends to B.
        arrival, _ = eventually(lambda: (invites := customer.received("INVITE")) and invites[-1], "B's re-INVITE to the customer",
                                timeout=15)
        after = heard(customer, arrival + 1.0)
        assert after.scores[AGENT1_TONE] > HEARD, f"after the takeover the customer hears baresip again: {after.describe()}"

        # The call goes on on B: agent1 ends it there; baresip takes B's BYE in the same call.
        agent1.url = b.url
        assert agent1.call("GET", f"/v1/tasks/{task}")["status"] == "connected"
        agent1.call("POST", f"/v1/tasks/{task}/end")
        phone.wait_event("CALL_CLOSED", 10, after=established)
        eventually(lambda: customer.received("BYE"), "B's BYE to the customer")
    finally:
        customer.close()


def fetched_status(desk, method, path, body):
    answer = requests.request(method, f"{desk.url}{path}", json=body, headers={"Authorization": f"Bearer {desk.token}"}, timeout=5)
    return answer.status_code
