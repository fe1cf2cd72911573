"""A supervisor on a call, checked by ear over SIP: monitor, coach and barge, through hold, consult,
conference, exit and transfer — who hears the supervisor, and what the supervisor hears.

The same set-up as test_media_by_ear.py (SIPp for the signalling, a Python tone peer per party),
with a fourth party: supervisor1's SIP phone (registered like an agent's, the demo's password),
sending 2000 Hz. Tones: customer 440 Hz, Agent 1 1000 Hz, Agent 2 1500 Hz, supervisor 2000 Hz.
"""
from conftest import User, command, first, participant, task_state
from test_media_by_ear import NOTHING, PHONE_WAITS, MediaCall, media_keys, tones  # noqa: F401 (tones: the fixture)
from tone_peer import SUPERVISOR_TONE


class SupervisedCall(MediaCall):
    """A MediaCall with supervisor1's phone and tone peer beside the parties'."""

    def __init__(self, server, peers, tones, caller, **options):
        super().__init__(server, peers, tones, caller, **options)
        self.tone["supervisor"] = tones("supervisor", SUPERVISOR_TONE)
        # The supervisor's phone registers with their own SIP account, like an agent's.
        port = self.peers.register_phone("supervisor1")
        self.phone["supervisor"] = self.peers.server_side(
            PHONE_WAITS, port, keys={"agent": "supervisor1", **media_keys(self.tone["supervisor"])})

    def listen_in(self, mode):
        """supervisor1 starts `mode` on the call: their phone rings (the server's INVITE), answers,
        and the task shows them connected."""
        started = command(self.supervisor, self.id, "monitor", {"mode": mode})
        assert [s["mode"] for s in started["supervisors"]] == [mode], started
        self.answer_phone("supervisor")
        return task_state(self.supervisor, self.id,
                          lambda t: [s["state"] for s in t["supervisors"]] == ["connected"],
                          "the supervisor's phone to answer")

    def switch(self, mode):
        """A new mode on the same leg: no new INVITE (the phone's scenario would fail on one)."""
        switched = command(self.supervisor, self.id, "monitor", {"mode": mode})
        assert [(s["mode"], s["state"]) for s in switched["supervisors"]] == [(mode, "connected")], switched
        return switched


def test_a_monitor_hears_both_and_nobody_hears_them_a_coach_is_heard_by_agent1_only_a_barge_by_everyone(
        server, peers, tones):
    call = SupervisedCall(server, peers, tones, "15550501", agent2=False)
    call.listen_in("monitor")
    call.expect(call.listen("monitor"), "monitor",
                customer={"agent1"}, agent1={"customer"}, supervisor={"customer", "agent1"})

    call.switch("coach")
    call.expect(call.listen("coach"), "coach",
                customer={"agent1"}, agent1={"customer", "supervisor"}, supervisor={"customer", "agent1"})

    call.switch("barge")
    call.expect(call.listen("barge"), "barge",
                customer={"agent1", "supervisor"}, agent1={"customer", "supervisor"}, supervisor={"customer", "agent1"})
    # Three talk: a conference for the spec's rules, so the customer cannot be held.
    refused = command(call.agent1, call.id, "hold", expect=409)
    assert refused["error"]["code"] == "holdNotAllowedInConference", refused
    # An agent's desktop shows the barge.
    assert [s["mode"] for s in call.agent1.task(call.id)["supervisors"]] == ["barge"]

    # Leaving hangs up the supervisor's leg only.
    call.stays_on_the_call(call.phone["supervisor"])
    left = command(call.supervisor, call.id, "monitor/end")
    assert left["supervisors"] == [] and left["status"] == "connected", left
    assert first(call.phone["supervisor"].succeeded(), "received", start="BYE")
    call.expect(call.listen("after the supervisor left"), "after the supervisor left",
                customer={"agent1"}, agent1={"customer"}, supervisor=NOTHING)
    history = call.supervisor.history(call.id)
    assert [e for e in history if e.startswith("monitor")] == [
        "monitorStarted", "monitorAnswered", "monitorModeChanged", "monitorModeChanged", "monitorEnded"], history
    # The audit trail: Agent 1's says who listened in on them, and how.
    trail = call.supervisor.get("/v1/agents/agent1/audit")
    listened = [(e["action"], e.get("by"), e.get("detail")) for e in trail if e["action"].startswith("monitor")]
    assert ("monitorStarted", "supervisor1", f"task {call.id}: monitor") in listened, trail
    assert ("monitorModeChanged", "supervisor1", f"task {call.id}: barge") in listened, trail
    call.ends(call.agent1, call.customer, call.phone["agent1"])


