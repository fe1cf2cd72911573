"""Calls that are over: the supervisor's Past interactions (filters by time, queue, agent and
wrap-up reason; each call's timeline) and the agent's My recent calls (their own calls only, a
few at a time with More). Calls are driven over the REST API; the server records a call's summary
a moment after its last wrap-up, so each test first waits for the server to list them."""
import datetime
import time
from urllib.parse import urlencode

import requests
from selenium.webdriver.support.ui import Select

from test_desktop_resilience import RestUser, take_a_call

SUPERVISOR_PANEL = "#sv-past"
AGENT_PANEL = "#recent-calls"


def finish_call(agent, queue, caller, code, hold=False):
    """A customer calls `queue`; `agent` (a RestUser, the only one Available) takes the call,
    holds and resumes the customer when `hold`, ends it, wraps it up with `code` and goes on a
    break (so the next call goes to whoever is made Available next). Returns the call's id."""
    agent.become("available")
    task = agent.place_call(queue, caller)  # offered at once to the only Available agent
    agent.command(task, "accept")
    if hold:
        agent.command(task, "hold")
        agent.command(task, "resume")
    agent.command(task, "end")
    agent.command(task, "wrapup", {"wrapUpCodeId": code})
    agent.become("idle", "break")
    return task


def listed(user, **query):
    """The ids GET /v1/interactions gives `user` (a RestUser), newest first."""
    return [entry["id"] for entry in user.send("GET", f"/v1/interactions?{urlencode({'limit': 200, **query})}")["interactions"]]


def wait_recorded(page, supervisor, tasks):
    """Waits until the server lists every one of `tasks` as a past interaction."""
    page.wait(lambda d: set(tasks) <= set(listed(supervisor)), f"the server to record {sorted(tasks)}")


def history(user, task):
    return [{"event": entry["event"], "at": entry["at"]} for entry in user.send("GET", f"/v1/tasks/{task}/history")]


def set_dates(page, first, last):
    """Types the custom range's first and last day (yyyy-mm-dd) as a date picker would."""
    page.js("""
        const [first, last] = arguments;
        document.querySelector('#sv-past-from').value = first;
        const to = document.querySelector('#sv-past-to');
        to.value = last;
        to.dispatchEvent(new Event('change', {bubbles: true}));""", first, last)


