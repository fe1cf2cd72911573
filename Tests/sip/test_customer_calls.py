"""Customers' calls from the trusted trunk (loopback): a number's INVITE joins its queue and is
answered with the server's SDP; an unknown number or an offer without a common codec is refused."""
from conftest import eventually, first, sdp_media


def test_a_customer_invite_to_2000_is_answered_with_sdp_once_queued_and_a_bye_ends_the_task(peers, supervisor):
    customer = peers.customer("customer_calls_and_hangs_up", number="2000", caller="15550101")
    task = eventually(lambda: supervisor.task_from("15550101"), "the call to show as a task")
    assert task["queue"] == "sales" and task["status"] == "queued", task
    assert task["customer"]["state"] != "left", task

    answer = customer.wait_for("received", status=200, method="INVITE")
    customer.wait_for("sent", start="ACK")
    messages = customer.messages()
    received = [m.status for m in messages if m.direction == "received"]
    assert received.index(100) < received.index(200), f"100 Trying comes first: {received}"
    trying = first(messages, "received", status=100)
    assert trying.reason == "Trying", trying.start_line
    assert answer.header("Content-Type") == "application/sdp", answer.text
    address, port, payloads = sdp_media(answer.body)
    assert address == "127.0.0.1", answer.body
    assert 20000 <= port <= 29999, answer.body
    assert payloads[0] == 0, f"the answer keeps the offer's PCMU: {answer.body}"
    assert 18 not in payloads and 8 not in payloads, f"only what was offered: {answer.body}"

    customer.cue()  # hang up
    messages = customer.succeeded()
    assert first(messages, "received", status=200, method="BYE"), "the BYE is answered 200"
    eventually(lambda: supervisor.task(task["id"]) is None
               or supervisor.task(task["id"])["status"] == "ended", "the task to end")
    assert supervisor.history(task["id"])[-1] == "customerLeft"


def test_an_invite_to_an_unknown_number_is_404(peers, supervisor):
    customer = peers.customer("customer_calls_unknown_number", number="9999", caller="15550102")
    messages = customer.succeeded()
    refusal = first(messages, "received", status=404)
    assert refusal.header("To").count("tag=") == 1, refusal.text
    assert supervisor.tasks() == []


def test_an_sdp_offering_only_g729_is_488(peers, supervisor):
    customer = peers.customer("customer_offers_only_g729", number="2000", caller="15550103")
    messages = customer.succeeded()
    refusal = first(messages, "received", status=488)
    assert refusal.header("To").count("tag=") == 1, refusal.text
    assert supervisor.tasks() == []
