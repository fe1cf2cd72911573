"""A web-call customer and browser agents, by ear: in each state of the call, who hears whom.

Every party is an aiortc browser: the customer calls 2000 (sales) from a web page; the agents'
desktops hold a WebRTC session with station `browser`. Each state is heard in a window that
starts once the API shows the state (see conftest.listen)."""
import requests

from conftest import (AGENT1_TONE, AGENT2_TONE, CUSTOMER_TONE, browser_agent, eventually, hears_exactly, on_a_call, participant,
                      sign_in, web_call, web_call_state)

RTP_PORTS = "21000-21199"


def test_a_web_call_is_queued_with_music_then_heard_both_ways_held_resumed_and_hung_up_by_the_customer(start_server, peers):
    server = start_server()
    agent1 = browser_agent(server, peers, "agent1", AGENT1_TONE)
    # Signed in (the queue is open) but not available: the customer waits in the queue.
    customer = web_call(server, peers(CUSTOMER_TONE))
    supervisor = sign_in(server, "supervisor1")
    queued = eventually(lambda: [t for t in supervisor.tasks() if t["status"] == "queued"], "the web call to be queued")
    assert len(queued) == 1 and queued[0]["queue"] == "sales", queued
    hears_exactly("queued", customer=(customer, {"music"}), agent1=(agent1.browser, set()))

    agent1.available()
    task = agent1.offered()["id"]
    agent1.command(task, "accept")
    agent1.wait_task(task, lambda t: t["status"] == "connected" and t["customer"]["state"] == "connected", "the call to connect")
    hears_exactly("connected", customer=(customer, {"agent1"}), agent1=(agent1.browser, {"customer"}))

    held = agent1.command(task, "hold")
    assert held["customer"]["state"] == "held", held
    hears_exactly("held", customer=(customer, {"music"}), agent1=(agent1.browser, set()))

    resumed = agent1.command(task, "resume")
    assert resumed["customer"]["state"] == "connected", resumed
    hears_exactly("resumed", customer=(customer, {"agent1"}), agent1=(agent1.browser, {"customer"}))

    # The customer hangs up from the page: the call ends, Agent 1 wraps up.
    assert requests.delete(f"{server.url}{customer.location}", timeout=10).status_code == 204
    ended = agent1.wait_task(task, lambda t: t["status"] == "ended", "the call to end when the customer hangs up")
    assert ended["wrapUpRequired"] is True and ended["allowedActions"] == ["wrapup"], ended
    assert web_call_state(server, customer.location) == "ended"
    assert agent1.me()["state"] == "wrapUp", agent1.me()
    hears_exactly("ended", agent1=(agent1.browser, set()))


def test_two_browser_agents_consult_conference_and_agent2_exits_each_hearing_whom_the_spec_says(start_server, peers):
    server = start_server()
    agent2 = browser_agent(server, peers, "agent2", AGENT2_TONE)
    agent1, customer, task = on_a_call(server, peers)

    # Consult: the customer is held (music); the agents hear each other only.
    agent2.available()
    consulting = agent1.command(task, "consult", {"destinationType": "agent", "to": "agent2"})
    assert consulting["status"] == "consulting" and consulting["customer"]["state"] == "held", consulting
    eventually(lambda: agent2.task(task) and participant(agent2.task(task), "agent2")["state"] == "ringing",
               "the consult to ring Agent 2")
    agent2.command(task, "consult/accept")
    agent1.wait_task(task, lambda t: participant(t, "agent2")["state"] == "connected", "Agent 2 to join the consult")
    hears_exactly("consult", customer=(customer, {"music"}), agent1=(agent1.browser, {"agent2"}),
                  agent2=(agent2.browser, {"agent1"}))

    # Conference: each hears the other two.
    merged = agent1.command(task, "consult/conference")
    assert merged["status"] == "conferenced" and merged["customer"]["state"] == "connected", merged
    hears_exactly("conference", customer=(customer, {"agent1", "agent2"}), agent1=(agent1.browser, {"customer", "agent2"}),
                  agent2=(agent2.browser, {"customer", "agent1"}))

    # Agent 2 exits: the customer and Agent 1 hear each other; Agent 2 hears nobody.
    agent2.command(task, "conference/exit")
    agent1.wait_task(task, lambda t: t["status"] == "connected" and participant(t, "agent2")["state"] != "connected",
                     "the call to be back to Agent 1 and the customer")
    hears_exactly("agent2 exited", customer=(customer, {"agent1"}), agent1=(agent1.browser, {"customer"}),
                  agent2=(agent2.browser, set()))
