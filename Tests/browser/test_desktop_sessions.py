"""Sign-in, sign-out and sessions at the desktop (docs/sessions.md): Sign out ends the session and
takes the agent out of the center, and is refused in words while the agent owes a call; a session
that ends otherwise (it ran out, a supervisor signed the agent out) brings the sign-in form back
saying why, whether the stream told the desktop or a refused request did; a supervisor sets an
agent idle (the agent's desktop says who did it), signs agents out, sees who is signed in and each
agent's history; a desktop closed while Available leaves the agent idle as Desktop disconnected;
and the desktop runs under the server's Content-Security-Policy."""
import pytest
import requests
from selenium.webdriver.support.ui import Select

from netcut import CuttableProxy
from test_desktop_resilience import RestUser, rest_login, take_a_call

SIGNED_OUT = "You have signed out."
SESSION_ENDED = "Your session has ended. Sign in again."
BY_SUPERVISOR = "You were signed out by Supervisor 1."

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def agent_state(server, agent):
    """The agent's state as the center says it (GET /v1/agents, by a supervisor)."""
    agents = requests.get(f"{server.url}/v1/agents", headers=rest_login(server, "supervisor1")).json()
    return next(entry for entry in agents if entry["id"] == agent)


def refusal(server, token):
    """What the server says to a request with `token`: (status, error code)."""
    answer = requests.get(f"{server.url}/v1/me", headers={"Authorization": f"Bearer {token}"})
    code = answer.json().get("error", {}).get("code") if answer.status_code != 200 else None
    return answer.status_code, code


def test_an_agent_who_signs_out_leaves_the_center_and_the_sign_in_form_says_so(server, browsers):
    agent1 = browsers("agent1")
    agent1.become_available()
    token = agent1.token()
    agent1.sign_out()
    agent1.wait_signed_out(SIGNED_OUT)
    assert agent1.token() is None
    assert agent_state(server, "agent1")["state"] == "loggedOut"  # no call is offered to them now
    assert refusal(server, token) == (401, "signedOut")  # the token is gone, not just forgotten

    # Signing in again brings the agent back Idle, with Available on offer.
    agent1.sign_in("agent1")
    assert agent1.my_state() == "idle"
    assert agent1.find('[data-action="state/available"]').is_enabled()
    agent1.become_available()


def test_signing_out_of_one_of_two_desktops_keeps_the_agent_in_the_center(server, browsers):
    first = browsers("agent1")
    second = browsers.tab(first, "agent1")
    second.become_available()
    first.sign_out()
    first.wait(lambda d: (first.login_notice() or "").startswith(SIGNED_OUT), "the sign-in form after signing out")
    assert "other open desktops" in first.login_notice()
    assert agent_state(server, "agent1")["state"] == "available"
    second.here()
    assert second.my_state() == "available"
    assert second.find("#connection").get_attribute("data-connection") == "live"


def test_signing_out_during_a_call_or_before_its_wrap_up_is_refused_in_words_and_the_agent_stays(server, browsers):
    agent1 = browsers("agent1")
    task = take_a_call(agent1)
    token = agent1.token()

    agent1.sign_out()
    agent1.wait(lambda d: "callInProgress" in agent1.sign_out_error(), "the refusal beside the page's top")
    assert agent1.sign_out_error().startswith("You are still signed in: ")
    assert agent1.find("#sign-out-error").get_attribute("role") == "alert"
    assert agent1.token() == token and agent1.find("#agent-view").is_displayed()
    assert agent1.status(task) == "connected"
    assert refusal(server, token) == (200, None)

    agent1.press("end")
    agent1.wait_wrapup_dialog(True)
    agent1.sign_out()
    agent1.wait(lambda d: "wrapUpOwed" in agent1.sign_out_error(), "the wrap-up refusal")
    assert agent1.wrapup_dialog_open()

    agent1.wrap_up("resolved")
    agent1.wait(lambda d: agent1.sign_out_error() == "", "the refusal to go once nothing is owed")
    agent1.sign_out()
    agent1.wait_signed_out(SIGNED_OUT)
    assert agent_state(server, "agent1")["state"] == "loggedOut"


