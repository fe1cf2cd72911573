"""A small SIP user agent for the two-node tests: a phone (or a customer's line) on loopback that
talks through a proxy (Kamailio), with a `TonePeer` (Tests/sip/tone_peer.py) for its audio.

It registers with a digest, places a call (INVITE, ACK through the recorded route, BYE), and
answers whatever comes: an INVITE — a new call or a re-INVITE in a call it has — with a 200 whose
SDP is its tone peer's port, after which its tone goes to the address the offer named; a BYE with
a 200 (its tone stops); anything else with a 200. Every request it got is kept, in order, with
its arrival time, so a test can say what came (a re-INVITE from the node that took over) and
measure what was heard from then on.

Over UDP a request goes again at 0.5, 1, 2… s until a final answer, as a phone's would."""
import hashlib
import os
import queue
import re
import socket
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sip"))
from tone_peer import TonePeer  # noqa: E402

LOCALHOST = "127.0.0.1"


class Message:
    """One SIP message as text: its start line, headers (in order, names as sent) and body."""

    def __init__(self, text):
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.start = lines[0]
        self.fields = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.fields.append((name.strip(), value.strip()))

    @property
    def is_response(self):
        return self.start.startswith("SIP/2.0 ")

    @property
    def status(self):
        return int(self.start.split()[1])

    @property
    def method(self):
        return self.start.split()[0]

    def all(self, name):
        short = {"via": "v", "from": "f", "to": "t", "call-id": "i", "contact": "m", "content-type": "c"}.get(name.lower())
        return [value for field, value in self.fields if field.lower() in (name.lower(), short)]

    def get(self, name, default=None):
        values = self.all(name)
        return values[0] if values else default

    def cseq(self):
        number, method = self.get("CSeq").split()
        return int(number), method


def tag(value):
    match = re.search(r";\s*tag=([^;>\s]+)", value or "")
    return match.group(1) if match else None


def uri(name_address):
    match = re.search(r"<([^>]+)>", name_address)
    return match.group(1) if match else name_address.split(";")[0].strip()


def sdp_origin(body):
    """(session ID, version) of an SDP's o= line."""
    fields = re.search(r"^o=(\S+) (\d+) (\d+) ", body, re.MULTILINE)
    return int(fields.group(2)), int(fields.group(3))


def sdp_address(body):
    """(address, port) of an SDP's audio stream."""
    address = re.search(r"^c=IN IP4 (\S+)", body, re.MULTILINE).group(1)
    port = int(re.search(r"^m=audio (\d+) ", body, re.MULTILINE).group(1))
    return address, port


