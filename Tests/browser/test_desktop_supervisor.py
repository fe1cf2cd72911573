"""The supervisor's view, live: agents and their time in state, queues with waiting calls and the
longest wait, calls in progress with participants, and the two charts."""
import re

import pytest
import requests
import scripted_day

from desktop_page import duration
from test_desktop_resilience import rest_login


def agent_row(page, agent):
    return page.js("return document.querySelector(`#sv-agents tr[data-agent='${arguments[0]}']`)?.dataset.state", agent)


def queue_waiting(page, queue):
    return page.js("return document.querySelector(`#sv-queues tr[data-queue='${arguments[0]}']`)?.dataset.waiting", queue)


def chart_now(page, queue):
    return page.js("return document.querySelector(`#chart-waiting .legend-label[data-series='${arguments[0]}']`)?.dataset.value", queue)


def test_supervisor_sees_agents_queues_calls_and_the_waiting_chart_live(server, browsers):
    supervisor = browsers("supervisor1")
    supervisor.wait(lambda d: agent_row(supervisor, "agent1") == "loggedOut", "agent1 signed out at first")
    agent1 = browsers("agent1")
    supervisor.wait(lambda d: agent_row(supervisor, "agent1") == "idle", "agent1 Idle once signed in")
    time_in_state = supervisor.find("#sv-agents tr[data-agent='agent1'] td.numeric")
    supervisor.wait(lambda d: re.fullmatch(r"0:0\d", time_in_state.text), "agent1's time in state")

    # Nobody is Available: a call placed from the supervisor's simulator panel waits in Support.
    supervisor.sim_place_call("support", "+15550123")
    supervisor.wait(lambda d: queue_waiting(supervisor, "support") == "1", "one call waiting in Support")
    longest = supervisor.find("#sv-queues tr[data-queue='support'] td[data-figure='longestWait']")
    supervisor.wait(lambda d: re.fullmatch(r"0:\d\d", longest.text), "the longest wait")
    supervisor.wait(lambda d: chart_now(supervisor, "support") == "1", "the waiting chart to show the call")
    assert supervisor.js("return document.querySelectorAll('#chart-waiting path.series').length") == 2
    call = supervisor.wait_visible("#sv-calls [data-task-id]")
    task = call.get_attribute("data-task-id")
    supervisor.wait(lambda d: call.get_attribute("data-status") == "queued", "the queued call")

    agent1.become_available(then="reserved")  # the waiting call is offered at once
    agent1.wait_actions({"accept"})
    supervisor.wait(lambda d: agent_row(supervisor, "agent1") == "reserved", "agent1 reserved by the offer")
    supervisor.wait_party("agent1", state="ringing", role="owner", task=task)
    agent1.press("accept")
    supervisor.wait(lambda d: call.get_attribute("data-status") == "connected", "the call connected")
    supervisor.wait_party("customer", state="connected", task=task)
    supervisor.wait_party("agent1", state="connected", role="owner", task=task)
    supervisor.wait(lambda d: queue_waiting(supervisor, "support") == "0", "the queue emptied")
    supervisor.wait(lambda d: chart_now(supervisor, "support") == "0", "the chart back to zero")
    supervisor.wait(lambda d: agent_row(supervisor, "agent1") == "engaged", "agent1 on the call")
    # The customer's clock runs from the call's arrival, as the task itself says (arrivedAt).
    rest = rest_login(server, "supervisor1")
    arrived = requests.get(f"{server.url}/v1/tasks/{task}", headers=rest).json()["arrivedAt"]
    for page in (supervisor, agent1):
        assert page.customer_clock(task)["since"] == arrived, page.name

    # The supervisor's panel can hang up the customer of any call.
    supervisor.sim_customer_hangs_up(task)
    agent1.wait_card(task, "ended")
    agent1.wait_wrapup_dialog(True)
    supervisor.wait_party("customer", state="left", task=task)
    # Once the customer has left, their time on the call stops at customer.leftAt.
    snapshot = requests.get(f"{server.url}/v1/tasks/{task}", headers=rest).json()
    on_call = duration(snapshot["customer"]["leftAt"] - snapshot["arrivedAt"])
    for page in (supervisor, agent1):
        page.wait_party("customer", state="left", task=task)
        assert page.customer_clock(task) == {"since": None, "text": on_call}, page.name
        # Both come with the task: no page asks for a call's history to learn them.
        assert not [path for path in page.fetched() if path.endswith("/history")], page.name
    agent1.wrap_up("sale")
    supervisor.wait(lambda d: not supervisor.visible(f"#sv-calls [data-task-id='{task}']"), "the finished call to leave the board")
    supervisor.wait(lambda d: supervisor.js(
        "return document.querySelector('#chart-wrapups rect[data-code=sale]')?.dataset.value") == "1",
        "the wrap-up chart to count the sale")


