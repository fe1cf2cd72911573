"""The conference spec's participant table (shared/spec/initiate-a-conference.txt, docs/rules.md)
walked over real phones: a customer on the trunk, Agent 1 and Agent 2 each on a registered SIP
phone (station "phone"), the desktops driving the REST commands.

What the server does over SIP (docs/sip.md): an offer INVITEs Agent 1's phone (answering accepts);
a consult to Agent 2 INVITEs Agent 2's phone (answering accepts the consult); `consult/conference`
needs no SIP; an agent who leaves (exit, transfer, end) gets a BYE on their phone; a phone's BYE
is that agent hanging up (Agent 1's ends the conference, Agent 2's exits it).

Each test checks what every SIPp peer saw (its message trace) and the task as the desktops see it.
A peer that must stay on the call runs a scenario in which a BYE before the test's cue fails the
run; the cue is sent only after `Bystander.settle()`, so a BYE sent wrongly is caught (see there).
"""
from conftest import (Bystander, command, eventually, first, on_phone_station, participant,
                      received_requests, still_waiting, tag, task_state, cseq_number)

# Scenarios (in scenarios/).
WAITS = "spec_phone_answers_and_waits"              # answers; BYE only after the cue
HANGS_UP = "agent_phone_answers_and_hangs_up"       # answers; hangs up (BYE) at the cue
IS_HUNG_UP = "agent_phone_answers"                  # answers; takes the server's BYE
BUSY = "agent_phone_busy"                           # 486 Busy Here
CUSTOMER_WAITS = "spec_customer_calls_and_waits"    # BYE only after the cue
CUSTOMER_IS_HUNG_UP = "customer_calls_and_is_hung_up"
CUSTOMER_HANGS_UP = "customer_calls_and_hangs_up"   # hangs up (BYE) at the cue
CUSTOMER_REFERS = "spec_customer_sends_refer"       # REFER in its dialog; BYE only after the cue


class Call:
    """A customer's call with Agent 1 on it over the phone, and (once consulted) Agent 2's phone."""

    def __init__(self, server, peers, phone1, phone2, customer, caller):
        self.caller = caller
        self.phone1 = peers.phone("agent1", phone1)
        self.phone2 = peers.phone("agent2", phone2) if phone2 else None
        self.agent1 = on_phone_station(server, "agent1")
        # Agent 2 becomes available only once Agent 1 has the call, so the offer goes to Agent 1.
        self.agent2 = on_phone_station(server, "agent2", available=False) if phone2 else None
        self.bystander = Bystander(server)
        self.customer = peers.customer(customer, caller=caller)

        invite = self.phone1.wait_for("received", start="INVITE")
        assert invite.request_uri == f"sip:agent1@127.0.0.1:{self.phone1.port}", invite.start_line
        self.phone1.wait_for("received", start="ACK")

        def agent1_connected():
            task = self.agent1.task_from(caller)
            me = task and participant(task, "agent1")
            return task if me and me["state"] == "connected" else None
        task = eventually(agent1_connected, "Agent 1 to be connected by answering the phone")
        self.id = task["id"]
        assert task["status"] == "connected" and task["customer"]["state"] == "connected", task
        assert self.agent1.history(self.id) == ["arrived", "offered", "accepted"]

    def task(self, user=None):
        return (user or self.agent1).task(self.id)

    def consult_agent2(self):
        """Agent 1 consults Agent 2 (the customer is held): the server INVITEs Agent 2's phone."""
        self.agent2.available()
        consulting = command(self.agent1, self.id, "consult", {"destinationType": "agent", "to": "agent2"})
        assert consulting["status"] == "consulting" and consulting["customer"]["state"] == "held", consulting
        agent2 = participant(consulting, "agent2")
        assert agent2["role"] == "consulted" and agent2["state"] == "ringing", consulting
        invite = self.phone2.wait_for("received", start="INVITE")
        assert invite.request_uri == f"sip:agent2@127.0.0.1:{self.phone2.port}", invite.start_line
        assert invite.header("Call-ID") != self.phone1.call_id(), "a leg of its own, not Agent 1's dialog"
        return invite

    def conference(self):
        """Consult Agent 2, whose phone answers (the consult is accepted), then Conference."""
        self.consult_agent2()
        self.phone2.wait_for("received", start="ACK")
        consult = task_state(self.agent1, self.id, lambda t: participant(t, "agent2")["state"] == "connected",
                             "Agent 2's answer to accept the consult")
        assert consult["status"] == "consulting" and consult["customer"]["state"] == "held", consult
        assert "consultAnswered" in self.agent1.history(self.id)

        merged = command(self.agent1, self.id, "consult/conference")
        # "If Agent 1 starts a conference call when consulting Agent 2, the latter becomes part of
        # the conference call"; "the customer is taken off hold".
        assert merged["status"] == "conferenced" and merged["customer"]["state"] == "connected", merged
        assert participant(merged, "agent2")["role"] == "conferenced", merged
        assert participant(merged, "agent2")["state"] == "connected", merged
        assert participant(merged, "agent1")["role"] == "owner", merged
        # The conference needs no SIP: each leg saw only its own INVITE and the ACK.
        self.bystander.settle()
        for phone in (self.phone1, self.phone2):
            assert {m.method for m in phone.messages() if m.direction == "received"} == {"INVITE", "ACK"}, phone.report()
        assert received_requests(self.customer, "BYE") == [] and received_requests(self.customer, "INVITE") == []
        return merged

    def stays_on_the_call(self, *peers):
        """After every earlier command's line actions reached the SIP layer, none of `peers` has
        been hung up; each is then cued that it may be."""
        self.bystander.settle()
        for peer in peers:
            still_waiting(peer)
            assert received_requests(peer, "BYE") == [], f"{peer.scenario} was hung up:\n{peer.report()}"
        for peer in peers:
            peer.cue()


