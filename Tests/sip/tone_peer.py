"""Hearing the server's media by ear: a Python RTP "tone peer" per party, and a detector.

SIPp does a party's signalling; its SDP points at a `TonePeer`, a pair of UDP sockets (RTP on an
even port, RTCP on the next) that

- sends its own tone as 20 ms G.711 packets (µ-law or A-law, by the payload type it offered) every
  20 ms, from the RTP socket, to the server's port from the SDP the server sent (so the server
  latches on this very address: symmetric RTP), optionally losing or reordering some packets, and
  sending a digit as RFC 4733 telephone events when told;
- records every datagram it receives with its arrival time.

What a party heard in a window is decided by `hearing()`: the window's G.711 audio decoded (our
own decoder), then a Goertzel detector (ours too) scores each frequency of interest as the share
of the window's energy at that frequency: a steady sine scores about 1, two equal tones about 0.5
each, and a note sounding a quarter of the time about 1/16 (the built-in music's 520 and 780 Hz;
660 Hz sounds half the time, about 1/4).

Nothing here waits for a state: the peers send at their own pace (20 ms), and the tests say when a
window starts (after the state it measures is in place) and how long it lasts.
"""
import math
import random
import select
import socket
import struct
import threading
import time

LOCALHOST = "127.0.0.1"
RATE = 8000
FRAME = 160                 # samples in 20 ms
PTIME = 0.020
PCMU, PCMA = 0, 8

# The parties' own tones, and the built-in music's notes (docs: 520, 660, 780, 660 Hz, 250 ms each).
CUSTOMER_TONE = 440
AGENT1_TONE = 1000
AGENT2_TONE = 1500
SUPERVISOR_TONE = 2000
MUSIC_NOTES = (520, 660, 780)


# MARK: G.711 (ITU-T G.711), written here

def ulaw_decode(byte):
    """One µ-law byte to a 16-bit linear sample."""
    byte = ~byte & 0xFF
    exponent = (byte >> 4) & 0x07
    magnitude = (((byte & 0x0F) << 3) + 0x84) << exponent
    magnitude -= 0x84
    return -magnitude if byte & 0x80 else magnitude


def alaw_decode(byte):
    """One A-law byte to a 16-bit linear sample."""
    byte ^= 0x55
    exponent = (byte >> 4) & 0x07
    mantissa = byte & 0x0F
    if exponent == 0:
        magnitude = (mantissa << 4) + 8
    else:
        magnitude = ((mantissa << 4) + 0x108) << (exponent - 1)
    return magnitude if byte & 0x80 else -magnitude


def ulaw_encode(sample):
    """A 16-bit linear sample to µ-law (bias 0x84, clipped at 32635)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sample < 0 else sample, 32635) + 0x84
    exponent = magnitude.bit_length() - 8           # 0…7: where the leading one is, above bit 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def alaw_encode(sample):
    """A 16-bit linear sample to A-law (13-bit magnitude, even bits inverted)."""
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(-sample - 1 if sample < 0 else sample, 32767) >> 3
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5       # 1…7
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


ULAW_TABLE = [ulaw_decode(b) for b in range(256)]
ALAW_TABLE = [alaw_decode(b) for b in range(256)]
DECODERS = {PCMU: ULAW_TABLE, PCMA: ALAW_TABLE}
ENCODERS = {PCMU: ulaw_encode, PCMA: alaw_encode}


def decode(payload, payload_type):
    table = DECODERS[payload_type]
    return [table[b] for b in payload]


def encode(samples, payload_type):
    encoder = ENCODERS[payload_type]
    return bytes(encoder(s) for s in samples)


# MARK: RTP (RFC 3550) and telephone events (RFC 4733)

class RtpPacket:
    __slots__ = ("arrival", "source", "payload_type", "marker", "sequence", "timestamp", "ssrc", "payload")

    def __init__(self, arrival, source, payload_type, marker, sequence, timestamp, ssrc, payload):
        self.arrival = arrival
        self.source = source
        self.payload_type = payload_type
        self.marker = marker
        self.sequence = sequence
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.payload = payload

    def __repr__(self):
        return f"<RTP pt={self.payload_type} seq={self.sequence} ts={self.timestamp} {len(self.payload)} bytes>"


def parse_rtp(data, arrival=0.0, source=None):
    """An RTP packet, or None for anything else (too short, not version 2, an RTCP type)."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    payload_type = data[1] & 0x7F
    if 72 <= payload_type <= 76:  # RTCP's packet types 200–204 seen through RTP's header
        return None
    count, has_extension, has_padding = data[0] & 0x0F, data[0] & 0x10, data[0] & 0x20
    sequence, timestamp, ssrc = struct.unpack("!HII", data[2:12])
    offset = 12 + 4 * count
    if has_extension:
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * struct.unpack("!H", data[offset + 2:offset + 4])[0]
    payload = data[offset:]
    if has_padding and payload:
        payload = payload[:-payload[-1]]
    return RtpPacket(arrival, source, payload_type, bool(data[1] & 0x80), sequence, timestamp, ssrc, bytes(payload))


