"""The agent's station: where offers are answered, at the desktop (Accept) or on the agent's SIP
phone. The Station control shows it from the agent view, changes it, says a refusal in words and
goes back, and follows a change made elsewhere (the event stream); with the phone as the station an
offer says "Answer on your phone" where Accept would be, and answering the phone accepts it.
The registered phone is SipPhone below: just enough of a SIP user agent, over UDP on loopback."""
import hashlib
import re
import socket
import time
import uuid

import pytest

from test_desktop_conference import OWNER_CONNECTED
from test_desktop_resilience import RestUser

CALLER = "+15551234567"

# RFC 3261 §7.3.3: a header may come in its compact form.
COMPACT = {"i": "call-id", "m": "contact", "f": "from", "t": "to", "v": "via", "l": "content-length", "c": "content-type"}


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def parse_sip(data):
    """A SIP message as (start line, {lower-case header name: [values]}, body)."""
    text = data.decode("utf-8", "replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        headers.setdefault(COMPACT.get(name, name), []).append(value.strip())
    return lines[0], headers, body


def cseq_of(headers):
    """(number, method) of the CSeq header."""
    number, method = headers.get("cseq", ["0 NONE"])[0].split()
    return int(number), method


def status_of(start):
    """The status code of a response's start line ("SIP/2.0 401 Unauthorized" → 401), else None."""
    parts = start.split()
    return int(parts[1]) if len(parts) > 1 and parts[0] == "SIP/2.0" and parts[1].isdigit() else None


class SipPhone:
    """An agent's SIP phone over UDP, as much of one as these tests need: it registers with digest
    authentication (MD5, qop=auth), and when the server's INVITE comes it rings (180) or picks up (200)."""

    def __init__(self, server, agent, password="switchboard"):
        self.registrar = ("127.0.0.1", server.sip_port)
        self.agent = agent
        self.password = password
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.call_id = f"{uuid.uuid4().hex}@127.0.0.1"
        self.tag = uuid.uuid4().hex[:12]
        self.cseq = 0
        self.invite = None  # (start line, headers) of the INVITE ringing this phone
        self.dialog_tag = uuid.uuid4().hex[:12]

    @property
    def contact(self):
        return f"<sip:{self.agent}@127.0.0.1:{self.port}>"

    def close(self):
        self.socket.close()

    def send(self, text):
        self.socket.sendto(text.encode(), self.registrar)

    def receive(self, wanted, what, timeout=10, resend=None):
        """The next message from the server for which wanted(start, headers) holds (others are let go).
        `resend`: a request to send again until then, as a UDP client does (RFC 3261 §17.1.2.2:
        after 0.5 s, then doubling up to 4 s)."""
        deadline = time.monotonic() + timeout
        interval = 0.5
        again = time.monotonic() + interval
        while True:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                raise AssertionError(f"{self.agent}'s phone: no {what} from the server within {timeout} s")
            if resend and now >= again:
                self.send(resend)
                interval = min(interval * 2, 4)
                again = now + interval
            self.socket.settimeout(min(left, again - now) if resend else left)
            try:
                data, _ = self.socket.recvfrom(65535)
            except socket.timeout:
                continue
            start, headers, body = parse_sip(data)
            if wanted(start, headers):
                return start, headers, body

    # MARK: registering

    def register(self):
        """REGISTER, answered 401 with challenges; again with the MD5 digest: 200 means registered."""
        uri = f"sip:{self.registrar[0]}:{self.registrar[1]}"
        start, headers, _ = self.send_register(uri)
        assert status_of(start) == 401, f"{self.agent}'s phone: expected a challenge, got {start}"
        challenges = headers.get("www-authenticate", [])
        challenge = next((value for value in challenges if re.search(r"algorithm=\"?MD5\b", value, re.I)), None)
        assert challenge, f"{self.agent}'s phone: no MD5 challenge among {challenges}"
        fields = {name.lower(): quoted or bare
                  for name, quoted, bare in re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', challenge)}
        realm, nonce, cnonce, nc = fields["realm"], fields["nonce"], uuid.uuid4().hex[:16], "00000001"
        ha1 = md5(f"{self.agent}:{realm}:{self.password}")
        ha2 = md5(f"REGISTER:{uri}")
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        authorization = (f'Digest username="{self.agent}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
                         f'response="{response}", algorithm=MD5, cnonce="{cnonce}", qop=auth, nc={nc}')
        start, _, _ = self.send_register(uri, authorization)
        assert status_of(start) == 200, f"{self.agent}'s phone did not register: {start}"
        return self

    def send_register(self, uri, authorization=None):
        self.cseq += 1
        host = f"{self.registrar[0]}:{self.registrar[1]}"
        lines = [
            f"REGISTER {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex};rport",
            "Max-Forwards: 70",
            f"From: <sip:{self.agent}@{host}>;tag={self.tag}",
            f"To: <sip:{self.agent}@{host}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: {self.contact}",
            "Expires: 3600",
        ]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        lines += ["User-Agent: switchboard-browser-tests", "Content-Length: 0", "", ""]
        request = "\r\n".join(lines)
        self.send(request)
        cseq = self.cseq
        return self.receive(
            lambda start, headers: (status_of(start) or 0) >= 200 and cseq_of(headers) == (cseq, "REGISTER"),
            "answer to REGISTER", resend=request)

    # MARK: being rung

    def wait_ringing(self, timeout=10):
        """Waits for the server's INVITE and rings (180 Ringing); returns the INVITE's Request-URI."""
        start, headers, _ = self.receive(lambda start, headers: start.startswith("INVITE "), "INVITE", timeout)
        self.invite = (start, headers)
        self.respond(180, "Ringing")
        return start.split()[1]

    def pick_up(self):
        """Answers the ringing INVITE (200 OK with an audio answer) and waits for the server's ACK."""
        assert self.invite, "pick_up before the phone rang"
        sdp = "\r\n".join([
            "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
            "m=audio 49170 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "",
        ])
        call_id = self.invite[1]["call-id"][0]
        self.respond(200, "OK", sdp)
        self.receive(lambda start, headers: start.startswith("ACK ") and headers.get("call-id", [""])[0] == call_id,
                     "ACK for the answer")

    def respond(self, status, reason, body=""):
        _, headers = self.invite
        lines = [f"SIP/2.0 {status} {reason}"]
        lines += [f"Via: {via}" for via in headers["via"]]
        lines += [
            f"From: {headers['from'][0]}",
            f"To: {headers['to'][0]};tag={self.dialog_tag}",
            f"Call-ID: {headers['call-id'][0]}",
            f"CSeq: {headers['cseq'][0]}",
            f"Contact: {self.contact}",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines += [f"Content-Length: {len(body.encode())}", "", body]
        self.send("\r\n".join(lines))


@pytest.fixture
def phone(server):
    """Agent 1's SIP phone, registered with the server."""
    device = SipPhone(server, "agent1")
    try:
        yield device.register()
    finally:
        device.close()


def offer_on_the_phone(server, page, phone):
    """Agent 1 (station: Phone) becomes Available and a customer calls Sales: the offer rings the phone."""
    page.become_available()
    RestUser(server, "supervisor1").place_call("sales", CALLER)
    card = page.wait_card(status="offered")
    page.wait(lambda d: page.phone_prompt(), "the offer to say Answer on your phone")
    assert phone.wait_ringing().startswith("sip:agent1@"), "the INVITE went to agent1's registered contact"
    return card


def test_the_station_control_shows_desktop_after_sign_in(server, browsers):
    page = browsers("agent1")
    page.wait_station("Desktop")
    assert RestUser(server, "agent1").send("GET", "/v1/me")["station"] == "desktop"
    control = page.find("#station")
    assert control.accessible_name.startswith("Station"), control.accessible_name
    assert control.get_attribute("data-station") == "desktop"
    assert "Accept" in page.find("#station-hint").text  # described by the hint under it
    assert page.station_error() == ""


def test_choosing_phone_without_a_registered_phone_is_refused_in_words_and_the_control_goes_back_to_desktop(server, browsers):
    page = browsers("agent1")
    page.wait_station("Desktop")
    page.choose_station("Phone")
    page.wait(lambda d: page.station_error(), "the refusal in the station's alert")
    text = page.station_error()
    assert "Switching to Phone failed" in text and "not registered" in text and "phoneNotRegistered" in text, text
    assert page.find("#station-error").get_attribute("role") == "alert"
    page.wait_station("Desktop")
    assert page.find("#station").get_attribute("data-station") == "desktop"
    assert RestUser(server, "agent1").send("GET", "/v1/me")["station"] == "desktop"


def test_a_second_tab_of_the_agent_follows_a_station_change_made_through_the_rest_api(server, browsers, phone):
    first = browsers("agent1")
    second = browsers.tab(first, "agent1")  # a second tab, signed in on its own
    for tab in (first, second):
        tab.wait_station("Desktop")
    rest = RestUser(server, "agent1")
    assert rest.send("PUT", "/v1/me/station", {"station": "phone"})["station"] == "phone"
    for tab in (first, second):
        tab.wait_station("Phone")
        assert "phone" in tab.find("#station-hint").text
    assert rest.send("PUT", "/v1/me/station", {"station": "desktop"})["station"] == "desktop"
    for tab in (first, second):
        tab.wait_station("Desktop")


def test_with_a_registered_phone_choosing_phone_succeeds_and_an_offer_says_answer_on_your_phone_instead_of_accept(
        server, browsers, phone):
    page = browsers("agent1")
    page.wait_station("Desktop")
    page.choose_station("Phone")
    page.wait_station("Phone")
    assert page.station_error() == ""
    assert RestUser(server, "agent1").send("GET", "/v1/me")["station"] == "phone"

    card = offer_on_the_phone(server, page, phone)
    assert CALLER in card.text
    assert "Answer on your phone" in page.phone_prompt()
    assert "accept" not in page.actions()
    assert "ringing" in card.get_attribute("class").split()
    assert "Incoming call" in page.find(".task-card .offer").text


def test_answering_the_ringing_phone_accepts_the_offer_and_the_desktop_shows_the_call(server, browsers, phone):
    page = browsers("agent1")
    page.choose_station("Phone")
    page.wait_station("Phone")
    offer_on_the_phone(server, page, phone)
    phone.pick_up()
    page.wait_card(status="connected")
    page.wait_actions(OWNER_CONNECTED)
    assert page.phone_prompt() is None
    page.wait(lambda d: page.my_state() == "engaged", "On a call")
