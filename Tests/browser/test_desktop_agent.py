"""The agent's desktop outside the conference table: signing in and out, the agent's state with
its running timer, the ring countdown, keyboard shortcuts, and the destination picker."""
import re

import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from test_desktop_resilience import rest_login, take_a_call


def shortcut(page, letter):
    """Presses Alt+Shift+letter in the page."""
    page.here()
    ActionChains(page.driver).key_down(Keys.ALT).key_down(Keys.SHIFT).send_keys(letter) \
        .key_up(Keys.SHIFT).key_up(Keys.ALT).perform()


def test_sign_in_refuses_a_wrong_password_in_words_and_sign_out_forgets_the_token(browsers):
    page = browsers()
    page.wait_visible("#login-username").send_keys("agent1")
    page.find("#login-password").send_keys("wrong")
    page.find("#login-submit").click()
    page.wait(lambda d: "Sign in failed" in page.find("#login-error").text, "the refusal")
    assert "wrong password" in page.find("#login-error").text
    assert page.find("#login-error").get_attribute("role") == "alert"

    page.find("#login-username").clear()
    page.sign_in("agent1")
    assert "Agent 1" in page.find("#who").text
    page.reload()  # the token is kept for this tab: still signed in
    page.wait_visible("#agent-view")
    page.find("#sign-out").click()
    page.wait_visible("#login-view", "the sign-in form after signing out")
    page.driver.refresh()
    page.wait_visible("#login-view", "the sign-in form after a reload (the token is forgotten)")
    assert page.js("return sessionStorage.getItem('switchboard.session')") is None


def test_agent_state_is_available_or_idle_with_a_reason_and_its_timer_runs(browsers):
    page = browsers("agent1")
    assert page.my_state() == "idle"  # agents start Idle after signing in
    assert "Idle" in page.find("#my-state").text
    timer = page.find("#my-state-time")
    page.wait(lambda d: re.fullmatch(r"0:0[1-9]", timer.text), "the time in state to tick")

    page.become_available()
    assert page.find('[data-action="state/available"]').get_attribute("disabled") is not None
    Select(page.find("#idle-code")).select_by_value("lunch")
    page.find('[data-action="state/idle"]').click()
    page.wait(lambda d: page.my_state() == "idle" and "Lunch" in page.find("#my-state").text, "Idle · Lunch")
    assert re.fullmatch(r"0:0\d", timer.text)  # the timer restarted with the new state


def test_an_offer_counts_down_to_ring_no_answer_and_the_main_controls_have_keyboard_shortcuts(browsers):
    page = browsers("agent1")
    page.become_available()
    page.sim_place_call("support", "+15550142")
    card = page.wait_card(status="offered")
    assert "+15550142" in card.text and "Support" in card.text
    countdown = card.find_element(By.CSS_SELECTOR, ".countdown")
    page.wait(lambda d: re.fullmatch(r"0:(1\d|20)", countdown.text), "the ring countdown from the deadline")
    accept = card.find_element(By.CSS_SELECTOR, '[data-action="accept"]')
    assert accept.get_attribute("aria-keyshortcuts") == "Alt+Shift+A"
    assert "Alt+Shift+A" in accept.get_attribute("title") and accept.get_attribute("aria-label").startswith("Accept")

    shortcut(page, "a")
    page.wait_card(status="connected")
    shortcut(page, "h")
    page.wait_card(status="held")
    page.wait_party("customer", state="held")
    shortcut(page, "r")
    page.wait_card(status="connected")

    # Going Idle during a call waits for the call to end.
    Select(page.find("#idle-code")).select_by_value("training")
    page.find('[data-action="state/idle"]').click()
    page.wait(lambda d: "Training" in page.find("#pending-idle").text, "the pending idle reason")

    shortcut(page, "e")
    page.wait_card(status="ended")
    page.wait_wrapup_dialog(True)
    page.wrap_up("resolved")
    page.wait(lambda d: page.my_state() == "idle" and "Training" in page.find("#my-state").text, "Idle · Training after the call")
    assert not page.find("#pending-idle").is_displayed()
    listed = page.find("#shortcut-list").get_attribute("textContent")
    for keys in ("Alt+Shift+A", "Alt+Shift+H", "Alt+Shift+C", "Alt+Shift+F", "Alt+Shift+T", "Alt+Shift+E", "Alt+Shift+X", "Alt+Shift+W"):
        assert keys in listed


