"""Call recording over SIP, checked by ear in the file: the demo records the sales queue (2000).

A customer (440 Hz) and Agent 1's phone (1000 Hz) talk through SIPp and tone peers (see
test_media_by_ear.py); the recording is then fetched over the API, as a supervisor's browser does,
and read with Python's own `wave` module: the left channel (the agents' side) must hold 1000 Hz and
not 440, the right (the customer) 440 and not 1000; a pause is silence as long as the pause; a
SIGKILL mid-call leaves a file every WAV reader opens, and the call's recording carries on in it.
"""
import io
import struct
import subprocess
import time
import wave

import requests

from conftest import User, command, eventually, task_state
from test_media_by_ear import MediaCall, tones, wait_out  # noqa: F401 (tones: the fixture)
from tone_peer import AGENT1_TONE, CUSTOMER_TONE, tone_scores

RATE = 8000


def recording(user, task_id, headers=None):
    return requests.get(f"{user.server.url}/v1/interactions/{task_id}/recording",
                        headers={"Authorization": f"Bearer {user.token}", **(headers or {})}, timeout=10)


def channels(data):
    """(left, right) samples of a stereo 16-bit WAV, read by Python's wave module."""
    with wave.open(io.BytesIO(data)) as file:
        assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (2, 2, RATE)
        frames = file.readframes(file.getnframes())
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    return list(samples[0::2]), list(samples[1::2])


def scores(samples):
    return tone_scores(samples, (CUSTOMER_TONE, AGENT1_TONE))


def silent_runs(left, right):
    """The runs of 20 ms frames where both channels are exactly zero: [(first frame, frames)]."""
    runs, start = [], None
    for frame in range(len(left) // 160):
        quiet = not any(left[frame * 160:(frame + 1) * 160]) and not any(right[frame * 160:(frame + 1) * 160])
        if quiet and start is None:
            start = frame
        if not quiet and start is not None:
            runs.append((start, frame - start))
            start = None
    if start is not None:
        runs.append((start, len(left) // 160 - start))
    return runs


def history(user, task_id):
    return user.get(f"/v1/tasks/{task_id}/history")


def test_the_recording_has_agent1_on_the_left_the_customer_on_the_right_and_a_pause_is_silence_as_long_as_it(
        server, peers, tones):
    call = MediaCall(server, peers, tones, "15550601", agent2=False)
    task = task_state(call.agent1, call.id, lambda t: t["recording"] == "on", "the call to be recorded")
    assert "recording/pause" in task["allowedActions"]
    call.bystander.settle()
    wait_out(time.monotonic() + 1.5)  # a stretch of conversation
    assert command(call.agent1, call.id, "recording/pause")["recording"] == "paused"
    wait_out(time.monotonic() + 1.0)  # the customer reads out a card number
    assert command(call.agent1, call.id, "recording/resume")["recording"] == "on"
    call.bystander.settle()
    wait_out(time.monotonic() + 1.5)
    # Still recording: supervisors are told to wait.
    assert recording(call.supervisor, call.id).status_code == 409
    call.ends(call.agent1, call.customer, call.phone["agent1"])
    answer = task_state(call.supervisor, call.id, lambda t: t["status"] == "ended", "the call to end")
    assert answer["recording"] == "off"

    def finished():
        got = recording(call.supervisor, call.id)
        return got if got.status_code == 200 else None
    got = eventually(finished, "the recording to be finished")
    assert got.headers["Content-Type"] == "audio/wav" and got.headers["Accept-Ranges"] == "bytes"
    left, right = channels(got.content)
    seconds = len(left) / RATE
    print(f"recording: {seconds:.2f} s")
    assert 3.5 <= seconds <= 8, seconds

    # The pause: one run of silence on both channels, as long as the pause (from the history's times).
    events = {entry["event"]: entry["at"] for entry in history(call.supervisor, call.id)}
    paused_ms = events["recordingResumed"] - events["recordingPaused"]
    runs = [run for run in silent_runs(left, right) if run[1] >= 10]
    print(f"pause {paused_ms} ms; silent runs (frame, frames): {runs}")
    assert len(runs) == 1, runs
    start, frames = runs[0]
    assert abs(frames * 20 - paused_ms) <= 120, (frames * 20, paused_ms)

    # Outside the pause (and the first half second, as the streams start), each channel is one party.
    for name, span in (("before", (4000, start * 160)), ("after", ((start + frames) * 160 + 1600, len(left) - 800))):
        l, r = scores(left[span[0]:span[1]]), scores(right[span[0]:span[1]])
        print(f"{name} the pause: left {l}, right {r}")
        assert l[AGENT1_TONE] > 0.5 and l[CUSTOMER_TONE] < 0.01, (name, l)
        assert r[CUSTOMER_TONE] > 0.5 and r[AGENT1_TONE] < 0.01, (name, r)

    # A byte range, as an <audio> element seeking asks.
    part = recording(call.supervisor, call.id, {"Range": "bytes=0-43"})
    assert part.status_code == 206 and part.content[:4] == b"RIFF" and len(part.content) == 44
    assert part.headers["Content-Range"] == f"bytes 0-43/{len(got.content)}"
    assert recording(call.supervisor, call.id, {"Range": "bytes=999999999-"}).status_code == 416
    # An agent who was not on the call gets 404, as for a call with no recording; so does Agent 1
    # (the demo lets supervisors alone play recordings).
    assert recording(User(server, "agent2"), call.id).status_code == 404
    assert recording(call.agent1, call.id).status_code == 404
    assert recording(call.supervisor, "t0000000000none").status_code == 404


def test_a_sigkill_mid_call_leaves_a_playable_recording_and_the_call_carried_on_is_recorded_on_in_the_same_file(
        server, peers, tones, tmp_path):
    call = MediaCall(server, peers, tones, "15550604", agent2=False)
    task_state(call.agent1, call.id, lambda t: t["recording"] == "on", "the call to be recorded")
    call.bystander.settle()
    wait_out(time.monotonic() + 2.5)  # more than a second: some of it is on disk
    killed_at = time.monotonic()
    server.kill()
    server.restart()
    task_state(call.agent1, call.id, lambda t: t["status"] == "connected" and t["recording"] == "on",
               "the call, still recorded, after the restart")
    call.bystander.settle()
    wait_out(time.monotonic() + 1.5)
    call.ends(call.agent1, call.customer, call.phone["agent1"])

    got = eventually(lambda: (lambda r: r if r.status_code == 200 else None)(recording(call.supervisor, call.id)),
                     "the recording to be finished")
    left, right = channels(got.content)  # Python's wave reader opens it: a whole, valid header
    seconds = len(left) / RATE
    # So does SoX, and it finds the same length.
    kept = tmp_path / "after-the-crash.wav"
    kept.write_bytes(got.content)
    info = subprocess.run(["soxi", "-D", str(kept)], capture_output=True, text=True, check=True).stdout
    assert abs(float(info) - seconds) < 0.01, (info, seconds)
    print(f"recording across the restart: {seconds:.2f} s (killed {time.monotonic() - killed_at:.2f} s ago)")
    assert seconds >= 3.5, seconds
    # Both stretches are there: Agent 1 on the left before the kill and after the restart.
    head, tail = left[4000:12000], left[-8800:-800]
    assert scores(head)[AGENT1_TONE] > 0.5 and scores(tail)[AGENT1_TONE] > 0.5, (scores(head), scores(tail))
    assert scores(right[-8800:-800])[CUSTOMER_TONE] > 0.5
