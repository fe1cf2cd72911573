"""An independent WebRTC peer for the tests: aiortc (PyPI) plays a browser. It sends its own tone
as its microphone, offers to the server WHIP-style (an SDP offer POSTed as application/sdp, the
answer and a Location back), and records what it receives, so a test can say whom it hears.

aiortc runs on an asyncio loop in a thread of its own; the methods here are called from the test's
thread and wait for that loop. Every peer is closed by the test that made it.
"""
import asyncio
import fractions
import math
import threading
import time

import numpy
import requests
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from av import AudioFrame

RATE = 8000
FRAME = 160  # 20 ms


class ToneTrack(MediaStreamTrack):
    """A microphone that plays one tone (or silence when muted), paced at real time."""
    kind = "audio"

    def __init__(self, frequency, amplitude=6000):
        super().__init__()
        self.frequency = frequency
        self.amplitude = amplitude
        self.muted = False
        self._sent = 0
        self._start = None

    async def recv(self):
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._sent / RATE
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)  # paces the microphone at 8 kHz (a clock, not a wait for state)
        index = numpy.arange(self._sent, self._sent + FRAME)
        samples = numpy.zeros(FRAME) if self.muted else self.amplitude * numpy.sin(2 * math.pi * self.frequency * index / RATE)
        frame = AudioFrame.from_ndarray(samples.astype(numpy.int16).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._sent
        frame.time_base = fractions.Fraction(1, RATE)
        self._sent += FRAME
        return frame


def goertzel_share(samples, frequency, rate):
    """The share of the window's energy at `frequency` (a steady sine scores about 1)."""
    if len(samples) == 0:
        return 0.0
    samples = numpy.asarray(samples, dtype=numpy.float64)
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for value in samples:
        s1, s2 = value + coefficient * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    energy = float(numpy.dot(samples, samples))
    return 0.0 if energy == 0 else 2 * power / (len(samples) * energy)


class WebRTCPeer:
    """One browser: a peer connection with a tone as its microphone, and a recorder."""

    def __init__(self, frequency):
        self.frequency = frequency
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.received = []  # (arrival, samples at the received rate)
        self.rate = RATE
        self.location = None
        self.states = []
        self.pc = None
        self.track = None

    def _run(self, coroutine, timeout=20):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def offer(self):
        """A fresh peer connection's offer, with its candidates gathered (non-trickle, as WHIP)."""
        return self._run(self._offer())

    async def _offer(self):
        self.pc = RTCPeerConnection()
        self.track = ToneTrack(self.frequency)
        self.pc.addTrack(self.track)

        @self.pc.on("track")
        def on_track(track):
            asyncio.ensure_future(self._record(track))

        @self.pc.on("connectionstatechange")
        def on_state():
            self.states.append(self.pc.connectionState)

        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def _record(self, track):
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            self.rate = frame.sample_rate
            samples = frame.to_ndarray().reshape(-1)
            if frame.layout.name != "mono":
                samples = samples[:: len(frame.layout.channels)]
            self.received.append((time.monotonic(), samples.astype(numpy.int16)))

    def answer(self, sdp):
        self._run(self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer")))

    def post(self, url, headers=None):
        """Offers to `url`; returns the HTTP response (the answer applied when it is 201)."""
        response = requests.post(url, data=self.offer().encode(), headers={"Content-Type": "application/sdp", **(headers or {})},
                                 timeout=20)
        if response.status_code == 201:
            self.location = response.headers["Location"]
            self.answer(response.text)
        return response

    @property
    def connection_state(self):
        return self.pc.connectionState if self.pc else "new"

    def heard(self, since, until=None, frequencies=()):
        """Scores per frequency over what arrived in [since, until)."""
        until = until or time.monotonic()
        chunks = [samples for arrival, samples in list(self.received) if since <= arrival < until]
        audio = numpy.concatenate(chunks) if chunks else numpy.zeros(0)
        return {frequency: goertzel_share(audio, frequency, self.rate) for frequency in frequencies}, len(audio)

    def mute(self, muted=True):
        self.track.muted = muted

    def close(self):
        try:
            if self.pc:
                self._run(self.pc.close(), timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
