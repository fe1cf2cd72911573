"""A browser station that goes away: an available agent goes idle (`browserLost`); an agent on a
call keeps it for the grace period (--browser-grace-seconds), gets its sound back on a new session
POSTed in time, and otherwise has its leg hung up by the spec's rules (Agent 1 hanging up ends the
call)."""
import time

from conftest import (AGENT1_TONE, AGENT2_TONE, browser_agent, close_peer_connection, eventually, hears_exactly, on_a_call,
                      participant, sign_in, web_call_state)

RTP_PORTS = "21600-21799"


def idle_browser_lost(agent):
    me = agent.me()
    return me if me["state"] == "idle" and me.get("idleCodeId") == "browserLost" else None


def test_an_available_agent_whose_session_is_deleted_goes_idle_browserLost(start_server, peers):
    server = start_server()
    agent1 = browser_agent(server, peers, "agent1", AGENT1_TONE)
    agent1.available()
    agent1.close_browser()
    me = eventually(lambda: idle_browser_lost(agent1), "agent1 to go idle with browserLost")
    assert me["station"] == "browser", me
    assert agent1.webrtc_connected() is False
    # A supervisor sees it too.
    seen = next(a for a in sign_in(server, "supervisor1").call("GET", "/v1/agents").json() if a["id"] == "agent1")
    assert seen["state"] == "idle" and seen["idleCodeId"] == "browserLost", seen


def test_an_available_agent_whose_browser_stops_its_consent_checks_goes_idle_browserLost(start_server, peers):
    # aiortc checks consent every 4–6 s (RFC 7675), so a live browser outlives 10 s without a check
    # while a frozen one is lost 4–11 s after its freeze (10 s after its last check, give or take
    # the server's 1 s watchdog).
    server = start_server("--webrtc-consent-seconds", "10")
    agent1 = browser_agent(server, peers, "agent1", AGENT1_TONE)
    agent2 = browser_agent(server, peers, "agent2", AGENT2_TONE)
    agent1.available()
    agent2.available()
    frozen = time.monotonic()
    peers.freeze(agent1.browser)
    eventually(lambda: idle_browser_lost(agent1), "agent1's session to expire (no consent) and agent1 to go idle", timeout=20)
    assert time.monotonic() - frozen >= 3.5, "the session was lost before its consent could have run out"
    assert agent1.webrtc_connected() is False
    # agent2's browser, which kept checking, stays connected and available past any frozen one's end.
    while time.monotonic() < frozen + 12:
        assert agent2.webrtc_connected() is True, f"agent2's live session was lost {time.monotonic() - frozen:.1f} s in"
        time.sleep(0.5)
    assert agent2.me()["state"] == "available", agent2.me()


def test_an_agent_whose_browser_comes_back_within_the_grace_hears_the_customer_again(start_server, peers, rtp_sequence_start):
    server = start_server()
    # The first desktop's RTP starts at 30000, the reloaded one's at 28000 (a browser may start anywhere).
    rtp_sequence_start(30000)
    agent1, customer, task = on_a_call(server, peers)
    hears_exactly("connected", customer=(customer, {"agent1"}), agent1=(agent1.browser, {"customer"}))

    # The desktop reloads: its peer connection closes; the call is kept, the agent is silent.
    close_peer_connection(agent1.browser)
    eventually(lambda: not agent1.webrtc_connected(), "the server to see agent1's session end")
    assert agent1.me()["state"] == "engaged", agent1.me()
    seen = agent1.task(task)
    assert seen["status"] == "connected" and participant(seen, "agent1")["state"] == "connected", seen
    hears_exactly("agent1's browser away", customer=(customer, set()))

    # The reloaded desktop's new session takes the call's sound back.
    rtp_sequence_start(28000)
    agent1.open_browser(peers(AGENT1_TONE))
    assert agent1.task(task)["status"] == "connected"
    hears_exactly("agent1's browser back", customer=(customer, {"agent1"}), agent1=(agent1.browser, {"customer"}))
    assert web_call_state(server, customer.location) == "connected"


def test_an_agent_whose_browser_does_not_come_back_within_the_grace_has_its_leg_hung_up_and_the_call_ends(start_server, peers):
    server = start_server("--browser-grace-seconds", "2")
    agent1, customer, task = on_a_call(server, peers)
    gone = time.monotonic()  # before the DELETE: the grace starts no earlier
    agent1.close_browser()
    assert agent1.task(task)["status"] == "connected", "the call is kept during the grace"
    ended = agent1.wait_task(task, lambda t: t["status"] == "ended", "the call to end once the grace is over")
    assert time.monotonic() - gone >= 1.9, "the call ended before the grace was over"
    # Agent 1 hanging up ends the call: the customer is gone too, and Agent 1 wraps up.
    assert ended["customer"]["state"] == "left" and ended["wrapUpRequired"] is True, ended
    assert participant(ended, "agent1")["state"] == "left", ended
    assert agent1.me()["state"] == "wrapUp", agent1.me()
    eventually(lambda: web_call_state(server, customer.location) == "ended", "the customer's web call to end")
    eventually(lambda: customer.connection_state == "closed", "the customer's page to see its connection closed")