def test_a_supervisor_filters_past_interactions_by_agent_and_reason_and_reads_a_timeline_in_order(server, browsers):
    supervisor = browsers("supervisor1")
    rest = RestUser(server, "supervisor1")
    agent1, agent2 = RestUser(server, "agent1"), RestUser(server, "agent2")
    # Four calls, one after another: each agent makes a sale and resolves a call.
    sale1 = finish_call(agent1, "sales", "+15550201", "sale", hold=True)
    resolved2 = finish_call(agent2, "support", "+15550202", "resolved")
    resolved1 = finish_call(agent1, "support", "+15550203", "resolved")
    sale2 = finish_call(agent2, "sales", "+15550204", "sale")
    newest_first = [sale2, resolved1, resolved2, sale1]
    wait_recorded(supervisor, rest, newest_first)
    assert listed(rest) == newest_first

    Select(supervisor.find("#sv-past-range")).select_by_value("7d")
    supervisor.refresh_past(SUPERVISOR_PANEL)
    supervisor.wait_past_rows(SUPERVISOR_PANEL, newest_first, "the four calls, newest first")
    row = supervisor.find(f'#sv-past tr[data-interaction="{sale1}"]')
    for words in ("+15550201", "Sales", "Agent 1", "Sale made"):
        assert words in row.text, row.text
    assert supervisor.js("""
        const cell = document.querySelector(`#sv-past tr[data-interaction="${arguments[0]}"] li[data-agent]`);
        return [cell.dataset.agent, cell.dataset.wrapup];""", sale1) == ["agent1", "sale"]
    assert "4 past interactions" in supervisor.find("#sv-past-status").text

    # By agent, then by agent and reason, then by reason alone, then by queue as well.
    Select(supervisor.find("#sv-past-agent")).select_by_value("agent1")
    supervisor.wait_past_rows(SUPERVISOR_PANEL, [resolved1, sale1], "Agent 1's two calls")
    Select(supervisor.find("#sv-past-wrapup")).select_by_value("sale")
    supervisor.wait_past_rows(SUPERVISOR_PANEL, [sale1], "Agent 1's sale")
    Select(supervisor.find("#sv-past-agent")).select_by_value("")
    supervisor.wait_past_rows(SUPERVISOR_PANEL, [sale2, sale1], "both sales")
    Select(supervisor.find("#sv-past-queue")).select_by_value("support")
    supervisor.wait_past_rows(SUPERVISOR_PANEL, [], "no sale in Support")
    assert "No past interactions match" in supervisor.find("#sv-past-status").text
    Select(supervisor.find("#sv-past-queue")).select_by_value("")
    supervisor.wait_past_rows(SUPERVISOR_PANEL, [sale2, sale1], "both sales again")

    # Custom dates: whole days, the first to the last.
    today = datetime.date.today()
    Select(supervisor.find("#sv-past-range")).select_by_value("custom")
    set_dates(supervisor, str(today - datetime.timedelta(days=1)), str(today + datetime.timedelta(days=1)))
    supervisor.wait_past_rows(SUPERVISOR_PANEL, [sale2, sale1], "both sales between yesterday and tomorrow")
    set_dates(supervisor, str(today - datetime.timedelta(days=400)), str(today - datetime.timedelta(days=300)))
    supervisor.wait_past_rows(SUPERVISOR_PANEL, [], "nothing a year ago")
    set_dates(supervisor, str(today), str(today - datetime.timedelta(days=1)))
    supervisor.wait(lambda d: "first day is after the last" in supervisor.find("#sv-past-range-error").text,
                    "the reversed range refused in words")
    assert supervisor.past_rows(SUPERVISOR_PANEL) == []
    Select(supervisor.find("#sv-past-range")).select_by_value("7d")
    supervisor.wait_past_rows(SUPERVISOR_PANEL, [sale2, sale1], "both sales in the last 7 days")
    assert not supervisor.visible("#sv-past-range-error") and not supervisor.visible("#sv-past-from")

    # Agent 1's sale: its timeline, event by event as the server kept them, in order.
    timeline = supervisor.open_timeline(SUPERVISOR_PANEL, sale1)
    assert timeline["state"] == "ready", timeline
    assert timeline["events"] == history(rest, sale1)
    names = [entry["event"] for entry in timeline["events"]]
    assert names == ["arrived", "offered", "accepted", "customerHeld", "customerResumed", "endedByOwner", "wrapUpApplied"], names
    times = [entry["at"] for entry in timeline["events"]]
    assert times == sorted(times)
    assert "Customer put on hold" in timeline["text"] and "Wrap-up applied" in timeline["text"]
    button = supervisor.find(f'#sv-past tr[data-interaction="{sale1}"] [data-past="timeline"]')
    assert button.get_attribute("aria-expanded") == "true"
    assert supervisor.find(f'#{button.get_attribute("aria-controls")}').get_attribute("data-timeline") == sale1
    button.click()
    supervisor.wait(lambda d: supervisor.timeline(SUPERVISOR_PANEL, sale1) is None, "the timeline to close")
    assert button.get_attribute("aria-expanded") == "false"


