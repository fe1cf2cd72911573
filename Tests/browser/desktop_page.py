"""A page object for the Agent Desktop: what a test does and reads, in the page's own terms
(data-action, data-party, data-status, role=alert). Every wait is a WebDriverWait on the DOM."""
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

TIMEOUT = 10

# The controls a card shows, read in one script so the answer is one consistent moment.
VISIBLE_ACTIONS = """
const card = arguments[0] ? document.querySelector(`.task-card[data-task-id="${arguments[0]}"]`)
                          : document.querySelector('.task-card');
if (!card) return null;
return [...card.querySelectorAll('.controls [data-action]')]
  .filter((button) => !button.hidden && button.offsetParent !== null)
  .map((button) => button.dataset.action);
"""

PARTIES = """
const root = arguments[0] ? document.querySelector(`[data-task-id="${arguments[0]}"]`) : document.querySelector('.task-card');
if (!root) return null;
const rows = {};
for (const row of root.querySelectorAll('tr[data-party]')) {
  rows[row.dataset.party] = {state: row.dataset.state, role: row.dataset.role};
}
return rows;
"""

# When the customer's time on a call is counted from (a ticking clock), and what the cell reads.
CUSTOMER_CLOCK = """
const root = arguments[0] ? document.querySelector(`[data-task-id="${arguments[0]}"]`) : document.querySelector('.task-card');
const cell = root?.querySelector('tr[data-party="customer"] td.numeric');
if (!cell) return null;
const ticking = cell.querySelector('[data-elapsed-from]');
return {since: ticking ? Number(ticking.dataset.elapsedFrom) : null, text: cell.textContent};
"""

# The paths the page has fetched since it loaded (Resource Timing), in order.
FETCHED = """
return performance.getEntriesByType('resource')
  .filter((entry) => entry.initiatorType === 'fetch')
  .map((entry) => new URL(entry.name).pathname);
"""

# The past interactions a panel (#sv-past or #recent-calls) lists, top to bottom.
PAST_ROWS = """
return [...document.querySelectorAll(`${arguments[0]} [data-interaction]`)].map((row) => row.dataset.interaction);
"""

# A call's timeline in a panel, if open: its state (loading, ready, notKept, error), its events
# in the order shown (with their times), and its text.
TIMELINE = """
const panel = document.querySelector(`${arguments[0]} [data-timeline="${arguments[1]}"]`);
if (!panel || panel.closest('[hidden]')) return null;
return {
  state: panel.dataset.state ?? null,
  events: [...panel.querySelectorAll('li[data-event]')].map((entry) => ({event: entry.dataset.event, at: Number(entry.dataset.at)})),
  text: panel.textContent,
};
"""

# The agent's station as the Station control shows it ("Desktop" or "Phone"): null until the server
# has said it, and while a change is on its way (the control is disabled then).
STATION = """
const field = document.querySelector('#station-field');
const select = document.querySelector('#station');
if (!field || field.hidden || !select || select.disabled) return null;
return select.selectedOptions[0]?.textContent ?? null;
"""

# What a call card says in Accept's place when the offer rings the agent's phone (null: nothing).
PHONE_PROMPT = """
const card = arguments[0] ? document.querySelector(`.task-card[data-task-id="${arguments[0]}"]`)
                          : document.querySelector('.task-card');
const line = card?.querySelector('.controls [data-answer="phone"]');
return line && !line.hidden && line.offsetParent !== null ? line.textContent : null;
"""


# An agent's row in the supervisor's Agents table.
AGENT_ROW = """
const row = document.querySelector(`#sv-agents tr[data-agent="${arguments[0]}"]`);
if (!row) return null;
const signedIn = row.querySelector('[data-signed-in]');
return {
  state: row.dataset.state,
  text: row.querySelector('.state-badge').textContent + ' ' + row.querySelector('.pending-note').textContent,
  signedIn: {true: true, false: false}[signedIn.dataset.signedIn] ?? null,
  sessions: signedIn.dataset.sessions === undefined ? null : Number(signedIn.dataset.sessions),
  desktops: signedIn.dataset.desktops === undefined ? null : Number(signedIn.dataset.desktops),
  error: row.querySelector('[data-sv="error"]').textContent,
};
"""

# An agent's History panel in the supervisor's view, if open.
AGENT_HISTORY = """
const panel = document.querySelector(`#sv-agents [data-history="${arguments[0]}"]`);
if (!panel || panel.closest('[hidden]')) return null;
return {
  state: panel.dataset.state ?? null,
  entries: [...panel.querySelectorAll('li[data-audit]')].map((entry) => ({
    action: entry.dataset.audit, at: Number(entry.dataset.at), text: entry.textContent})),
};
"""