# MARK: What each peer saw of the server's BYE

def bye_to_phone(messages, port, agent):
    """The server's BYE to a phone it INVITEd, checked against that dialog (RFC 3261 §12.2.1.1)."""
    invite = first(messages, "received", start="INVITE")
    answer = first(messages, "sent", status=200, method="INVITE")
    bye = first(messages, "received", start="BYE")
    assert bye is not None, "the server hangs up this phone"
    assert bye.request_uri == f"sip:{agent}@127.0.0.1:{port}", bye.start_line
    assert bye.header("Call-ID") == invite.header("Call-ID"), bye.text
    assert tag(bye.header("From")) == tag(invite.header("From")), bye.text
    assert tag(bye.header("To")) == tag(answer.header("To")), bye.text
    assert cseq_number(bye) > cseq_number(invite), bye.text
    assert first(messages, "sent", status=200, method="BYE"), "the phone answers the BYE"
    return bye


def bye_to_customer(messages, port, caller):
    """The server's BYE to the customer, in the customer's dialog (the server is the UAS there)."""
    invite = first(messages, "sent", start="INVITE")
    answer = first(messages, "received", status=200, method="INVITE")
    bye = first(messages, "received", start="BYE")
    assert bye is not None, "the server hangs up the customer"
    assert bye.request_uri == f"sip:{caller}@127.0.0.1:{port}", bye.start_line
    assert bye.header("Call-ID") == invite.header("Call-ID"), bye.text
    assert tag(bye.header("From")) == tag(answer.header("To")), bye.text
    assert tag(bye.header("To")) == tag(invite.header("From")), bye.text
    assert first(messages, "sent", status=200, method="BYE")
    return bye


def wraps_up(agent, task_id):
    """`agent` owes the wrap-up (the Wrap Up Reasons dialog), applies it, and is available again."""
    assert agent.me()["state"] == "wrapUp", agent.me()
    done = command(agent, task_id, "wrapup", {"wrapUpCodeId": "resolved"})
    assert done["wrapUpRequired"] is False, done
    assert agent.me()["state"] == "available", agent.me()


def agent1_ends_the_call(call, *peers):
    """The call goes on until Agent 1 ends it from the desktop: BYEs to the customer and Agent 1's
    phone (`peers` are cued first: they may be hung up now)."""
    call.stays_on_the_call(*peers)
    ended = command(call.agent1, call.id, "end")
    assert ended["status"] == "ended" and ended["wrapUpRequired"] is True, ended
    bye_to_customer(call.customer.succeeded(), call.customer.port, call.caller)
    bye_to_phone(call.phone1.succeeded(), call.phone1.port, "agent1")
    wraps_up(call.agent1, call.id)