def advance(server, seconds):
    """Moves a test-clock server's time on (`serve --test-clock`) a second at a time, as its
    session sweeps would see it; what fell due has run when this returns."""
    supervisor = rest_login(server, "supervisor1")  # a new session each time: it never runs out here
    for _ in range(seconds):
        answer = requests.post(f"{server.url}/v1/test/clock", json={"milliseconds": 1_000}, headers=supervisor)
        assert answer.status_code == 200, answer.text


@pytest.mark.serve("--test-clock", "--session-max-seconds", "4")
def test_a_session_past_its_maximum_age_brings_the_open_desktop_back_to_sign_in(server, browsers):
    agent1 = browsers("agent1")
    agent1.wait_live()
    token = agent1.token()
    advance(server, 3)
    assert refusal(server, token) == (200, None)  # not yet: the maximum age is 4 s
    advance(server, 1)
    # The stream tells the open desktop (sessionEnded) as the server sweeps the session away.
    agent1.wait_signed_out(SESSION_ENDED)
    assert agent1.token() is None
    assert refusal(server, token) == (401, "sessionExpired")
    # It was the agent's last session, and they were Idle: they left the center with it.
    assert agent_state(server, "agent1")["state"] == "loggedOut"


@pytest.mark.serve("--test-clock", "--session-max-seconds", "4")
def test_a_desktop_that_missed_the_end_of_its_session_learns_it_when_it_reconnects(server, browsers):
    proxy = CuttableProxy(server.url)
    try:
        agent1 = browsers("agent1", url=proxy.url)
        agent1.wait_live()
        token = agent1.token()
        proxy.cut()  # the sessionEnded message cannot reach the desktop
        agent1.wait(lambda d: agent1.find("#connection").get_attribute("data-connection") == "offline", "offline")
        advance(server, 4)
        assert refusal(server, token) == (401, "sessionExpired")
        proxy.restore()
        # The stream's reconnect is refused; asking who we are (GET /v1/me) tells why.
        agent1.wait_signed_out(SESSION_ENDED, timeout=30)
    finally:
        proxy.close()


def test_an_agent_signed_out_by_a_supervisor_is_told_who_did_it(server, browsers):
    agent1 = browsers("agent1")
    second = browsers.tab(agent1, "agent1")  # every session of the agent ends
    token = agent1.token()
    supervisor = RestUser(server, "supervisor1")
    supervisor.send("POST", "/v1/agents/agent1/logout")
    for page in (agent1, second):
        page.wait_signed_out(BY_SUPERVISOR)
    assert refusal(server, token) == (401, "signedOutBySupervisor")
    assert agent_state(server, "agent1")["state"] == "loggedOut"


def test_a_desktop_that_missed_the_supervisors_sign_out_learns_who_did_it_when_it_reconnects(server, browsers):
    proxy = CuttableProxy(server.url)
    try:
        agent1 = browsers("agent1", url=proxy.url)
        proxy.cut()  # the sessionEnded message (with the supervisor's name) cannot reach the desktop
        agent1.wait(lambda d: agent1.find("#connection").get_attribute("data-connection") == "offline", "offline")
        RestUser(server, "supervisor1").send("POST", "/v1/agents/agent1/logout")
        proxy.restore()
        # The reconnect is refused; GET /v1/me answers 401 signedOutBySupervisor, its message naming them.
        agent1.wait_signed_out(BY_SUPERVISOR, timeout=30)
    finally:
        proxy.close()


def test_a_token_the_server_never_issued_sends_the_desktop_back_to_sign_in(browsers):
    page = browsers()
    page.js("sessionStorage.setItem('switchboard.session', JSON.stringify({token: 'f00d', user: 'agent1', role: 'agent'}))")
    page.driver.refresh()
    page.wait_signed_out("Your session has ended (the server may have restarted). Please sign in again.")
    assert page.token() is None