def listeners_text(page, task):
    return page.js("return document.querySelector(`#sv-calls [data-task-id='${arguments[0]}'] [data-sv=listeners]`)?.textContent", task)


def listen_button(page, task, mode):
    return page.find(f"#sv-calls [data-task-id='{task}'] [data-sv='{mode}']")


def test_the_supervisor_monitors_then_barges_from_the_board_and_only_the_barge_shows_on_the_agents_desktop(server, browsers):
    supervisor = browsers("supervisor1")
    agent1 = browsers("agent1")
    agent1.become_available()
    supervisor.sim_place_call("support", "+15550131")
    agent1.wait_actions({"accept"})
    agent1.press("accept")
    task = agent1.task_id()
    supervisor.wait(lambda d: (listeners_text(supervisor, task) or "").startswith("Nobody"), "nobody listening yet")

    # No phone registered and no browser phone: the refusal says how to get one.
    listen_button(supervisor, task, "monitor").click()
    supervisor.wait(lambda d: "noStation" in supervisor.find(f"#sv-calls [data-task-id='{task}'] [data-sv=listen-error]").text,
                    "the refusal to listen with no station")
    # On the desktop station (no sound: the simulator's), monitoring starts at once.
    supervisor.find(f"#sv-calls [data-task-id='{task}'] select[data-sv=station] option[value=desktop]").click()
    listen_button(supervisor, task, "monitor").click()
    supervisor.wait(lambda d: "monitoring" in (listeners_text(supervisor, task) or ""), "the board to show the monitor")
    assert listen_button(supervisor, task, "monitor").get_attribute("aria-pressed") == "true"
    # The agent is not told of a monitor (the demo's monitoring.tellAgents is off).
    assert agent1.js("return document.querySelector('.supervisor-note')?.hidden") is True

    listen_button(supervisor, task, "barge").click()
    supervisor.wait(lambda d: "barged in" in (listeners_text(supervisor, task) or ""), "the board to show the barge")
    agent1.wait(lambda d: agent1.js("return document.querySelector('.supervisor-note')?.dataset.supervisor") == "barge",
                "the agent's desktop to show the barge")
    # Three talk now: the spec's conference rule takes Hold away.
    agent1.wait_actions({"end", "transfer"})

    listen_button(supervisor, task, "leave").click()
    supervisor.wait(lambda d: (listeners_text(supervisor, task) or "").startswith("Nobody"), "the supervisor gone")
    agent1.wait(lambda d: agent1.js("return document.querySelector('.supervisor-note')?.hidden") is True, "the note gone")
    agent1.wait_actions({"hold", "consult", "transfer", "end"})


def test_a_recorded_call_shows_its_recording_and_its_owner_pauses_and_resumes_it(server, browsers):
    agent1 = browsers("agent1")
    agent1.become_available()
    agent1.sim_place_call("sales", "+15550132")  # the demo records sales
    agent1.wait_actions({"accept"})
    task = agent1.task_id()
    assert agent1.recording_state(task) == "off", "ringing: not recorded yet"
    agent1.press("accept")
    agent1.wait(lambda d: agent1.recording_state(task) == "on", "the recording indicator")
    assert agent1.recording_actions(task) == {"recording/pause"}
    agent1.press("recording/pause")
    agent1.wait(lambda d: agent1.recording_state(task) == "paused", "the pause shown")
    assert agent1.recording_actions(task) == {"recording/resume"}
    agent1.press("recording/resume")
    agent1.wait(lambda d: agent1.recording_state(task) == "on", "recording again")
    agent1.press("end")
    agent1.wait(lambda d: agent1.recording_state(task) == "off", "the recording over with the call")


def queue_figure(page, queue, figure):
    return page.js(
        "return document.querySelector(`#sv-queues tr[data-queue='${arguments[0]}'] td[data-figure='${arguments[1]}']`)?.textContent",
        queue, figure)