class Phone:
    def __init__(self, name, proxy_port, frequency, user=None, password="switchboard"):
        self.name, self.user, self.password = name, user or name, password
        self.proxy = (LOCALHOST, proxy_port)
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind((LOCALHOST, 0))
        self.sip.settimeout(0.1)
        self.port = self.sip.getsockname()[1]
        self.tone = TonePeer(name, frequency)
        self.tag = uuid.uuid4().hex[:8]
        self.responses = queue.Queue()
        self.lock = threading.Lock()
        self.requests = []          # (arrival, Message), every request that came
        self.calls = {}             # Call-ID → the dialog of a call this phone placed
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"phone {name}", daemon=True)
        self.thread.start()

    def close(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sip.close()
        self.tone.close()

    @property
    def contact(self):
        return f"<sip:{self.user}@{LOCALHOST}:{self.port}>"

    def sdp(self):
        return ("v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                f"m=audio {self.tone.port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                "a=fmtp:101 0-15\r\n")

    def received(self, method):
        """The requests of `method` that came, as (arrival, Message)."""
        with self.lock:
            return [(arrival, message) for arrival, message in self.requests if message.method == method]

    # MARK: Answering

    def _run(self):
        while not self.stopping.is_set():
            try:
                data, source = self.sip.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            message = Message(data.decode(errors="replace"))
            if message.is_response:
                self.responses.put(message)
                continue
            with self.lock:
                self.requests.append((time.monotonic(), message))
            if message.method == "ACK":
                continue
            status, body = 200, ""
            if message.method == "INVITE":
                self.tone.send_to(*sdp_address(message.body))
                body = self.sdp()
            elif message.method == "BYE":
                self.tone.stop_sending()
            self._respond(message, status, body, source)

    def _respond(self, request, status, body, destination):
        to = request.get("To")
        if tag(to) is None:
            to += f";tag={self.tag}"
        lines = [f"SIP/2.0 {status} OK"]
        lines += [f"Via: {via}" for via in request.all("Via")]
        lines += [f"Record-Route: {route}" for route in request.all("Record-Route")]
        lines += [f"From: {request.get('From')}", f"To: {to}", f"Call-ID: {request.get('Call-ID')}", f"CSeq: {request.get('CSeq')}"]
        if request.method == "INVITE":
            lines += [f"Contact: {self.contact}", "Content-Type: application/sdp"]
        lines.append(f"Content-Length: {len(body)}")
        self.sip.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), destination)

    # MARK: Asking

    def _transact(self, text, call_id, cseq, timeout=10):
        """Sends a request through the proxy until its final response; that response."""
        deadline = time.monotonic() + timeout
        pause = 0.5
        self.sip.sendto(text.encode(), self.proxy)
        sent = time.monotonic()
        while time.monotonic() < deadline:
            try:
                answer = self.responses.get(timeout=0.1)
            except queue.Empty:
                if time.monotonic() - sent >= pause:
                    self.sip.sendto(text.encode(), self.proxy)
                    sent, pause = time.monotonic(), min(pause * 2, 4)
                continue
            if answer.get("Call-ID") == call_id and answer.cseq()[0] == cseq and answer.status >= 200:
                return answer
        raise AssertionError(f"{self.name}: no final answer to {text.split()[0]} in {timeout} s")

    def _request(self, method, request_uri, call_id, cseq, to, headers=(), body=""):
        return "\r\n".join([
            f"{method} {request_uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {LOCALHOST}:{self.port};branch=z9hG4bK{uuid.uuid4().hex};rport",
            "Max-Forwards: 70",
            *headers,
            f"From: <sip:{self.user}@{LOCALHOST}>;tag={self.tag}",
            f"To: {to}",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            *([f"Content-Type: application/sdp"] if body else []),
            f"Content-Length: {len(body)}",
            "", body])

    def register(self, expires=3600):
        """REGISTER through the proxy; the 401's SHA-256 challenge answered (RFC 7616, qop=auth)."""
        call_id, target = f"{uuid.uuid4().hex}@{LOCALHOST}", f"sip:{self.proxy[0]}:{self.proxy[1]}"
        to = f"<sip:{self.user}@{LOCALHOST}>"
        extra = [f"Contact: {self.contact}", f"Expires: {expires}"]
        challenge = self._transact(self._request("REGISTER", target, call_id, 1, to, extra), call_id, 1)
        if challenge.status != 401:
            return challenge.status
        offer = next(self._digest(value) for value in challenge.all("WWW-Authenticate") if "SHA-256" in value)
        cnonce, nc = uuid.uuid4().hex[:16], "00000001"
        h = lambda text: hashlib.sha256(text.encode()).hexdigest()  # noqa: E731
        realm, nonce = offer["realm"], offer["nonce"]
        ha1, ha2 = h(f"{self.user}:{realm}:{self.password}"), h(f"REGISTER:{target}")
        response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        authorization = (f'Authorization: Digest username="{self.user}", realm="{offer["realm"]}", nonce="{offer["nonce"]}", '
                         f'uri="{target}", response="{response}", algorithm=SHA-256, qop=auth, nc={nc}, cnonce="{cnonce}"')
        return self._transact(self._request("REGISTER", target, call_id, 2, to, extra + [authorization]), call_id, 2).status

    @staticmethod
    def _digest(challenge):
        return {name.lower(): value.strip('"') for name, value in re.findall(r'([A-Za-z-]+)=("[^"]*"|[^,\s]+)', challenge[7:])}

    def call(self, number, timeout=10):
        """A call to `number` through the proxy: the final status; answered, the ACK goes along the
        recorded route and the tone to the answer's address. Returns (status, Call-ID)."""
        call_id = f"{uuid.uuid4().hex}@{LOCALHOST}"
        to = f"<sip:{number}@{LOCALHOST}:{self.proxy[1]}>"
        invite = self._request("INVITE", f"sip:{number}@{LOCALHOST}:{self.proxy[1]}", call_id, 1, to, [f"Contact: {self.contact}"],
                               self.sdp())
        answer = self._transact(invite, call_id, 1, timeout)
        if answer.status >= 300:
            return answer.status, call_id
        dialog = {"to": answer.get("To"), "target": uri(answer.get("Contact")), "routes": list(reversed(answer.all("Record-Route"))),
                  "cseq": 1, "sdp": answer.body}
        self.calls[call_id] = dialog
        self.sip.sendto(self._in_dialog("ACK", call_id, dialog, cseq=1).encode(), self.proxy)
        self.tone.send_to(*sdp_address(answer.body))
        return answer.status, call_id

    def _in_dialog(self, method, call_id, dialog, cseq):
        return self._request(method, dialog["target"], call_id, cseq, dialog["to"], [f"Route: {route}" for route in dialog["routes"]])

    def hang_up(self, call_id):
        """A BYE in the call it placed, to the dialog's current target (a re-INVITE refreshed it)."""
        dialog = self.calls.pop(call_id)
        for arrival, message in self.received("INVITE"):
            if message.get("Call-ID") == call_id and message.get("Contact"):
                dialog["target"] = uri(message.get("Contact"))
        dialog["cseq"] += 1
        self.tone.stop_sending()
        return self._transact(self._in_dialog("BYE", call_id, dialog, dialog["cseq"]), call_id, dialog["cseq"]).status