def test_an_agent_sees_their_own_recent_calls_and_not_another_agents(server, browsers):
    page = browsers("agent1")
    page.wait(lambda d: page.find(AGENT_PANEL).get_attribute("data-state") == "ready", "My recent calls to load")
    assert "No finished calls yet" in page.find("#recent-status").text

    # A call taken, ended and wrapped up on the desktop comes into My recent calls by itself.
    mine = take_a_call(page, "+15550301")
    page.press("end")
    page.wrap_up("sale")
    page.wait_no_card(mine)
    page.wait_past_rows(AGENT_PANEL, [mine], "the finished call in My recent calls")
    item = page.find(f'#recent-list li[data-interaction="{mine}"]')
    for words in ("+15550301", "Sales", "Sale made"):
        assert words in item.text, item.text
    assert item.get_attribute("data-wrapup") == "sale"

    # Agent 2's call is not Agent 1's to see, even after a refresh.
    supervisor, agent1, agent2 = (RestUser(server, name) for name in ("supervisor1", "agent1", "agent2"))
    agent1.become("idle", "break")
    theirs = finish_call(agent2, "support", "+15550302", "resolved")
    wait_recorded(page, supervisor, [theirs])
    page.refresh_past(AGENT_PANEL)
    page.wait_past_rows(AGENT_PANEL, [mine], "only Agent 1's own call")
    assert "+15550302" not in page.find(AGENT_PANEL).text

    # Its timeline, as the server kept it.
    timeline = page.open_timeline(AGENT_PANEL, mine)
    assert timeline["state"] == "ready", timeline
    assert timeline["events"] == history(agent1, mine)
    assert [entry["event"] for entry in timeline["events"]] == ["arrived", "offered", "accepted", "endedByOwner", "wrapUpApplied"]

    # Five more calls: the latest five show, and More brings the first one back.
    more = [finish_call(agent1, "sales", f"+1555031{n}", "resolved") for n in range(5)]
    wait_recorded(page, supervisor, more)
    page.refresh_past(AGENT_PANEL)
    page.wait_past_rows(AGENT_PANEL, more[::-1], "the latest five calls")
    more_button = page.wait_visible('#recent-calls [data-past="more"]')
    more_button.click()
    page.wait_past_rows(AGENT_PANEL, more[::-1] + [mine], "all six after More")
    page.wait(lambda d: not page.visible('#recent-calls [data-past="more"]'), "More gone on the last page")


def interaction_id(milliseconds):
    """An id as the server makes them for a call arriving at `milliseconds`: "t", the time as 9
    base-32 digits, then 5 more (see InteractionID.make)."""
    digits = "0123456789abcdefghjkmnpqrstvwxyz"
    return "t" + "".join(digits[(milliseconds >> shift) & 31] for shift in range(40, -1, -5)) + "00000"


# Adds `arguments[0]` to every list of past interactions the page is given, as if the server
# still listed a call whose events retention has already removed.
LIST_ALSO = """
const [extra] = arguments;
const original = window.fetch;
window.fetch = async (input, init) => {
  const response = await original(input, init);
  if (!String(input).startsWith('/v1/interactions') || !response.ok) return response;
  const page = await response.json();
  page.interactions.unshift(extra);
  return new Response(JSON.stringify(page), {status: 200, headers: response.headers});
};
"""


def test_a_call_older_than_the_retention_shows_the_servers_words_instead_of_a_timeline(server, browsers):
    supervisor = browsers("supervisor1")
    arrived = int(time.time() * 1000) - 200 * 86_400_000  # kept 90 days by default
    old = interaction_id(arrived)
    answer = requests.get(f"{server.url}/v1/tasks/{old}/history", headers=RestUser(server, "supervisor1").headers)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "historyNotKept", answer.text
    message = answer.json()["error"]["message"]

    supervisor.js(LIST_ALSO, {"id": old, "queue": "sales", "customerNumber": "+15550401", "arrivedAt": arrived,
                              "endedAt": arrived + 60_000, "agents": [{"agentId": "agent3", "wrapUpCodeId": "callback"}]})
    supervisor.refresh_past(SUPERVISOR_PANEL)
    supervisor.wait_past_rows(SUPERVISOR_PANEL, [old], "the old call listed")
    assert "Callback promised" in supervisor.find(f'#sv-past tr[data-interaction="{old}"]').text
    timeline = supervisor.open_timeline(SUPERVISOR_PANEL, old)
    assert timeline["state"] == "notKept", timeline
    assert message in timeline["text"] and timeline["events"] == []
