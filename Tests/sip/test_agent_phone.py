"""Agents who answer on their SIP phone (station "phone"): the server, a B2BUA, INVITEs the phone's
registered contact for a customer's call, bridges the two dialogs, and hangs up one side when the
other does. SIPp plays the customer and the phone; the REST API plays the agent's desktop."""
from conftest import User, cseq_number, eventually, first, participant, sdp_media, tag


def phone_station(server, peers, scenario, agent="agent1"):
    """`agent`'s phone registered and playing `scenario`; the agent signed in, on the phone
    station, available."""
    phone = peers.phone(agent, scenario)
    desk = User(server, agent)
    chosen = desk.station("phone")
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["station"] == "phone", chosen.text
    desk.available()
    return phone, desk


def connected_task(desk):
    """The agent's task once they are connected on it."""
    def check():
        for task in desk.tasks():
            me = participant(task, desk.name)
            if me and me["state"] == "connected":
                return task
        return None
    return eventually(check, f"{desk.name} to be connected on a task")


def test_phone_station_agent_is_invited_answers_and_gets_bye_when_the_customer_hangs_up(server, peers):
    phone, agent = phone_station(server, peers, "agent_phone_answers")
    customer = peers.customer("customer_calls_and_hangs_up", caller="15550201")

    invite = phone.wait_for("received", start="INVITE")
    assert invite.request_uri == f"sip:agent1@127.0.0.1:{phone.port}", invite.start_line
    assert invite.header("Content-Type") == "application/sdp", invite.text
    address, port, payloads = sdp_media(invite.body)
    assert address == "127.0.0.1" and 20000 <= port <= 29999 and 0 in payloads, invite.body
    # The ACK of the phone's 200 (RFC 3261 §13.2.2.4): to the phone's Contact, in the dialog, the
    # INVITE's CSeq number.
    ack = phone.wait_for("received", start="ACK")
    answer = first(phone.messages(), "sent", status=200, method="INVITE")
    assert ack.request_uri == f"sip:agent1@127.0.0.1:{phone.port}", ack.start_line
    assert ack.header("Call-ID") == invite.header("Call-ID")
    assert tag(ack.header("From")) == tag(invite.header("From")) and tag(ack.header("To")) == tag(answer.header("To"))
    assert ack.header("CSeq") == f"{cseq_number(invite)} ACK", ack.text

    task = connected_task(agent)
    assert task["status"] == "connected" and task["customer"]["state"] == "connected", task
    assert task["customer"]["number"] == "15550201"
    assert agent.me()["state"] == "engaged"

    customer.cue()  # the customer hangs up
    assert first(customer.succeeded(), "received", status=200, method="BYE")
    messages = phone.succeeded()
    bye = first(messages, "received", start="BYE")
    assert bye is not None and bye.header("Call-ID") == invite.header("Call-ID"), "the server hangs up the phone"
    assert bye.request_uri == f"sip:agent1@127.0.0.1:{phone.port}", bye.start_line
    assert tag(bye.header("From")) == tag(invite.header("From")) and tag(bye.header("To")) == tag(answer.header("To"))
    assert cseq_number(bye) > cseq_number(invite), bye.text
    assert first(messages, "sent", status=200, method="BYE"), "the phone answers the BYE 200"

    ended = eventually(lambda: (seen := agent.task(task["id"])) and seen["status"] == "ended" and seen,
                       "the task to end")
    assert ended["wrapUpRequired"] is True
    assert agent.history(task["id"])[-1] == "customerLeft"


def test_phone_station_agent_hanging_up_first_ends_the_call_and_the_customer_gets_bye(server, peers):
    phone, agent = phone_station(server, peers, "agent_phone_answers_and_hangs_up")
    customer = peers.customer("customer_calls_and_is_hung_up", caller="15550202")

    phone.wait_for("received", start="ACK")
    task = connected_task(agent)

    phone.cue()  # Agent 1 hangs up
    messages = phone.succeeded()
    assert first(messages, "received", status=200, method="BYE"), "the server answers the phone's BYE"
    messages = customer.succeeded()
    bye = first(messages, "received", start="BYE")
    assert bye is not None, "the server hangs up the customer"
    # In the customer's dialog (RFC 3261 §12.2.1.1): to its Contact, with both tags swapped.
    invite = first(messages, "sent", start="INVITE")
    answer = first(messages, "received", status=200, method="INVITE")
    assert bye.request_uri == f"sip:15550202@127.0.0.1:{customer.port}", bye.start_line
    assert bye.header("Call-ID") == invite.header("Call-ID")
    assert tag(bye.header("From")) == tag(answer.header("To")) and tag(bye.header("To")) == tag(invite.header("From"))
    assert first(messages, "sent", status=200, method="BYE")

    ended = eventually(lambda: (seen := agent.task(task["id"])) and seen["status"] == "ended" and seen,
                       "the task to end")
    assert ended["wrapUpRequired"] is True
    assert "endedByOwner" in agent.history(task["id"])


def test_phone_answering_486_busy_requeues_the_call_at_once_and_idles_the_agent_rona(server, peers, supervisor):
    phone, agent = phone_station(server, peers, "agent_phone_busy")
    customer = peers.customer("customer_calls_and_hangs_up", caller="15550203")

    messages = phone.succeeded()  # INVITE, 486 Busy Here, the server's ACK
    assert first(messages, "sent", status=486)
    # At once: well before the offer's 15-second ring-no-answer would have redirected it.
    me = eventually(lambda: (seen := agent.me())["state"] == "idle" and seen, "agent1 to be idle", timeout=5)
    assert me["idleCodeId"] == "rona", me
    task = eventually(lambda: (seen := supervisor.task_from("15550203")) and seen["status"] == "queued" and seen,
                      "the call to be back in its queue", timeout=5)
    assert task["participants"] == [] and task["customer"]["state"] != "left", task
    history = supervisor.history(task["id"])
    assert "ringFailed" in history and "offerTimedOut" not in history, history
    assert agent.tasks() == []

    customer.cue()
    customer.succeeded()


def test_refer_from_a_phone_in_a_call_is_403_use_the_agent_desktop_and_the_call_goes_on(server, peers):
    phone, agent = phone_station(server, peers, "phone_sends_refer")
    customer = peers.customer("customer_calls_and_hangs_up", caller="15550204")

    refusal = phone.wait_for("received", status=403, method="REFER")
    assert "Agent Desktop" in refusal.reason, refusal.start_line
    task = connected_task(agent)
    assert task["status"] == "connected" and task["customer"]["state"] == "connected", task
    assert [p["agentId"] for p in task["participants"]] == ["agent1"], task
    assert agent.history(task["id"]) == ["arrived", "offered", "accepted"]

    customer.cue()  # the call went on: hanging up still reaches the phone
    customer.succeeded()
    assert first(phone.succeeded(), "received", start="BYE")


def test_choosing_the_phone_station_before_the_phone_registers_is_409_phone_not_registered(server, peers):
    agent = User(server, "agent1")
    refused = agent.station("phone")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "phoneNotRegistered", refused.text
    assert agent.me()["station"] == "desktop"

    peers.register_phone("agent1")
    chosen = agent.station("phone")
    assert chosen.status_code == 200 and chosen.json()["station"] == "phone", chosen.text
