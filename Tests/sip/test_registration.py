"""An agent's phone registering with the server's registrar (RFC 3261 §10, digest per RFC 8760):
the phone REGISTERs to sip:127.0.0.1:PORT as sip:agentN@127.0.0.1.

SIPp plays the phone (with the server's defaults: it answers the first challenge, MD5). Where
the phone must answer the challenge, each rule is also checked with the digest computed here
(`register_by_hand`, for SHA-256 and MD5)."""
import re

import pytest

from conftest import User, first, register_by_hand


def registration(peers, how, scenario="phone_registers", password="switchboard", expires=3600, algorithm="SHA-256"):
    """The messages of one registration attempt, and the phone's port: SIPp playing `scenario`, or
    the same exchange by hand with `algorithm`."""
    if how == "sipp":
        phone = peers.register("agent1", scenario=scenario, password=password, expires=expires)
        return phone.succeeded(), phone.port
    return register_by_hand(peers.server.sip_port, "agent1", password=password, expires=expires, algorithm=algorithm)


ANSWERING = ["sipp", "by-hand-sha256", "by-hand-md5"]


def algorithm_of(how):
    return "SHA-256" if how.endswith("sha256") else "MD5"


def test_register_without_credentials_is_401_with_an_md5_then_a_sha256_challenge(peers):
    phone = peers.register("agent1", scenario="phone_registers_without_credentials")
    messages = phone.succeeded()
    challenge = first(messages, "received", status=401)
    offers = challenge.headers("WWW-Authenticate")
    assert len(offers) == 2, f"two challenges expected, got {offers}"
    md5, sha256 = offers
    for offer, algorithm in ((md5, "MD5"), (sha256, "SHA-256")):
        assert offer.startswith("Digest "), offer
        assert re.search(rf"algorithm={re.escape(algorithm)}(,|$)", offer), offer
        assert 'qop="auth"' in offer, offer
        assert 'realm="switchboard"' in offer, offer
        assert re.search(r'nonce="[^"]+"', offer), offer


def test_a_baresip_1_phone_which_gives_up_on_any_sha256_challenge_is_offered_md5_alone(server):
    messages, _ = register_by_hand(server.sip_port, "agent1", algorithm="MD5", user_agent="baresip v1.0.0 (x86_64/linux)")
    offers = messages[1].headers("WWW-Authenticate")
    assert len(offers) == 1 and "algorithm=MD5" in offers[0], offers
    assert messages[-1].status == 200, messages[-1].text


@pytest.mark.parametrize("how", ANSWERING)
def test_register_with_the_right_digest_is_200_listing_the_contact_with_expires(peers, server, how):
    messages, port = registration(peers, how, expires=600, algorithm=algorithm_of(how))
    sent = [m for m in messages if m.direction == "sent" and m.method == "REGISTER"]
    assert sent[-1].header("Authorization"), "the last REGISTER carries the digest"
    ok = first(messages, "received", status=200, method="REGISTER")
    assert ok is not None, [m.start_line for m in messages]
    contacts = ok.headers("Contact")
    assert len(contacts) == 1, contacts
    match = re.fullmatch(rf"<sip:agent1@127\.0\.0\.1:{port}>;expires=(\d+)", contacts[0])
    assert match, f"the 200 lists the phone's Contact with ;expires=N: {contacts[0]}"
    assert 590 <= int(match.group(1)) <= 600, contacts[0]
    # Registered: the phone may now be the agent's station.
    assert User(server, "agent1").station("phone").status_code == 200


@pytest.mark.parametrize("how", ANSWERING)
def test_register_with_a_wrong_password_is_challenged_again(peers, server, how):
    messages, _ = registration(peers, how, scenario="phone_registers_with_wrong_password",
                               password="not-the-password", algorithm=algorithm_of(how))
    challenges = [m for m in messages if m.direction == "received" and m.status == 401]
    assert len(challenges) == 2, [m.start_line for m in messages]
    assert len(challenges[1].headers("WWW-Authenticate")) == 2
    assert first(messages, "received", status=200) is None
    # Not registered: the phone cannot be the agent's station.
    refused = User(server, "agent1").station("phone")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "phoneNotRegistered", refused.text


@pytest.mark.parametrize("how", ANSWERING)
def test_register_for_under_60_seconds_is_423_with_min_expires_60(peers, how):
    messages, _ = registration(peers, how, scenario="phone_registers_too_briefly", expires=30,
                               algorithm=algorithm_of(how))
    brief = first(messages, "received", status=423)
    assert brief is not None, [m.start_line for m in messages]
    assert brief.headers("Min-Expires") == ["60"], brief.text