def test_the_consult_picker_shows_agents_live_state_and_can_conference_a_dialled_number(server, browsers):
    page = browsers("agent1")
    task = take_a_call(page)
    page.press("consult")
    picker = page.wait_visible(".task-card form.picker")
    # The list is rebuilt every 2 s, so the option is looked up afresh each time.
    option = lambda: picker.find_element(By.CSS_SELECTOR, 'select[name="agent"] option[value="agent2"]')  # noqa: E731
    page.wait(lambda d: "Signed out" in option().text, "agent2 listed as signed out")
    assert not option().is_enabled()  # only an Available agent can be consulted
    assert not picker.find_elements(By.CSS_SELECTOR, 'option[value="agent1"]')  # not oneself

    # Agent 2 becomes Available elsewhere: the open picker follows.
    agent2 = rest_login(server, "agent2")
    assert requests.put(f"{server.url}/v1/me/state", json={"state": "available"}, headers=agent2).status_code == 200
    page.wait(lambda d: option().is_enabled() and "Available" in option().text, "agent2 to become choosable")

    # A malformed number is refused in words beside the picker.
    picker.find_element(By.CSS_SELECTOR, 'input[name="number"]').send_keys("call me")
    picker.find_element(By.CSS_SELECTOR, '[data-picker="submit"]').click()
    alert = picker.find_element(By.CSS_SELECTOR, "[role=alert]")
    page.wait(lambda d: "Consult failed" in alert.text, "the picker's error")
    assert "not a dial number" in alert.text and "(invalidDialNumber)" in alert.text

    field = picker.find_element(By.CSS_SELECTOR, 'input[name="number"]')
    field.clear()
    field.send_keys("+15550199")
    picker.find_element(By.CSS_SELECTOR, '[data-picker="submit"]').click()
    page.wait_party("+15550199", state="connected", role="consulted")  # the simulator answers at once
    page.wait_party("customer", state="held")
    page.wait_actions({"consult/end", "consult/conference", "consult/transfer"})
    page.press("consult/conference")
    page.wait_card(task, "conferenced")
    page.wait_party("customer", state="connected")
    page.wait_party("+15550199", state="connected", role="conferenced")
    page.wait_actions({"conference/end"})  # nobody to hand the call to: the number is not an agent


def test_a_caller_without_a_number_is_shown_as_the_line_said_on_the_desktop_the_supervisor_view_and_past_calls(browsers):
    """A withheld caller (the simulator's caller left empty) and a SIP caller (an address): the
    agent's card, the supervisor's live view and, once wrapped up, the past interactions show
    "Withheld number" and the address, never "undefined" or an empty name."""
    agent, supervisor = browsers("agent1"), browsers("supervisor1")
    agent.become_available()
    agent.sim_place_call("sales", "")
    agent.wait_actions({"accept"})
    task = agent.task_id()
    agent.wait(lambda d: "Withheld number" in agent.card(task).text, "the card to say who called")
    assert "undefined" not in agent.card(task).text
    supervisor.wait(lambda d: "Withheld number" in supervisor.find(f'[data-task-id="{task}"]').text,
                    "the supervisor's live view to say who called")
    agent.press("accept")
    agent.wait_card(task, status="connected")
    agent.press("end")
    agent.wrap_up("resolved")
    agent.wait_no_card(task)

    agent.become_available()
    agent.sim_place_call("sales", "alice@example.com")
    agent.wait_actions({"accept"})
    second = agent.task_id()
    agent.wait(lambda d: "alice@example.com" in agent.card(second).text, "the SIP caller's address on the card")
    supervisor.refresh_past("#sv-past")
    supervisor.wait(lambda d: "Withheld number" in supervisor.find(f'#sv-past [data-interaction="{task}"]').text,
                    "the past interactions to say who called")