# MARK: Agent 2

def test_agent2_can_end_a_conference_by_hanging_up_the_phone_and_the_call_continues_between_agent1_and_the_customer(
        server, peers):
    """Agent 2's row "can end a conference call by clicking Exit Conference. The call continues
    between Agent 1 and the customer", done by hanging up the phone (docs/rules.md: Agent 2's phone
    exits)."""
    call = Call(server, peers, WAITS, HANGS_UP, CUSTOMER_WAITS, "15550301")
    call.conference()

    call.phone2.cue()  # Agent 2 hangs up
    messages = call.phone2.succeeded()
    assert first(messages, "received", status=200, method="BYE"), "the server answers Agent 2's BYE"
    assert received_requests(call.phone2, "BYE") == [], "the server does not BYE a phone that hung up"

    after = task_state(call.agent1, call.id, lambda t: t["status"] == "connected", "the conference to end")
    agent2 = participant(after, "agent2")
    assert agent2["state"] == "left" and agent2["wrapUpRequired"] is False, after
    assert participant(after, "agent1")["state"] == "connected", after
    assert after["customer"]["state"] == "connected", after
    assert call.agent1.history(call.id)[-1] == "conferenceExited"
    assert call.agent2.me()["state"] == "available", "Agent 2 owes no wrap-up"
    assert call.agent1.me()["state"] == "engaged"

    # No BYE reached the customer nor Agent 1's phone: they are still talking.
    agent1_ends_the_call(call, call.customer, call.phone1)


def test_agent2_can_end_a_conference_by_clicking_exit_conference_the_call_continues_between_agent1_and_the_customer(
        server, peers):
    """Agent 2's rows "can't end a conference call" and "can end a conference call by clicking the
    Exit Conference button. The call continues between Agent 1 and the customer": the server hangs
    up Agent 2's phone only."""
    call = Call(server, peers, WAITS, IS_HUNG_UP, CUSTOMER_WAITS, "15550302")
    call.conference()

    refused = command(call.agent2, call.id, "conference/end", expect=403)
    assert refused["error"]["code"] == "notOwner", refused
    exited = command(call.agent2, call.id, "conference/exit")
    assert participant(exited, "agent2")["state"] == "left", exited

    bye_to_phone(call.phone2.succeeded(), call.phone2.port, "agent2")
    after = call.task()
    assert after["status"] == "connected" and after["customer"]["state"] == "connected", after
    assert participant(after, "agent1")["state"] == "connected", after
    assert call.agent1.history(call.id)[-1] == "conferenceExited"
    assert call.agent2.me()["state"] == "available" and call.agent2.task(call.id) is None

    agent1_ends_the_call(call, call.customer, call.phone1)


def test_when_the_customer_drops_from_a_conference_agent1_wraps_up_and_the_agents_continue_in_wrap_up_assist(
        server, peers):
    """Agent 1's row "When a customer drops from a conference call, the interaction ends, and the
    Wrap Up Reasons dialog box appears for Agent 1" and Agent 2's "the agents can continue the
    interaction ... Wrap up assist": the customer's BYE leaves both phones up; once Agent 2 exits,
    the call is over for everyone (both phones get a BYE)."""
    call = Call(server, peers, WAITS, WAITS, CUSTOMER_HANGS_UP, "15550303")
    call.conference()

    call.customer.cue()  # the customer hangs up
    assert first(call.customer.succeeded(), "received", status=200, method="BYE")
    assist = task_state(call.agent1, call.id, lambda t: t["status"] == "wrapUpAssist", "wrap-up assist")
    assert assist["customer"]["state"] == "left" and assist["wrapUpRequired"] is True, assist
    assert participant(assist, "agent2")["state"] == "connected", assist
    refused = command(call.agent1, call.id, "hold", expect=409)
    assert refused["error"]["code"] == "notAllowedInWrapUpAssist", refused

    call.stays_on_the_call(call.phone1, call.phone2)
    command(call.agent2, call.id, "conference/exit")
    bye_to_phone(call.phone2.succeeded(), call.phone2.port, "agent2")
    bye_to_phone(call.phone1.succeeded(), call.phone1.port, "agent1")
    ended = task_state(call.agent1, call.id, lambda t: t["status"] == "ended", "the call to end")
    assert ended["wrapUpRequired"] is True, ended
    assert call.agent2.me()["state"] == "available"
    wraps_up(call.agent1, call.id)


