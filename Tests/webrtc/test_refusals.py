"""What the browser routes refuse, and with which status and code: a number that takes no web
calls, a body that is not SDP, offers the server cannot answer, a queue nobody staffs, the browser
station without a session, and another user's session."""
import re

import pytest
import requests

from conftest import AGENT1_TONE, CUSTOMER_TONE, error_code, post_web_call, sign_in, web_call

RTP_PORTS = "21200-21399"


def without(pattern):
    return lambda offer: re.sub(pattern, "", offer, flags=re.MULTILINE)


def audio_formats(formats):
    return lambda offer: re.sub(r"^(m=audio \d+ \S+) .*$", rf"\1 {formats}", offer, count=1, flags=re.MULTILINE)


# Each bad offer, made from a real (aiortc) offer, and the 400's code.
BAD_OFFERS = {
    "sdpMalformed": lambda offer: "hello, this is not SDP\r\n",
    "sdpNoAudio": lambda offer: offer.replace("m=audio ", "m=video "),
    "sdpNotDtlsSrtp": lambda offer: offer.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP"),
    "sdpNoCommonCodec": audio_formats("96 9"),  # opus and G.722 only
    "sdpNoFingerprint": without(r"^a=fingerprint:.*\r?\n"),
    "sdpNoIceCredentials": without(r"^a=ice-(ufrag|pwd):.*\r?\n"),
}


def post_sdp(url, body, content_type="application/sdp", headers=None):
    return requests.post(url, data=body.encode(), headers={"Content-Type": content_type, **(headers or {})}, timeout=10)


def test_a_web_call_to_a_number_that_takes_none_is_404_unknownNumber(start_server, peers):
    server = start_server()
    sign_in(server, "agent1")
    offer = peers(CUSTOMER_TONE).offer()
    for number in ("9999", "1000", "20000"):
        answer = post_sdp(f"{server.url}/v1/webcalls/{number}", offer)
        assert answer.status_code == 404 and error_code(answer) == "unknownNumber", f"{number}: {answer.status_code} {answer.text}"


def test_an_offer_that_is_not_application_sdp_is_415_notSDP(start_server, peers):
    server = start_server()
    agent1 = sign_in(server, "agent1")
    offer = peers(CUSTOMER_TONE).offer()
    for content_type in ("text/plain", "application/json"):
        answer = post_sdp(f"{server.url}/v1/webcalls/2000", offer, content_type)
        assert answer.status_code == 415 and error_code(answer) == "notSDP", answer.text
        answer = post_sdp(f"{server.url}/v1/me/webrtc", offer, content_type, agent1.headers)
        assert answer.status_code == 415 and error_code(answer) == "notSDP", answer.text


@pytest.mark.parametrize("code", BAD_OFFERS)
def test_an_offer_the_server_cannot_answer_is_400_with_its_code(start_server, peers, code):
    server = start_server()
    agent1 = sign_in(server, "agent1")  # the queue is open: the web call's offer is read
    offer = BAD_OFFERS[code](peers(CUSTOMER_TONE).offer())
    for url, headers in ((f"{server.url}/v1/webcalls/2000", None), (f"{server.url}/v1/me/webrtc", agent1.headers)):
        answer = post_sdp(url, offer, headers=headers)
        assert answer.status_code == 400 and error_code(answer) == code, f"{url}: {answer.status_code} {answer.text}"
    assert agent1.webrtc_connected() is False
    assert not sign_in(server, "supervisor1").tasks(), "a refused web call leaves no task"


def test_a_web_call_while_nobody_of_the_queue_is_signed_in_is_503_queueClosed(start_server, peers):
    server = start_server()
    answer = post_sdp(f"{server.url}/v1/webcalls/2000", peers(CUSTOMER_TONE).offer())
    assert answer.status_code == 503 and error_code(answer) == "queueClosed", f"{answer.status_code} {answer.text}"
    assert "Location" not in answer.headers
    # Once an agent of the queue's team signs in (even not available), the line is open.
    sign_in(server, "agent1")
    web_call(server, peers(CUSTOMER_TONE))


def test_station_browser_before_a_connected_session_is_409_browserNotConnected(start_server, peers):
    server = start_server()
    agent1 = sign_in(server, "agent1")
    answer = agent1.station("browser")
    assert answer.status_code == 409 and error_code(answer) == "browserNotConnected", f"{answer.status_code} {answer.text}"
    assert agent1.me()["station"] != "browser"
    agent1.open_browser(peers(AGENT1_TONE))
    answer = agent1.station("browser")
    assert answer.status_code == 200 and answer.json()["station"] == "browser", answer.text


def test_deleting_a_session_that_is_not_ones_own_is_404_unknownSession(start_server, peers):
    server = start_server()
    agent1, agent2 = sign_in(server, "agent1"), sign_in(server, "agent2")
    agent1.open_browser(peers(AGENT1_TONE))
    for path in (agent1.session, "/v1/me/webrtc/wnosuchsession"):
        answer = agent2.call("DELETE", path)
        assert answer.status_code == 404 and error_code(answer) == "unknownSession", f"{path}: {answer.status_code} {answer.text}"
    assert agent1.webrtc_connected() is True, "agent1's session outlives agent2's DELETE"
    agent1.close_browser()
    answer = agent1.call("DELETE", agent1.session)
    assert answer.status_code == 404 and error_code(answer) == "unknownSession", "a session deleted twice"
    assert agent1.webrtc_connected() is False


def test_an_unknown_web_calls_location_is_404_unknownWebCall(start_server, peers):
    server = start_server()
    sign_in(server, "agent1")
    customer = web_call(server, peers(CUSTOMER_TONE))
    key = customer.location.rsplit("/", 1)[1]
    offer = peers(CUSTOMER_TONE).offer()
    # An unknown key, and a real key under the other number.
    for location in ("/v1/webcalls/2000/cnosuchcall", f"/v1/webcalls/2001/{key}"):
        for answer in (requests.get(f"{server.url}{location}", timeout=10),
                       requests.delete(f"{server.url}{location}", timeout=10),
                       requests.put(f"{server.url}{location}", data=offer.encode(), headers={"Content-Type": "application/sdp"},
                                    timeout=10)):
            assert answer.status_code == 404 and error_code(answer) == "unknownWebCall", \
                f"{answer.request.method} {location}: {answer.status_code} {answer.text}"


def test_the_fourth_web_call_from_one_address_in_a_minute_is_429_with_retry_after(start_server, peers):
    server = start_server("--web-calls-per-minute", "3")
    sign_in(server, "agent1")
    for number in ("2000", "2001", "2000"):
        answer = post_web_call(server, peers(CUSTOMER_TONE), number)
        assert answer.status_code == 201, f"a start within the limit: {answer.status_code} {answer.text}"
    # The limit is per address, whatever the number.
    for number in ("2000", "2001"):
        answer = post_sdp(f"{server.url}/v1/webcalls/{number}", peers(CUSTOMER_TONE).offer())
        assert answer.status_code == 429 and error_code(answer) == "tooManyWebCalls", f"{answer.status_code} {answer.text}"
        assert 1 <= int(answer.headers["Retry-After"]) <= 60, answer.headers
    assert len(sign_in(server, "supervisor1").tasks()) == 3, "the refused starts left no task"
