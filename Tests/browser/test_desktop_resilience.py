"""The desktop stays true to the server: after a reload, across two tabs of one agent, through a
network loss (the agent's desktop and the supervisor's view, which has no poll to fall back on),
and when the server refuses a click (the refusal is shown in words)."""
import requests

from netcut import CuttableProxy
from test_desktop_conference import OWNER_CONNECTED, start_conference


def rest_login(server, user):
    """A second session of `user` speaking REST (another desktop of the same agent)."""
    answer = requests.post(f"{server.url}/v1/auth/login", json={"username": user, "password": "switchboard"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


class RestUser:
    """A user speaking only the REST API (an agent's phone and desktop elsewhere, say)."""

    def __init__(self, server, user):
        self.url = server.url
        self.name = user
        self.headers = rest_login(server, user)

    def send(self, method, path, body=None, expect=200):
        answer = requests.request(method, f"{self.url}{path}", json=body, headers=self.headers)
        assert answer.status_code == expect, f"{self.name} {method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def become(self, state, idle_code=None):
        body = {"state": state, "idleCodeId": idle_code} if idle_code else {"state": state}
        assert self.send("PUT", "/v1/me/state", body)["state"] == state

    def command(self, task, action, body=None):
        return self.send("POST", f"/v1/tasks/{task}/{action}", body)

    def place_call(self, queue, caller):
        return self.send("POST", "/v1/sim/calls", {"queueId": queue, "from": caller}, expect=201)["taskId"]


def take_a_call(agent, caller="+15550100"):
    """The agent becomes Available, a customer calls (simulator panel), the agent accepts."""
    agent.become_available()
    agent.sim_place_call("sales", caller)
    agent.wait_actions({"accept"})
    agent.press("accept")
    agent.wait_card(status="connected")
    agent.wait_actions(OWNER_CONNECTED)
    return agent.task_id()


def test_a_reload_mid_conference_brings_back_the_same_call_and_controls(browsers):
    agent1, agent2, supervisor = browsers("agent1"), browsers("agent2"), browsers("supervisor1")
    task = start_conference(agent1, agent2, supervisor)
    for page in (agent1, agent2, supervisor):
        page.reload()
    agent1.wait_card(task, "conferenced")
    agent2.wait_card(task, "conferenced")
    agent1.wait_actions({"conference/transfer", "conference/end"})
    agent2.wait_actions({"conference/exit"})
    for page in (agent1, agent2, supervisor):
        page.wait_party("customer", state="connected", task=task)
        page.wait_party("agent1", state="connected", role="owner", task=task)
        page.wait_party("agent2", state="connected", role="conferenced", task=task)
    assert not agent2.wrapup_dialog_open()

    # The reloaded pages still hear the stream: End Conference reaches both of them.
    agent1.press("conference/end")
    agent1.wait_wrapup_dialog(True)
    agent2.wait_no_card(task)
    # The owed wrap-up survives a reload too.
    agent1.reload()
    agent1.wait_card(task, "ended")
    agent1.wait_wrapup_dialog(True)
    agent1.wrap_up("resolved")
    agent1.wait_no_card(task)


def test_two_tabs_of_one_agent_stay_in_sync(browsers):
    first = browsers("agent1")
    second = browsers.tab(first, "agent1")  # a second tab, signed in on its own
    second.become_available()
    first.wait(lambda d: first.my_state() == "available", "the first tab to see Available")
    first.sim_place_call("sales", "+15550177")
    for tab in (first, second):
        tab.wait_actions({"accept"})

    second.press("accept")
    first.wait_actions(OWNER_CONNECTED)
    first.wait_party("customer", state="connected")
    first.press("hold")
    second.wait_actions({"resume", "consult", "transfer", "end"})
    second.wait_party("customer", state="held")
    second.press("end")
    for tab in (first, second):
        tab.wait_card(status="ended")
        tab.wait_wrapup_dialog(True)
    first.wrap_up("sale")
    second.wait_wrapup_dialog(False)
    second.wait_no_card()


def test_a_command_the_server_refuses_is_shown_in_words_next_to_its_control(browsers):
    agent1 = browsers("agent1")
    task = take_a_call(agent1)
    # Another desktop of Agent 1 holds the customer first. The request is synchronous and the
    # click follows in the same script, so this page cannot have heard the event in between:
    # its Hold is stale, and the server refuses it.
    agent1.js("""
        const [task] = arguments;
        const token = JSON.parse(sessionStorage.getItem('switchboard.session')).token;
        const request = new XMLHttpRequest();
        request.open('POST', `/v1/tasks/${task}/hold`, false);
        request.setRequestHeader('Authorization', `Bearer ${token}`);
        request.send();
        document.querySelector(`.task-card[data-task-id="${task}"] [data-action="hold"]`).click();
    """, task)
    agent1.wait(lambda d: "Hold failed" in agent1.error_text(task), "the refusal in the call's alert")
    text = agent1.error_text(task)
    assert "already on hold" in text and "alreadyHeld" in text, text
    # The alert sits right under the call controls that caused it.
    assert agent1.js("""
        const alert = document.querySelector(`.task-card[data-task-id="${arguments[0]}"] > [role=alert]`);
        return alert.previousElementSibling.classList.contains('controls');""", task)
    agent1.wait_actions({"resume", "consult", "transfer", "end"})  # and the controls caught up


def test_after_a_network_loss_the_desktop_reconnects_to_the_same_call_and_what_happened_meanwhile(server, browsers):
    proxy = CuttableProxy(server.url)
    try:
        agent1 = browsers("agent1", url=proxy.url)  # the page reaches the server only through the proxy
        task = take_a_call(agent1)
        proxy.cut()
        agent1.wait(lambda d: agent1.find("#connection").get_attribute("data-connection") == "offline",
                    "the page to notice the lost stream")
        # A click while the network is down fails in words, not silently.
        agent1.press("hold")
        agent1.wait(lambda d: "could not be reached" in agent1.error_text(task), "the network error in the alert")
        # Meanwhile Agent 1's other desktop holds the customer.
        other = rest_login(server, "agent1")
        assert requests.post(f"{server.url}/v1/tasks/{task}/hold", headers=other).status_code == 200
        proxy.restore()
        agent1.wait_live()
        agent1.wait_card(task, "held")
        agent1.wait_actions({"resume", "consult", "transfer", "end"})
        agent1.wait_party("customer", state="held")
        agent1.press("resume")
        agent1.wait_card(task, "connected")
    finally:
        proxy.close()


# What the supervisor's view shows, read in one script: each call's status and parties (with the
# time the customer's clock counts from), and each agent's state.
SUPERVISOR_BOARD = """
const calls = {};
for (const card of document.querySelectorAll('#sv-calls [data-task-id]')) {
  const parties = {};
  for (const row of card.querySelectorAll('tr[data-party]')) {
    parties[row.dataset.party] = {state: row.dataset.state, role: row.dataset.role};
  }
  const clock = card.querySelector('tr[data-party="customer"] [data-elapsed-from]');
  calls[card.dataset.taskId] = {status: card.dataset.status, parties,
                                arrived: clock ? Number(clock.dataset.elapsedFrom) : null};
}
const agents = {};
for (const row of document.querySelectorAll('#sv-agents tr[data-agent]')) agents[row.dataset.agent] = row.dataset.state;
return {calls, agents};
"""


def live_board(supervisor_rest):
    """What the supervisor's view must show, from the server itself: every open call (its status,
    the customer and each agent or number once, at their latest entry) and every agent's state."""
    calls = {}
    for task in supervisor_rest.send("GET", "/v1/tasks"):
        parties = {"customer": {"state": task["customer"]["state"], "role": "customer"}}
        for party in task["participants"]:
            parties[party.get("agentId") or party["number"]] = {"state": party["state"], "role": party["role"]}
        arrived = task["arrivedAt"] if task["customer"]["state"] != "left" else None
        calls[task["id"]] = {"status": task["status"], "parties": parties, "arrived": arrived}
    agents = {agent["id"]: agent["state"] for agent in supervisor_rest.send("GET", "/v1/agents")}
    return {"calls": calls, "agents": agents}


def wait_board(page, supervisor_rest, message):
    """Waits until the supervisor's view shows exactly the live board; returns that board."""
    expected = live_board(supervisor_rest)
    try:
        page.wait(lambda d: page.js(SUPERVISOR_BOARD) == expected, message)
    except Exception:
        raise AssertionError(f"{message}: the view shows {page.js(SUPERVISOR_BOARD)}, the server {expected}")
    return expected


def test_after_a_network_loss_the_supervisor_shows_exactly_the_live_calls_and_agents_without_polling(server, browsers):
    proxy = CuttableProxy(server.url)
    try:
        supervisor = browsers("supervisor1", url=proxy.url)  # the view reaches the server only through the proxy
        rest = RestUser(server, "supervisor1")
        agent1, agent2, agent3 = (RestUser(server, name) for name in ("agent1", "agent2", "agent3"))
        agent1.become("available")
        first = rest.place_call("sales", "+15550101")  # offered to agent1, the only one Available
        agent1.command(first, "accept")
        before = wait_board(supervisor, rest, "the board before the cut")
        assert before["calls"][first]["status"] == "connected" and before["agents"]["agent4"] == "loggedOut"

        # Calls and agents come from the stream alone: while the queues' figures are polled twice
        # more, the view does not ask for the calls or the agents again.
        supervisor.wait(lambda d: supervisor.fetched("/v1/tasks") >= 1, "the calls fetched once the stream was ready")
        tasks_fetched, agents_fetched = supervisor.fetched("/v1/tasks"), supervisor.fetched("/v1/agents")
        polls = supervisor.fetched("/v1/queues")
        supervisor.wait(lambda d: supervisor.fetched("/v1/queues") >= polls + 2, "two more polls of the queues")
        assert (supervisor.fetched("/v1/tasks"), supervisor.fetched("/v1/agents")) == (tasks_fetched, agents_fetched)

        proxy.cut()
        supervisor.wait(lambda d: supervisor.find("#connection").get_attribute("data-connection") == "offline",
                        "the view to notice the lost stream")
        # While the supervisor is cut off: the first call ends and is wrapped up (it leaves the
        # board); agent1 goes on a break; agent2 takes a new call; agent3 takes, ends and wraps up
        # a call the view never saw, then goes to lunch; a call waits in Support with nobody free;
        # and agent4 signs in.
        agent1.command(first, "end")
        agent1.command(first, "wrapup", {"wrapUpCodeId": "resolved"})
        agent1.become("idle", "break")
        agent2.become("available")
        second = rest.place_call("sales", "+15550102")
        assert agent2.command(second, "accept")["status"] == "connected"
        agent3.become("available")
        unseen = rest.place_call("support", "+15550103")
        agent3.command(unseen, "accept")
        agent3.command(unseen, "end")
        agent3.command(unseen, "wrapup", {"wrapUpCodeId": "sale"})
        agent3.become("idle", "lunch")
        waiting = rest.place_call("support", "+15550104")
        RestUser(server, "agent4")
        proxy.restore()

        supervisor.wait_live()
        after = wait_board(supervisor, rest, "exactly the live board after the network came back")
        assert set(after["calls"]) == {second, waiting}
        assert after["calls"][second]["status"] == "connected" and after["calls"][waiting]["status"] == "queued"
        assert after["agents"] == {"agent1": "idle", "agent2": "engaged", "agent3": "idle", "agent4": "idle"}
        # Caught up by the stream's replay and one fetch when it was ready again, not by a poll:
        # the queues' figures come twice more and the calls and agents are not asked for again.
        supervisor.wait(lambda d: (supervisor.fetched("/v1/tasks"), supervisor.fetched("/v1/agents"))
                        == (tasks_fetched + 1, agents_fetched + 1), "one fetch of the calls and agents on ready")
        polls = supervisor.fetched("/v1/queues")
        supervisor.wait(lambda d: supervisor.fetched("/v1/queues") >= polls + 2, "two more polls of the queues")
        assert (supervisor.fetched("/v1/tasks"), supervisor.fetched("/v1/agents")) == (tasks_fetched + 1, agents_fetched + 1)
        assert supervisor.js(SUPERVISOR_BOARD) == after
    finally:
        proxy.close()


def test_a_token_the_server_no_longer_knows_returns_to_sign_in_with_a_notice(browsers):
    # Tokens live in the server's memory: after a server restart a reloaded page holds a stale one.
    page = browsers("agent1")
    page.js("""
        const session = JSON.parse(sessionStorage.getItem('switchboard.session'));
        sessionStorage.setItem('switchboard.session', JSON.stringify({...session, token: 'stale'}));""")
    page.driver.refresh()
    page.wait_visible("#login-view", "the sign-in form")
    assert "sign in again" in page.wait_visible("#login-notice").text.lower()
    page.sign_in("agent1")
    assert page.my_state() == "idle"