def test_a_supervisor_sets_an_agent_idle_and_the_agents_desktop_says_who_and_why(server, browsers):
    supervisor = browsers("supervisor1")
    agent2 = browsers("agent2")
    agent2.become_available()
    supervisor.wait_agent_row("agent2", "agent2 Available and signed in", state="available", signedIn=True, desktops=1)
    supervisor.wait_agent_row("agent3", "agent3 not signed in", state="loggedOut", signedIn=False)
    assert not supervisor.agent_control("agent3", "set-idle").is_enabled()

    picker = supervisor.agent_control("agent2", "idle-code")
    assert picker.get_attribute("aria-label") == "Idle reason for Agent 2"
    Select(picker).select_by_value("break")
    button = supervisor.agent_control("agent2", "set-idle")
    assert button.get_attribute("aria-label") == "Set idle: Agent 2"
    button.click()
    supervisor.wait_agent_row("agent2", "agent2 Idle · Break", state="idle", text="Idle · Break")
    agent2.wait(lambda d: agent2.desk_notice() == "Supervisor 1 set you to Idle (Break).", "the supervisor's notice")
    agent2.wait(lambda d: agent2.my_state() == "idle" and "Break" in agent2.find("#my-state").text, "Idle · Break")
    announced = lambda: agent2.find("#announcer").get_attribute("textContent")  # noqa: E731
    agent2.wait(lambda d: announced() == "Supervisor 1 set you to Idle (Break).", "the announcement")
    # The agent choosing their state again puts the notice away.
    agent2.become_available()
    agent2.wait(lambda d: agent2.desk_notice() is None, "the notice to go")

    # On a call, the supervisor's Idle waits for the call's end.
    task = take_a_call(agent2, "+15550161")
    Select(picker).select_by_value("lunch")
    button.click()
    agent2.wait(lambda d: agent2.desk_notice() == "Supervisor 1 set you to Idle (Lunch).", "the notice during the call")
    agent2.wait(lambda d: "Lunch" in agent2.find("#pending-idle").text, "Idle (Lunch) after the call")
    supervisor.wait_agent_row("agent2", "the pending idle", state="engaged", text="after the call")
    agent2.press("end", task)
    agent2.wrap_up("resolved")
    agent2.wait(lambda d: agent2.my_state() == "idle" and "Lunch" in agent2.find("#my-state").text, "Idle · Lunch")

    history = supervisor.agent_control("agent2", "history")
    assert history.get_attribute("aria-expanded") == "false" and history.get_attribute("aria-label") == "History: Agent 2"
    history.click()
    shown = supervisor.wait(lambda d: (h := supervisor.agent_history("agent2")) and h["state"] == "ready" and h, "the history")
    assert history.get_attribute("aria-expanded") == "true" and history.get_attribute("aria-label") == "Hide history: Agent 2"
    actions = [entry["action"] for entry in shown["entries"]]
    assert actions.count("setIdleBySupervisor") == 2 and "signedIn" in actions, actions
    assert actions.index("setIdleBySupervisor") < actions.index("signedIn"), "newest first"
    set_idle = shown["entries"][actions.index("setIdleBySupervisor")]
    assert "Set idle by a supervisor" in set_idle["text"] and "by Supervisor 1" in set_idle["text"], set_idle
    times = [entry["at"] for entry in shown["entries"]]
    assert times == sorted(times, reverse=True)


def test_the_supervisor_sees_agents_sign_in_and_out_as_it_happens(server, browsers):
    supervisor = browsers("supervisor1")
    supervisor.wait_agent_row("agent1", "agent1 not signed in at first", state="loggedOut", signedIn=False)
    supervisor.wait(lambda d: supervisor.find("#sv-supervisors").text == "Supervisors signed in: Supervisor 1.",
                    "the supervisors signed in")
    # No timer asks who is signed in: the agent's own messages (signing in, signing out) do.
    agent1 = browsers("agent1")
    supervisor.wait_agent_row("agent1", "agent1 signed in", state="idle", signedIn=True, sessions=1)
    agent1.sign_out()
    agent1.wait_signed_out(SIGNED_OUT)
    supervisor.wait_agent_row("agent1", "agent1 signed out", state="loggedOut", signedIn=False, sessions=0)