# MARK: Agent 1

def test_agent1_can_end_a_conference_by_hanging_up_the_physical_phone_the_customer_and_agent2_are_dropped(
        server, peers):
    """Agent 1's row "can end a conference call ... by hanging up the physical phone. The customer
    and Agent 2 are dropped": the server BYEs the customer and Agent 2's phone."""
    call = Call(server, peers, HANGS_UP, IS_HUNG_UP, CUSTOMER_IS_HUNG_UP, "15550304")
    call.conference()

    call.phone1.cue()  # Agent 1 hangs up
    messages = call.phone1.succeeded()
    assert first(messages, "received", status=200, method="BYE"), "the server answers Agent 1's BYE"
    bye_to_customer(call.customer.succeeded(), call.customer.port, call.caller)
    bye_to_phone(call.phone2.succeeded(), call.phone2.port, "agent2")

    ended = task_state(call.agent1, call.id, lambda t: t["status"] == "ended", "the conference to end")
    assert ended["customer"]["state"] == "left", ended
    assert all(p["state"] == "left" for p in ended["participants"]), ended
    assert ended["wrapUpRequired"] is True and ended["allowedActions"] == ["wrapup"], ended
    assert participant(ended, "agent2")["wrapUpRequired"] is False, ended
    assert "conferenceEnded" in call.agent1.history(call.id)
    assert call.agent2.me()["state"] == "available" and call.agent2.task(call.id) is None
    wraps_up(call.agent1, call.id)


def test_agent1_can_end_a_conference_by_clicking_end_conference_the_customer_and_agent2_are_dropped(server, peers):
    """Agent 1's rows "can start and end a conference call", "can end a conference call by clicking
    the End Conference button. The customer and Agent 2 are dropped" (and "can't put a customer or
    Agent 2 on hold"), and Agent 2's "can't apply a wrap-up reason": BYEs to all three legs."""
    call = Call(server, peers, IS_HUNG_UP, IS_HUNG_UP, CUSTOMER_IS_HUNG_UP, "15550305")
    call.conference()
    refused = command(call.agent1, call.id, "hold", expect=409)
    assert refused["error"]["code"] == "holdNotAllowedInConference", refused

    ended = command(call.agent1, call.id, "conference/end")
    assert ended["status"] == "ended" and ended["wrapUpRequired"] is True, ended
    assert ended["allowedActions"] == ["wrapup"], ended

    bye_to_customer(call.customer.succeeded(), call.customer.port, call.caller)
    bye_to_phone(call.phone2.succeeded(), call.phone2.port, "agent2")
    bye_to_phone(call.phone1.succeeded(), call.phone1.port, "agent1")

    assert call.agent2.task(call.id) is None, "Agent 2 is released"
    assert call.agent2.me()["state"] == "available"
    refused = command(call.agent2, call.id, "wrapup", {"wrapUpCodeId": "resolved"}, expect=404)
    assert refused["error"]["code"] == "notFound", refused
    wraps_up(call.agent1, call.id)


