"""A customer's page reconnects its web call (after a network change, a reload): a new offer PUT
to the call's location is answered 200 with a new answer, and the call goes on with the new peer."""
import requests

from conftest import CUSTOMER2_TONE, eventually, hears_exactly, on_a_call, participant, web_call_state

RTP_PORTS = "22000-22199"


def test_a_new_offer_put_to_a_web_calls_location_reconnects_it_and_the_new_peer_hears_the_agent(
        start_server, peers, rtp_sequence_start):
    server = start_server()
    # The first page's RTP starts at 30000, the new page's at 28000 (a browser may start anywhere).
    rtp_sequence_start(30000)
    agent1, customer, task = on_a_call(server, peers)
    hears_exactly("connected", customer=(customer, {"agent1"}), agent1=(agent1.browser, {"customer"}))

    # The page's new peer connection offers to the same location.
    rtp_sequence_start(28000)
    reconnected = peers(CUSTOMER2_TONE)
    answer = requests.put(f"{server.url}{customer.location}", data=reconnected.offer().encode(),
                          headers={"Content-Type": "application/sdp"}, timeout=10)
    assert answer.status_code == 200, f"{answer.status_code} {answer.text}"
    assert answer.headers["Content-Type"].startswith("application/sdp") and answer.text.startswith("v=0"), answer.headers
    reconnected.answer(answer.text)
    reconnected.location = customer.location
    eventually(lambda: web_call_state(server, customer.location) == "connected", "the reconnected web call to connect")
    eventually(lambda: reconnected.connection_state == "connected", "the new peer to connect")

    # The same call, with the new peer as the customer; the old one hears nothing any more.
    seen = agent1.task(task)
    assert seen["status"] == "connected" and participant(seen, "agent1")["state"] == "connected", seen
    hears_exactly("reconnected", reconnected=(reconnected, {"agent1"}), agent1=(agent1.browser, {"customer2"}),
                  old_page=(customer, set()))

    # Hanging up from the reconnected page ends the call.
    assert requests.delete(f"{server.url}{customer.location}", timeout=10).status_code == 204
    agent1.wait_task(task, lambda t: t["status"] == "ended", "the call to end")