def test_a_coach_follows_agent1_through_hold_consult_conference_and_exit_and_only_agent1_ever_hears_them(
        server, peers, tones):
    call = SupervisedCall(server, peers, tones, "15550502")
    call.listen_in("coach")
    # Agent 1 is not told of a coach (the demo's monitoring.tellAgents is off).
    assert call.agent1.task(call.id)["supervisors"] == []

    command(call.agent1, call.id, "hold")
    call.expect(call.listen("coach, held"), "coach, held",
                customer={"music"}, agent1={"supervisor"}, supervisor={"agent1"}, agent2=NOTHING)
    command(call.agent1, call.id, "resume")

    call.consult()
    call.expect(call.listen("coach, consulting"), "coach, consulting",
                customer={"music"}, agent1={"agent2", "supervisor"}, agent2={"agent1"}, supervisor={"agent1", "agent2"})

    call.merge()
    call.expect(call.listen("coach, conferenced"), "coach, conferenced",
                customer={"agent1", "agent2"}, agent1={"customer", "agent2", "supervisor"},
                agent2={"customer", "agent1"}, supervisor={"customer", "agent1", "agent2"})

    call.stays_on_the_call(call.phone["agent2"])
    command(call.agent2, call.id, "conference/exit")
    assert first(call.phone["agent2"].succeeded(), "received", start="BYE")
    call.expect(call.listen("coach, after Agent 2 exits"), "coach, after Agent 2 exits",
                customer={"agent1"}, agent1={"customer", "supervisor"}, agent2=NOTHING, supervisor={"customer", "agent1"})
    # The call ends: so does the supervisor's leg.
    call.ends(call.agent1, call.customer, call.phone["agent1"], call.phone["supervisor"])


def test_a_monitor_stays_on_the_call_when_agent1_transfers_it_to_agent2(server, peers, tones):
    call = SupervisedCall(server, peers, tones, "15550503")
    call.listen_in("monitor")
    call.consult()
    call.stays_on_the_call(call.phone["agent1"])
    transferred = command(call.agent1, call.id, "consult/transfer")
    assert transferred["wrapUpRequired"] is True, transferred
    assert first(call.phone["agent1"].succeeded(), "received", start="BYE")
    mine = call.agent2.task(call.id)
    assert participant(mine, "agent2")["role"] == "owner", mine
    call.expect(call.listen("monitor, after the transfer"), "monitor, after the transfer",
                customer={"agent2"}, agent2={"customer"}, agent1=NOTHING, supervisor={"customer", "agent2"})
    call.ends(call.agent2, call.customer, call.phone["agent2"], call.phone["supervisor"])


def test_only_supervisors_may_listen_in_and_one_without_a_station_is_told_so(server, peers, tones):
    call = SupervisedCall(server, peers, tones, "15550504", agent2=False)
    refused = command(call.agent1, call.id, "monitor", {"mode": "monitor"}, expect=403)
    assert refused["error"]["code"] == "notASupervisor", refused
    bad = command(call.supervisor, call.id, "monitor", {"mode": "eavesdrop"}, expect=400)
    assert bad["error"]["code"] == "badRequest", bad
    # supervisor1's phone is registered; asking for a browser phone that is not connected is refused.
    refused = command(call.supervisor, call.id, "monitor", {"mode": "monitor", "station": "browser"}, expect=409)
    assert refused["error"]["code"] == "browserNotConnected", refused
    assert call.supervisor.task(call.id)["supervisors"] == []
    call.ends(call.agent1, call.customer, call.phone["agent1"])