def duration(milliseconds):
    """As the desktop writes a duration: 65_000 → "1:05", 3_725_000 → "1:02:05"."""
    total = max(0, milliseconds // 1000)
    hours, minutes, seconds = total // 3600, total % 3600 // 60, total % 60
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class DesktopPage:
    def __init__(self, driver, url, name, window=None):
        self.driver = driver
        self.url = url
        self.name = name
        self.window = window or driver.current_window_handle

    def here(self):
        """Points the driver at this page's tab (several tabs can share one browser)."""
        if getattr(self.driver, "active_window", None) != self.window:
            self.driver.switch_to.window(self.window)
            self.driver.active_window = self.window

    def new_tab(self, name):
        """Another tab of the same browser, at the desktop's address (it signs in on its own)."""
        self.here()
        self.driver.switch_to.new_window("tab")
        self.driver.active_window = self.driver.current_window_handle
        page = DesktopPage(self.driver, self.url, name, window=self.driver.current_window_handle)
        page.open()
        return page

    # MARK: waiting and reading

    def wait(self, condition, message="", timeout=TIMEOUT):
        """Waits until condition(driver) is truthy; the message names what never happened."""
        def safe(driver):
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False
        self.here()
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(safe, f"{self.name}: {message}")

    def console(self):
        """Every entry of the browser's console log so far (the page's errors, refusals of its
        Content-Security-Policy). Reading the log empties it, so what was read is kept on the driver
        (shared by its tabs) and each call answers all of it."""
        kept = getattr(self.driver, "kept_console", None)
        if kept is None:
            kept = self.driver.kept_console = []
        kept += self.driver.get_log("browser")
        return list(kept)

    def js(self, script, *args):
        self.here()
        return self.driver.execute_script(script, *args)

    def find(self, css):
        self.here()
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def visible(self, css):
        self.here()
        return [element for element in self.driver.find_elements(By.CSS_SELECTOR, css) if element.is_displayed()]

    def wait_visible(self, css, message=None):
        return self.wait(lambda d: (self.visible(css) or [None])[0], message or f"{css} to show")

    # MARK: signing in and out

    def open(self):
        self.here()
        self.driver.get(self.url + "/")
        self.wait(lambda d: d.execute_script(
            "return !document.querySelector('#login-view').hidden || document.body.dataset.role !== undefined"),
            "the page to load")
        self.keep_fetch_log()

    def keep_fetch_log(self):
        """Room for every request of a long test in the page's Resource Timing log (see fetched)."""
        self.js("performance.setResourceTimingBufferSize(100000)")

    def sign_in(self, user, password="switchboard"):
        for field, text in (("#login-username", user), ("#login-password", password)):
            element = self.wait_visible(field)
            element.clear()
            element.send_keys(text)
        self.find("#login-submit").click()
        view = "#agent-view" if user.startswith("agent") else "#supervisor-view"
        self.wait_visible(view, f"{view} after signing in")
        self.wait_live()

    def token(self):
        """This tab's session token, as the desktop keeps it (None when signed out)."""
        return self.js("return JSON.parse(sessionStorage.getItem('switchboard.session') ?? 'null')?.token ?? null")

    def sign_out(self):
        """Clicks Sign out (the server may refuse it: see sign_out_error)."""
        self.wait(lambda d: self.find("#sign-out").is_enabled(), "Sign out to be ready")
        self.find("#sign-out").click()

    def login_notice(self):
        """What the sign-in form says above the fields, when it is shown (else None)."""
        return self.js("""
            const view = document.querySelector('#login-view');
            const notice = document.querySelector('#login-notice');
            return view.hidden || notice.hidden ? null : notice.textContent;
        """)

    def wait_signed_out(self, notice, timeout=TIMEOUT):
        """Waits for the sign-in form saying `notice` (after a reload: the page starts over)."""
        try:
            self.wait(lambda d: self.login_notice() == notice, f"the sign-in form saying {notice!r}", timeout=timeout)
        except Exception:
            raise AssertionError(f"{self.name}: the sign-in form says {self.login_notice()!r}, expected {notice!r}")

    def sign_out_error(self):
        return self.find("#sign-out-error").text

    def desk_notice(self):
        """The banner telling the agent what a supervisor did (None when none is shown)."""
        return self.js("""
            const banner = document.querySelector('#desk-notice');
            return banner.hidden ? null : document.querySelector('#desk-notice-text').textContent;
        """)

    def wait_live(self):
        self.wait(lambda d: self.find("#connection").get_attribute("data-connection") == "live", "the live stream")

    def reload(self):
        self.here()
        self.driver.refresh()
        self.keep_fetch_log()
        self.wait_live()

    # MARK: the agent's own state

    def become_available(self, then="available"):
        """Clicks Available; `then` is the state that follows ("reserved" when a call is waiting)."""
        self.find('[data-action="state/available"]').click()
        self.wait(lambda d: self.my_state() == then, then)

    def my_state(self):
        return self.find("#my-state").get_attribute("data-state")

    # MARK: the agent's station (where offers are answered)

    def station(self):
        """"Desktop" or "Phone" as the Station control shows it; None before it is known or while it changes."""
        return self.js(STATION)

    def wait_station(self, label, message=None):
        try:
            self.wait(lambda d: self.station() == label, message or f"the Station control to show {label}")
        except Exception:
            raise AssertionError(f"{self.name}: the Station control shows {self.station()!r}, expected {label!r}")

    def choose_station(self, label):
        """Picks "Desktop" or "Phone" in the Station control (the desktop sends it at once)."""
        select = self.wait_visible("#station", "the Station control")
        self.wait(lambda d: select.is_enabled(), "the Station control to be ready")
        Select(select).select_by_visible_text(label)

    def station_error(self):
        return self.find("#station-error").text

    def phone_prompt(self, task=None):
        """The "Answer on your phone" line a ringing offer shows instead of Accept, or None."""
        return self.js(PHONE_PROMPT, task)

    # MARK: calls

    def card(self, task=None):
        css = f'.task-card[data-task-id="{task}"]' if task else ".task-card"
        return self.find(css)

    def wait_card(self, task=None, status=None):
        def ready(driver):
            cards = self.visible(f'.task-card[data-task-id="{task}"]' if task else ".task-card")
            if not cards:
                return None
            return cards[0] if status is None or cards[0].get_attribute("data-status") == status else None
        return self.wait(ready, f"a call card{' ' + task if task else ''} with status {status}")

    def wait_no_card(self, task=None):
        css = f'.task-card[data-task-id="{task}"]' if task else ".task-card"
        self.wait(lambda d: not self.visible(css), f"no call card {task or ''}")

    def task_id(self):
        return self.wait_card().get_attribute("data-task-id")

    def status(self, task=None):
        return self.card(task).get_attribute("data-status")

    def actions(self, task=None):
        """The call controls shown on the call, as a set of data-action names (the recording's
        own controls apart: a sales call, recorded in the demo, has them too; `recording_actions`)."""
        shown = self.js(VISIBLE_ACTIONS, task)
        return None if shown is None else {name for name in shown if not name.startswith("recording/")}

    def recording_actions(self, task=None):
        """The recording's controls shown on the call (Pause, Resume)."""
        shown = self.js(VISIBLE_ACTIONS, task)
        return None if shown is None else {name for name in shown if name.startswith("recording/")}

    def recording_state(self, task=None):
        """The call card's recording indicator: 'on', 'paused', or 'off' (hidden)."""
        return self.js(
            "const c = document.querySelector(arguments[0] ? `.task-card[data-task-id='${arguments[0]}']` : '.task-card');"
            "const r = c?.querySelector('.recording-indicator'); return !r || r.hidden ? 'off' : r.dataset.recording;", task)

    def wait_actions(self, expected, task=None):
        expected = set(expected)
        try:
            self.wait(lambda d: self.actions(task) == expected, f"controls {sorted(expected)}")
        except Exception:
            raise AssertionError(f"{self.name} shows {sorted(self.actions(task) or [])}, expected {sorted(expected)}")

    def press(self, action, task=None):
        card = self.wait_card(task)
        button = self.wait(lambda d: next((b for b in card.find_elements(By.CSS_SELECTOR, f'[data-action="{action}"]')
                                           if b.is_displayed() and b.is_enabled()), None), f"the {action} control")
        button.click()

    def error_text(self, task=None):
        return self.card(task).find_element(By.CSS_SELECTOR, ".task-card > [role=alert]").text

    def parties(self, task=None):
        return self.js(PARTIES, task)

    def customer_clock(self, task=None):
        """{since, text}: since is the ms the customer's ticking clock counts from (None once they
        left, when text is their fixed time on the call)."""
        return self.js(CUSTOMER_CLOCK, task)

    def fetched(self, path=None):
        """The paths the page has fetched since it loaded, or how many times it fetched `path`."""
        paths = self.js(FETCHED)
        return paths if path is None else paths.count(path)

    def wait_party(self, party, state=None, role=None, task=None):
        def matches(driver):
            row = (self.parties(task) or {}).get(party)
            return row and (state is None or row["state"] == state) and (role is None or row["role"] == role)
        try:
            self.wait(matches, f"{party} {state or ''} {role or ''}")
        except Exception:
            raise AssertionError(f"{self.name} sees parties {self.parties(task)}; expected {party} {state} {role}")

    def consult_agent(self, agent):
        self.press("consult")
        picker = self.wait_visible(".task-card form.picker", "the destination picker")
        option = f'select[name="agent"] option[value="{agent}"]'
        # The picker lists every agent with their live state; only an Available one can be chosen.
        self.wait(lambda d: picker.find_element(By.CSS_SELECTOR, option).is_enabled(), f"{agent} to be choosable")
        Select(picker.find_element(By.CSS_SELECTOR, 'select[name="agent"]')).select_by_value(agent)
        picker.find_element(By.CSS_SELECTOR, '[data-picker="submit"]').click()
        self.wait(lambda d: not self.visible(".task-card form.picker"), "the picker to close after the consult")

    # MARK: the Wrap Up Reasons dialog

    def wrapup_dialog_open(self):
        return self.js("return document.querySelector('#wrapup-dialog').open")

    def wait_wrapup_dialog(self, open_=True):
        self.wait(lambda d: self.wrapup_dialog_open() == open_ and (not open_ or self.find("#wrapup-dialog").is_displayed()),
                  f"the Wrap Up Reasons dialog {'open' if open_ else 'closed'}")

    def wrap_up(self, code="resolved", notes=""):
        self.wait_wrapup_dialog(True)
        Select(self.find("#wrapup-code")).select_by_value(code)
        if notes:
            self.find("#wrapup-notes").send_keys(notes)
        self.find("#wrapup-submit").click()
        self.wait_wrapup_dialog(False)

    # MARK: past interactions (the supervisor's #sv-past, the agent's #recent-calls)

    def past_rows(self, panel):
        """The ids of the calls the panel lists, top (newest) to bottom."""
        return self.js(PAST_ROWS, panel)

    def wait_past_rows(self, panel, expected, message):
        """Waits until the panel has loaded and lists exactly `expected`, in that order."""
        expected = list(expected)
        try:
            self.wait(lambda d: self.find(panel).get_attribute("data-state") == "ready" and self.past_rows(panel) == expected,
                      message)
        except Exception:
            raise AssertionError(f"{self.name}: {panel} lists {self.past_rows(panel)}, expected {expected} ({message})")

    def refresh_past(self, panel):
        self.find(f'{panel} [data-past="refresh"]').click()

    def timeline(self, panel, task):
        return self.js(TIMELINE, panel, task)

    def open_timeline(self, panel, task):
        """Clicks the call's Timeline control; returns the timeline once it has loaded (or failed)."""
        button = self.wait_visible(f'{panel} [data-interaction="{task}"] [data-past="timeline"]')
        assert button.get_attribute("aria-expanded") == "false"
        button.click()
        return self.wait(lambda d: (shown := self.timeline(panel, task)) and shown["state"] != "loading" and shown,
                         f"the timeline of {task}")

    # MARK: the simulator panel

    def sim_place_call(self, queue="sales", caller="+15550100"):
        Select(self.wait_visible("#sim-queue")).select_by_value(queue)
        field = self.find("#sim-from")
        field.clear()
        field.send_keys(caller)
        self.find('[data-sim="call"]').click()
        self.wait(lambda d: "calling" in self.find("#sim-status").text, "the simulator to place the call")

    def sim_customer_hangs_up(self, task):
        self.wait(lambda d: self.find(f'#sim-task option[value="{task}"]'), "the call in the simulator's list")
        Select(self.find("#sim-task")).select_by_value(task)
        self.find('[data-sim="customer-hangup"]').click()
        self.wait(lambda d: "hung up" in self.find("#sim-status").text, "the customer to hang up")

    def sim_agent_hangs_up(self, agent):
        Select(self.wait_visible("#sim-agent")).select_by_value(agent)
        self.find('[data-sim="agent-hangup"]').click()
        self.wait(lambda d: "hung up" in self.find("#sim-status").text, f"{agent}'s phone to hang up")

    # MARK: the supervisor's agent rows

    def agent_row(self, agent):
        """An agent's row as the supervisor sees it: state, the state's words, whether they are
        signed in (True, False, or None before it is known), sessions and desktops, the row's alert."""
        return self.js(AGENT_ROW, agent)

    def wait_agent_row(self, agent, message, **expected):
        """Waits until the agent's row has every field in `expected` (text: a part of the state's words)."""
        def matches(driver):
            row = self.agent_row(agent)
            if not row:
                return False
            for key, value in expected.items():
                if key in ("text", "error"):
                    if value not in row[key]:
                        return False
                elif row[key] != value:
                    return False
            return True
        try:
            self.wait(matches, message)
        except Exception:
            raise AssertionError(f"{self.name}: {agent}'s row is {self.agent_row(agent)}, expected {expected} ({message})")

    def agent_control(self, agent, control):
        """A control in the agent's row: sign-out, idle-code, set-idle, history."""
        return self.find(f"#sv-agents tr[data-agent='{agent}'] [data-sv='{control}']")

    def agent_history(self, agent):
        """The agent's History as shown: its state (loading, ready, error) and entries, newest first."""
        return self.js(AGENT_HISTORY, agent)