@pytest.mark.serve("--test-clock", "--desktop-grace-seconds", "3600")
def test_the_queue_tiles_show_the_scripted_days_hand_worked_figures(server, browsers):
    """The scripted day (Tests/support/scripted_day.py) on the test clock: the tiles show exactly
    its figures: today's answered, abandoned (the short abandon apart) and service level, with
    the level's colour from the thresholds, and the agents of each queue by state."""
    supervisor = browsers("supervisor1")
    supervisor.wait(lambda d: queue_figure(supervisor, "support", "serviceLevel") == "—", "no service level before any call")
    scripted_day.play(server.url)
    expected = {
        # 3 answered, 2 abandoned (B hung up within 5 s: short, not counted); (2 + 1) / 5 met.
        "support": {"waiting": "0", "answered": "3", "abandoned": "2", "serviceLevel": "60 %"},
        "sales": {"waiting": "0", "answered": "1", "abandoned": "0", "serviceLevel": "100 %"},
    }
    # agent1 available, agent2 on a break, agent3 and agent4 never signed in: both queues are
    # served by the frontline team, so both tiles count them.
    staffing = {"available": "1", "onCalls": "0", "inWrapUp": "0", "idle": "1"}
    for queue, figures in expected.items():
        for figure, value in {**figures, **staffing}.items():
            supervisor.wait(lambda d: queue_figure(supervisor, queue, figure) == value, f"{queue} {figure} {value}")
    # 60 % is under the amber threshold (80 %) but not under the red one (60 %).
    level = "return document.querySelector(`#sv-queues tr[data-queue='${arguments[0]}']`).dataset.level"
    assert supervisor.js(level, "support") == "amber"
    assert supervisor.js(level, "sales") == "ok"


def test_the_reports_page_shows_todays_calls_per_interval_and_a_teams_agents_and_downloads_both_as_csv(server, browsers):
    supervisor = browsers("supervisor1")
    agent1 = browsers("agent1")
    agent1.become_available()
    supervisor.sim_place_call("sales", "+15550151")
    agent1.wait_actions({"accept"})
    agent1.press("accept")
    agent1.press("end")
    agent1.wrap_up("sale")
    supervisor.find("#rp-interval option[value=day]").click()
    supervisor.find("#rp-show").click()
    supervisor.wait(lambda d: supervisor.js("return document.querySelector('#reports').dataset.state") == "ready", "the report")
    row = "#rp-table tbody tr[data-queue='sales']"
    figure = lambda name: supervisor.js(f"return document.querySelector(\"{row} td[data-figure='{name}']\")?.textContent")
    assert (figure("offered"), figure("answered"), figure("abandoned")) == ("1", "1", "0")
    assert figure("serviceLevel") == "100 %"
    # The charts are drawn: one service-level bar, agent1's occupancy.
    assert supervisor.js("return document.querySelectorAll('#rp-chart-level rect.bar').length") == 1
    assert supervisor.js("return document.querySelectorAll('#rp-chart-occupancy rect.bar').length") >= 1
    # A range that ends before it starts is refused in words.
    supervisor.js("document.querySelector('#rp-to').value = '2000-01-01'")
    supervisor.find("#rp-show").click()
    supervisor.wait(lambda d: "ends before it starts" in supervisor.find("#rp-error").text, "the refusal")
    supervisor.js("document.querySelector('#rp-to').value = document.querySelector('#rp-from').value")

    # The agents over the range: agent1 answered the call; the team picked filters them.
    supervisor.find("#rp-team option[value=frontline]").click()
    supervisor.find("#rp-show").click()
    supervisor.wait(lambda d: supervisor.js("return document.querySelector('#reports').dataset.state") == "ready", "the report again")
    mine = "#rp-agents tbody tr[data-agent='agent1']"
    agent_figure = lambda name: supervisor.js(f"return document.querySelector(\"{mine} td[data-figure='{name}']\")?.textContent")
    supervisor.wait(lambda d: agent_figure("answered") == "1", "agent1 answered one call")
    assert agent_figure("occupancy").endswith("%"), agent_figure("occupancy")

    # Downloads: the page hands the browser the server's CSV (caught here as the Blob it makes).
    supervisor.js("window.caught = []; const make = URL.createObjectURL; URL.createObjectURL = (blob) => { window.caught.push(blob); return make(blob); };")
    for button, first_column in (("#rp-csv", "queueId"), ("#rp-csv-agents", "agentId")):
        supervisor.find(button).click()
        supervisor.wait(lambda d: supervisor.js("return window.caught.length") >= 1, f"the {button} download")
        text = supervisor.driver.execute_async_script("const done = arguments[0]; window.caught.shift().text().then(done);")
        header, *lines = text.strip().splitlines()
        assert header.split(",")[0] == first_column, text
        assert len(lines) >= 1, text
