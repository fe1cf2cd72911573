"""The participant table of the conference spec (shared/spec/initiate-a-conference.txt), walked
in three browsers at once: Agent 1 (agent1), Agent 2 (agent2) and a supervisor (supervisor1).
Each test is named after the row it checks and asserts what each of them sees: the controls (by
data-action), the participants' states, and the Wrap Up Reasons dialog."""
import pytest

OWNER_CONNECTED = {"hold", "consult", "transfer", "end"}
HOLD_CONTROLS = {"hold", "resume"}


@pytest.fixture
def trio(browsers):
    agent1, agent2, supervisor = browsers("agent1"), browsers("agent2"), browsers("supervisor1")
    return agent1, agent2, supervisor


def start_conference(agent1, agent2, supervisor):
    """Agent 1 takes a customer's call placed from the simulator panel, consults Agent 2 and
    clicks Conference. Checks each step on the way; returns the call's id."""
    agent1.become_available()
    agent1.sim_place_call("sales", "+15550100")
    card = agent1.wait_card(status="offered")
    task = card.get_attribute("data-task-id")
    assert "Incoming call" in card.text and "+15550100" in card.text
    assert agent1.find(f'.task-card[data-task-id="{task}"] .countdown').text  # the ring countdown runs
    agent1.wait_actions({"accept"})
    agent1.press("accept")
    agent1.wait_card(task, "connected")
    # A conference needs a consult first: no Conference control on a plain call.
    agent1.wait_actions(OWNER_CONNECTED)

    agent2.become_available()
    agent1.consult_agent("agent2")
    agent1.wait_party("customer", state="held")
    offer = agent2.wait_card(task, "consulting")
    assert "Consult request" in offer.text
    agent2.wait_actions({"consult/accept", "consult/end"})
    agent1.wait_actions({"consult/end"})  # Agent 2 has not answered yet
    agent2.press("consult/accept")
    agent2.wait_party("agent2", state="connected", role="consulted")
    agent1.wait_actions({"consult/end", "consult/conference", "consult/transfer"})

    agent1.press("consult/conference")
    for page in (agent1, agent2):
        page.wait_card(task, "conferenced")
    supervisor.wait(lambda d: supervisor.js(
        "return document.querySelector(`#sv-calls [data-task-id='${arguments[0]}']`)?.dataset.status", task) == "conferenced",
        "the supervisor to see the conference")
    return task


def test_customer_cannot_initiate_and_is_taken_off_hold_when_agent1_starts_the_conference(trio):
    agent1, agent2, supervisor = trio
    task = start_conference(agent1, agent2, supervisor)
    # The customer, held during the consult, is now connected with Agent 1 and Agent 2: every
    # view shows the same three parties talking.
    for page in (agent1, agent2, supervisor):
        page.wait_party("customer", state="connected", task=task)
        page.wait_party("agent1", state="connected", role="owner", task=task)
        page.wait_party("agent2", state="connected", role="conferenced", task=task)
    # The simulator panel offers the customer no conference control: only hanging up.
    assert {b.get_attribute("data-sim") for b in agent1.visible("#sim-panel [data-sim]")} == {
        "call", "customer-hangup", "agent-hangup"}


def test_nobody_sees_hold_during_a_conference_and_agent2_never_sees_end_conference(trio):
    agent1, agent2, supervisor = trio
    start_conference(agent1, agent2, supervisor)
    agent1.wait_actions({"conference/transfer", "conference/end"})
    agent2.wait_actions({"conference/exit"})
    for page in (agent1, agent2):
        assert not (page.actions() & HOLD_CONTROLS)
        assert not page.visible('[data-action="hold"]')
    assert not agent2.visible('[data-action="conference/end"]')
    assert not agent2.wrapup_dialog_open()
    assert not supervisor.visible("[data-action]:not([data-action='sign-out'])")  # supervisors watch, not control