def test_agent1_can_transfer_a_conference_to_agent2_and_the_call_continues_between_agent2_and_the_customer(
        server, peers):
    """Agent 1's row "can transfer a call to Agent 2. When the transfer request is initiated, the
    Wrap Up Reasons dialog box appears for Agent 1. The call continues between Agent 2 and the
    customer" (and Agent 2's "can accept a transfer request made during the conference call"):
    Agent 1 leaves, so only Agent 1's phone gets a BYE. Agent 1 cannot Exit Conference (that is
    Agent 2's control): refused, and nothing moves over SIP."""
    call = Call(server, peers, IS_HUNG_UP, WAITS, CUSTOMER_WAITS, "15550306")
    call.conference()

    refused = command(call.agent1, call.id, "conference/exit", expect=403)
    assert refused["error"]["code"] == "ownerCannotExitConference", refused
    call.bystander.settle()
    still_waiting(call.phone1)
    assert received_requests(call.phone1, "BYE") == [], call.phone1.report()
    assert call.task()["status"] == "conferenced"

    transferred = command(call.agent1, call.id, "conference/transfer")
    assert transferred["wrapUpRequired"] is True, transferred
    bye_to_phone(call.phone1.succeeded(), call.phone1.port, "agent1")
    assert call.agent1.me()["state"] == "wrapUp"

    mine = call.task(call.agent2)
    assert mine["status"] == "connected" and mine["customer"]["state"] == "connected", mine
    assert participant(mine, "agent2")["role"] == "owner" and participant(mine, "agent2")["state"] == "connected", mine
    assert participant(mine, "agent1")["state"] == "left", mine
    assert call.agent2.me()["state"] == "engaged"
    assert "conferenceTransferred" in call.agent2.history(call.id)

    # Agent 2 and the customer are still talking; Agent 2 ends the call.
    call.stays_on_the_call(call.customer, call.phone2)
    ended = command(call.agent2, call.id, "end")
    assert ended["status"] == "ended", ended
    bye_to_customer(call.customer.succeeded(), call.customer.port, call.caller)
    bye_to_phone(call.phone2.succeeded(), call.phone2.port, "agent2")
    wraps_up(call.agent2, call.id)
    wraps_up(call.agent1, call.id)


# MARK: Before the conference: the consult

def test_a_consult_to_agent2_whose_phone_is_busy_fails_as_ring_no_answer_and_the_customer_stays_held_with_agent1(
        server, peers):
    """"You must have already initiated a consult call": a consult whose phone answers 486 Busy
    Here fails at once (docs/sip.md: 486 is ringFailed(busy)); Agent 2 is handled as ring-no-answer
    (idle, code rona); the customer stays on hold with Agent 1, and nobody else is hung up."""
    call = Call(server, peers, WAITS, BUSY, CUSTOMER_WAITS, "15550307")
    call.consult_agent2()

    messages = call.phone2.succeeded()  # INVITE, 486, the server's ACK
    assert first(messages, "sent", status=486) and first(messages, "received", start="ACK")
    held = task_state(call.agent1, call.id, lambda t: t["status"] == "held", "the consult to fail", timeout=5)
    assert held["customer"]["state"] == "held", held
    assert [(p.get("agentId"), p["state"]) for p in held["participants"]] == [("agent1", "connected")], held
    assert "resume" in held["allowedActions"] and "consult/conference" not in held["allowedActions"], held
    history = call.agent1.history(call.id)
    assert history[-2:] == ["consultStarted", "ringFailed"], history
    assert "consultOfferTimedOut" not in history
    me = eventually(lambda: (seen := call.agent2.me())["state"] == "idle" and seen, "Agent 2 to be idle", timeout=5)
    assert me["idleCodeId"] == "rona", me
    assert call.agent2.task(call.id) is None

    call.bystander.settle()
    for peer in (call.customer, call.phone1):
        still_waiting(peer)
        assert received_requests(peer, "BYE") == [], f"{peer.scenario} was hung up:\n{peer.report()}"
    resumed = command(call.agent1, call.id, "resume")
    assert resumed["status"] == "connected" and resumed["customer"]["state"] == "connected", resumed
    agent1_ends_the_call(call, call.customer, call.phone1)


def test_a_customer_cannot_initiate_a_conference_a_refer_from_the_customer_is_403_and_the_call_goes_on(
        server, peers):
    """The customer's row "A customer can't initiate a conference call" (and the step-1 note: a
    conference is initiated on the Agent Desktop, not a phone device): the customer's REFER in its
    dialog is refused 403, nobody is rung, and the call goes on with Agent 1."""
    call = Call(server, peers, WAITS, None, CUSTOMER_REFERS, "15550308")

    refusal = call.customer.wait_for("received", status=403, method="REFER")
    assert "Agent Desktop" in refusal.reason, refusal.start_line
    call.bystander.settle()
    task = call.task()
    assert task["status"] == "connected" and task["customer"]["state"] == "connected", task
    assert [p["agentId"] for p in task["participants"]] == ["agent1"], task
    assert call.agent1.history(call.id) == ["arrived", "offered", "accepted"]
    assert {m.method for m in call.phone1.messages() if m.direction == "received"} == {"INVITE", "ACK"}
    agent1_ends_the_call(call, call.customer, call.phone1)