def test_the_supervisors_sign_out_is_refused_during_a_call_and_then_ends_every_session_of_the_agent(server, browsers):
    supervisor = browsers("supervisor1")
    agent1 = browsers("agent1")
    supervisor.wait_agent_row("agent1", "agent1 in the center", state="idle")
    task = take_a_call(agent1)
    sign_out = supervisor.agent_control("agent1", "sign-out")
    assert sign_out.get_attribute("aria-label") == "Sign out: Agent 1"
    sign_out.click()
    supervisor.wait_agent_row("agent1", "the refusal in the row", error="callInProgress")
    assert supervisor.agent_row("agent1")["error"].startswith("Sign out failed: ")
    assert agent1.status(task) == "connected" and agent1.token() is not None

    agent1.press("end", task)
    agent1.wrap_up("sale")
    # The refusal explained a call that is over now: it goes with the state it met.
    supervisor.wait_agent_row("agent1", "the row's alert cleared", state="available")
    assert supervisor.agent_row("agent1")["error"] == ""
    sign_out.click()
    agent1.wait_signed_out(BY_SUPERVISOR)
    supervisor.wait_agent_row("agent1", "agent1 signed out", state="loggedOut", signedIn=False, text="Signed out")
    supervisor.agent_control("agent1", "history").click()
    shown = supervisor.wait(lambda d: (h := supervisor.agent_history("agent1")) and h["state"] == "ready"
                            and h["entries"] and h["entries"][0]["action"] == "signedOutBySupervisor" and h,
                            "the sign-out at the top of agent1's history")
    assert "by Supervisor 1" in shown["entries"][0]["text"]


@pytest.mark.serve("--desktop-grace-seconds", "1")
def test_a_desktop_closed_while_available_leaves_the_agent_idle_as_desktop_disconnected(server, browsers):
    supervisor = browsers("supervisor1")
    agent1 = browsers("agent1")
    agent1.become_available()
    supervisor.wait_agent_row("agent1", "agent1 Available", state="available")
    agent1.here()
    # The tab goes to another page; the browser may keep the desktop in its back-forward cache, but
    # its stream closes, so the server counts no desktop. The session stays.
    agent1.driver.get("about:blank")
    supervisor.wait(lambda d: (supervisor.agent_row("agent1") or {}).get("text", "").startswith("Idle · Desktop disconnected"),
                    "agent1 idle as Desktop disconnected", timeout=30)
    agent1.driver.back()  # the desktop comes back (from that cache, or loaded afresh), still signed in
    agent1.wait_live()
    agent1.wait(lambda d: agent1.my_state() == "idle" and agent1.find("#my-state").text == "Idle · Desktop disconnected",
                "the agent's own state in words")
    agent1.become_available()
    supervisor.wait_agent_row("agent1", "agent1 Available again", state="available", desktops=1)
    supervisor.agent_control("agent1", "history").click()
    supervisor.wait(lambda d: (h := supervisor.agent_history("agent1")) and h["state"] == "ready"
                    and any(entry["action"] == "desktopDisconnected" for entry in h["entries"]), "the history entry")


def test_the_desktop_runs_under_the_servers_content_security_policy(server, browsers):
    answer = requests.get(f"{server.url}/")
    assert answer.headers.get("Content-Security-Policy") == CSP
    for path in ("/", "/js/app.js", "/style.css", "/health"):
        headers = requests.get(f"{server.url}{path}").headers
        assert headers.get("Content-Security-Policy") == CSP, path
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        assert headers.get("Referrer-Policy") == "no-referrer", path
        assert headers.get("X-Frame-Options") == "DENY", path

    # The sign-in form, the agent's desktop (with a call and its wrap-up) and the supervisor's view
    # run without the browser refusing anything.
    supervisor = browsers("supervisor1")
    agent1 = browsers("agent1")
    take_a_call(agent1)
    agent1.press("end")
    agent1.wrap_up("resolved")
    supervisor.agent_control("agent1", "history").click()
    supervisor.wait(lambda d: (h := supervisor.agent_history("agent1")) and h["state"] == "ready", "the history")
    for page in (supervisor, agent1):
        refused = [entry["message"] for entry in page.console() if "Content Security Policy" in entry["message"]]
        assert not refused, f"{page.name}: {refused}"

    # The policy is in force: an inline style is refused (and the log tells it).
    agent1.js("document.body.setAttribute('style', 'outline: 1px solid red')")
    agent1.wait(lambda d: any("Content Security Policy" in entry["message"] for entry in agent1.console()),
                "the refusal of the inline style")
    agent1.driver.kept_console.clear()  # that refusal was this test's own doing