def test_agent1_ends_the_conference_and_only_agent1_gets_the_wrap_up_reasons_dialog(trio):
    agent1, agent2, supervisor = trio
    task = start_conference(agent1, agent2, supervisor)
    agent1.press("conference/end")
    agent1.wait_wrapup_dialog(True)
    agent1.wait_actions({"wrapup"}, task)
    assert agent1.find("#wrapup-dialog").get_attribute("data-task-id") == task
    assert agent1.find("#wrapup-countdown").text  # the auto wrap-up countdown runs
    # Agent 2 is dropped from the call and never owes the wrap-up.
    agent2.wait_no_card(task)
    assert not agent2.wrapup_dialog_open()
    supervisor.wait_party("customer", state="left", task=task)
    supervisor.wait_party("agent2", state="left", task=task)

    agent1.wrap_up("resolved", notes="Conference ended")
    agent1.wait_no_card(task)
    assert not agent2.wrapup_dialog_open()
    # The supervisor's bar chart counts the reason applied today.
    supervisor.wait(lambda d: supervisor.js(
        "return document.querySelector('#chart-wrapups rect[data-code=resolved]')?.dataset.value") == "1",
        "the wrap-up chart to count one 'resolved'")
    supervisor.wait(lambda d: not supervisor.visible(f'#sv-calls [data-task-id="{task}"]'), "the call to leave the board")


def test_agent1_ends_the_conference_by_hanging_up_the_phone(trio):
    agent1, agent2, supervisor = trio
    task = start_conference(agent1, agent2, supervisor)
    agent1.sim_agent_hangs_up("agent1")
    agent1.wait_card(task, "ended")
    agent1.wait_wrapup_dialog(True)
    agent1.wait_party("customer", state="left")
    agent1.wait_party("agent2", state="left")
    agent2.wait_no_card(task)
    assert not agent2.wrapup_dialog_open()


def test_agent1_transfers_to_agent2_gets_the_wrap_up_dialog_and_agent2_carries_on_with_the_customer(trio):
    agent1, agent2, supervisor = trio
    task = start_conference(agent1, agent2, supervisor)
    agent1.press("conference/transfer")
    agent1.wait_wrapup_dialog(True)
    agent1.wait_actions({"wrapup"}, task)
    # Agent 2 accepted the hand-over at once (already on the call) and now owns it, alone with the customer.
    agent2.wait_card(task, "connected")
    agent2.wait_actions(OWNER_CONNECTED)
    agent2.wait_party("agent2", state="connected", role="owner")
    agent2.wait_party("customer", state="connected")
    agent2.wait_party("agent1", state="left")
    assert not agent2.wrapup_dialog_open()
    agent1.wrap_up("escalated")
    agent1.wait_no_card(task)
    agent2.wait_actions(OWNER_CONNECTED)  # Agent 1's wrap-up leaves Agent 2's call untouched


def test_agent2_exits_the_conference_and_the_call_continues_between_agent1_and_the_customer(trio):
    agent1, agent2, supervisor = trio
    task = start_conference(agent1, agent2, supervisor)
    agent2.press("conference/exit")
    agent2.wait_no_card(task)
    assert not agent2.wrapup_dialog_open()  # Agent 2 owes no wrap-up
    agent1.wait_card(task, "connected")
    agent1.wait_actions(OWNER_CONNECTED)  # hold is back once the conference is over
    agent1.wait_party("customer", state="connected")
    agent1.wait_party("agent2", state="left")
    assert not agent1.wrapup_dialog_open()
    supervisor.wait_party("agent2", state="left", task=task)


def test_when_the_customer_leaves_both_agents_continue_in_wrap_up_assist_without_hold_resume_or_consult(trio):
    agent1, agent2, supervisor = trio
    task = start_conference(agent1, agent2, supervisor)
    agent1.sim_customer_hangs_up(task)
    for page in (agent1, agent2):
        page.wait_card(task, "wrapUpAssist")
        page.wait_party("customer", state="left")
        assert "Customer left" in page.card(task).text
    # The interaction ended for the customer: Agent 1 owes the wrap-up (dialog) and may end the
    # call; Agent 2 may only exit. Neither can hold, resume or consult.
    agent1.wait_actions({"end", "wrapup"})
    agent2.wait_actions({"conference/exit"})
    agent1.wait_wrapup_dialog(True)
    assert not agent2.wrapup_dialog_open()
    for page in (agent1, agent2):
        assert not (page.actions() & {"hold", "resume", "consult"})
    # Applying it is over for everyone.
    agent1.wrap_up("callback")
    agent1.wait_no_card(task)
    agent2.wait_no_card(task)
    assert not agent2.wrapup_dialog_open()