def build_rtp(payload_type, sequence, timestamp, ssrc, payload, marker=False):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | payload_type,
                       sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload


DIGIT_EVENTS = {**{str(n): n for n in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}


def event_payload(event, end, duration, volume=10):
    """RFC 4733 §2.3: event, E bit and volume, duration in timestamp units."""
    return struct.pack("!BBH", event, (0x80 if end else 0) | (volume & 0x3F), duration)


def parse_event(payload):
    """(event, end, volume, duration) of a telephone-event payload."""
    event, flags, duration = struct.unpack("!BBH", payload[:4])
    return event, bool(flags & 0x80), flags & 0x3F, duration


# MARK: The detector

def goertzel_power(samples, frequency, rate=RATE):
    """|X(f)|² over the samples (the Goertzel recurrence; f need not be a bin of the window)."""
    coefficient = 2.0 * math.cos(2.0 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    return previous * previous + before * before - coefficient * previous * before


def tone_scores(samples, frequencies, rate=RATE):
    """Each frequency's share of the samples' energy: 2|X(f)|² / (N·Σx²); a steady sine at f over
    a whole number of cycles scores 1. Silence (or nothing) scores 0 everywhere."""
    energy = sum(s * s for s in samples)
    if not samples or energy < len(samples) * 30 * 30:   # under ~30 RMS: silence
        return {f: 0.0 for f in frequencies}
    scale = 2.0 / (len(samples) * energy)
    return {f: goertzel_power(samples, f, rate) * scale for f in frequencies}


def rms(samples):
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


class Hearing:
    """What one party heard in one window: its RTP packets, their audio, and the scores."""

    FREQUENCIES = (CUSTOMER_TONE, AGENT1_TONE, AGENT2_TONE, SUPERVISOR_TONE) + MUSIC_NOTES

    def __init__(self, party, packets):
        self.party = party
        self.packets = packets
        self.audio_packets = [p for p in packets if p.payload_type in DECODERS]
        self.samples = [s for p in self.audio_packets for s in decode(p.payload, p.payload_type)]
        self.scores = tone_scores(self.samples, self.FREQUENCIES)
        self.level = rms(self.samples)

    @property
    def music(self):
        """The music's score: its strongest note (660 Hz sounds half the phrase)."""
        return max(self.scores[f] for f in MUSIC_NOTES)

    def score(self, source):
        return self.music if source == "music" else self.scores[source]

    def payload_types(self):
        return sorted({p.payload_type for p in self.packets})

    def describe(self):
        notes = " ".join(f"{f}:{self.scores[f]:.3g}" for f in self.FREQUENCIES)
        return (f"{self.party}: {len(self.packets)} RTP packets (types {self.payload_types()}), "
                f"{len(self.samples)} samples, RMS {self.level:.0f}; {notes}; music {self.music:.3g}")


# MARK: The tone peer

def _bind_pair():
    """An RTP socket on an even port and an RTCP socket on the next, both on 127.0.0.1, above the
    ports anyone else here picks: the server's RTP range (20000–29999), SIPp's ports (10000–
    19999, see conftest.QUIET_PORTS) and the kernel's ephemeral ports (32768–60999 by default)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(61000, 65534) & ~1
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            rtp.bind((LOCALHOST, port))
            rtcp.bind((LOCALHOST, port + 1))
            return rtp, rtcp
        except OSError:
            rtp.close()
            rtcp.close()
    raise RuntimeError("no free even/odd UDP port pair")


class TonePeer:
    """One party's media: sends `frequency` (None: sends nothing) and records what it receives.

    `payload_type` is the G.711 law it sends (0 µ-law, 8 A-law), `event_payload_type` the type it
    sends digits with. `loss` and `reorder` (fractions, with a seeded generator) lose packets and
    swap a packet with the next one, on the way out.
    """

    def __init__(self, name, frequency, *, payload_type=PCMU, event_payload_type=101, amplitude=4000,
                 loss=0.0, reorder=0.0, seed=1):
        self.name = name
        self.frequency = frequency
        self.payload_type = payload_type
        self.event_payload_type = event_payload_type
        self.loss = loss
        self.reorder = reorder
        self.rng = random.Random(seed)
        self.rtp, self.rtcp = _bind_pair()
        self.port = self.rtp.getsockname()[1]
        for sock in (self.rtp, self.rtcp):
            sock.setblocking(False)
        # A tone of whole hertz repeats every second: 50 packets' payloads, made once.
        if frequency:
            one_second = [int(amplitude * math.sin(2 * math.pi * frequency * n / RATE)) for n in range(RATE)]
            self.frames = [encode(one_second[i:i + FRAME], payload_type) for i in range(0, RATE, FRAME)]
        else:
            self.frames = []
        self.ssrc = self.rng.getrandbits(32)
        self.sequence = self.rng.getrandbits(16)
        self.timestamp = self.rng.getrandbits(32)
        self.frame_index = 0
        self.lock = threading.Lock()
        self.target = None
        self.received = []          # (arrival, bytes, source address) on the RTP port
        self.control = []           # the same on the RTCP port
        self.digits = []            # digits to send, in order
        self.digits_sent = []
        self.sent = self.lost = self.reordered = 0
        self.held_back = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"tone peer {name}", daemon=True)
        self.thread.start()

    def __repr__(self):
        return f"<TonePeer {self.name} {self.frequency} Hz on {LOCALHOST}:{self.port}>"

    # Driving it.

    def send_to(self, address, port):
        """From now on, a packet every 20 ms to (address, port) (the server's port for this leg)."""
        with self.lock:
            self.target = (address, port)

    def stop_sending(self):
        with self.lock:
            self.target = None

    def send_digit(self, digit, frames=5):
        """Sends `digit` as RFC 4733 events in place of audio: `frames` packets of 20 ms growing
        in duration (the first with the marker bit), then the end packet three times."""
        with self.lock:
            self.digits.append((DIGIT_EVENTS[digit], frames))

    def close(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.rtp.close()
        self.rtcp.close()

    # What it received.

    def packets(self, since=0.0, until=float("inf")):
        """The RTP packets that arrived in [since, until), in arrival order."""
        with self.lock:
            raw = [entry for entry in self.received if since <= entry[0] < until]
        parsed = (parse_rtp(data, arrival, source) for arrival, data, source in raw)
        return [packet for packet in parsed if packet is not None]

    def hearing(self, since, until):
        return Hearing(self.name, self.packets(since, until))

    # The loop: read whatever came, send what is due.

    def _run(self):
        due = None
        events = []           # this digit's packets still to send (payload, marker, timestamp)
        while not self.stopping.is_set():
            with self.lock:
                target = self.target
            now = time.monotonic()
            if target is None:
                due = None
                wait = 0.05
            else:
                if due is None:
                    due = now
                wait = max(0.0, due - now)
            readable, _, _ = select.select([self.rtp, self.rtcp], [], [], wait)
            for sock in readable:
                self._drain(sock)
            if target is None:
                continue
            now = time.monotonic()
            while due <= now:
                if not events:
                    events = self._next_digit()
                if events:
                    payload, marker, timestamp = events.pop(0)
                    self._send(target, self.event_payload_type, payload, timestamp, marker)
                elif self.frames:
                    self._send(target, self.payload_type, self.frames[self.frame_index], self.timestamp, False)
                    self.frame_index = (self.frame_index + 1) % len(self.frames)
                self.timestamp = (self.timestamp + FRAME) & 0xFFFFFFFF
                due += PTIME
                if now - due > 0.5:   # far behind (the machine stalled): start the pace again
                    due = now + PTIME

    def _drain(self, sock):
        while True:
            try:
                data, source = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            entry = (time.monotonic(), data, source)
            with self.lock:
                (self.received if sock is self.rtp else self.control).append(entry)

    def _next_digit(self):
        with self.lock:
            if not self.digits:
                return []
            event, frames = self.digits.pop(0)
            self.digits_sent.append(event)
        start = self.timestamp
        packets = [(event_payload(event, False, FRAME * n), n == 1, start) for n in range(1, frames + 1)]
        packets += [(event_payload(event, True, FRAME * frames), False, start)] * 3
        return packets

    def _send(self, target, payload_type, payload, timestamp, marker):
        packet = build_rtp(payload_type, self.sequence, timestamp, self.ssrc, payload, marker)
        self.sequence = (self.sequence + 1) & 0xFFFF
        if self.loss and self.rng.random() < self.loss:
            self.lost += 1
            return
        if self.held_back is None and self.reorder and self.rng.random() < self.reorder:
            self.held_back = packet   # goes out after the next one
            self.reordered += 1
            return
        self._write(packet, target)
        if self.held_back is not None:
            self._write(self.held_back, target)
            self.held_back = None

    def _write(self, packet, target):
        try:
            self.rtp.sendto(packet, target)
            self.sent += 1
        except OSError:
            pass   # the server's port may be closed already (an ended leg)
