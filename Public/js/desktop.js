// The agent's desktop: the agent's own state and station, one card per call (taskcard.js), the
// Wrap Up Reasons dialog (wrapup.js), My recent calls (past.js), and the browser's phone when it
// is the station (phonepanel.js, phone.js). Every control shown comes from the task's
// allowedActions; the page never decides on its own what is permitted.
import { ACTIONS, shortcutOf } from './actions.js';
import { api, describeError } from './api.js';
import { $, h, replaceChildren, setText } from './dom.js';
import { RecentCalls } from './past.js';
import { BrowserStation } from './phonepanel.js';
import { TaskCard, entryOf, ringsOnPhone } from './taskcard.js';
import { tick } from './time.js';
import { AGENT_STATE_WORDS, STATION_HINTS, STATION_WORDS, idleWords } from './words.js';
import { WrapUpDialog } from './wrapup.js';

/** Offers first (on the desktop or the phone), then calls the agent is on, then those only waiting for a wrap-up. */
function urgency(task, agentId) {
  if (task.allowedActions.includes('accept') || task.allowedActions.includes('consult/accept')) return 0;
  if (ringsOnPhone(task, entryOf(task, agentId))) return 0;
  return task.allowedActions.some((action) => action !== 'wrapup') ? 1 : 2;
}

export class AgentDesktop {
  constructor({ agentId, store, names, queueNames, idleCodes, wrapUpCodes, announce }) {
    this.agentId = agentId;
    this.store = store;
    this.names = names;
    this.queueNames = queueNames;
    this.idleCodes = idleCodes;
    this.announce = announce;
    this.cards = new Map();
    this.me = null;
    this.station = null; // where offers are answered, as the server last said
    this.stationBusy = false;
    this.list = $('#tasks');
    this.dialog = new WrapUpDialog(this, wrapUpCodes);
    this.recent = new RecentCalls({ agentId, store, names, queueNames, wrapUpCodes });
    this.browser = new BrowserStation({ agentId, announce });
    this.setUpStatePanel();
    this.setUpNotice();
    this.setUpStation();
    this.listShortcuts();
    store.addEventListener('change', () => this.render());
    document.addEventListener('keydown', (event) => this.shortcut(event));
    $('#agent-view').hidden = false;
    this.render();
  }

  // MARK: The agent's own state

  setUpStatePanel() {
    const select = $('#idle-code');
    replaceChildren(select, this.idleCodes.map((code) => h('option', { value: code.id }, code.name)));
    $('[data-action="state/available"]').addEventListener('click', () => this.changeState('available'));
    $('[data-action="state/idle"]').addEventListener('click', () => this.changeState('idle', select.value));
  }

  /** Takes GET /v1/me (or the answer to PUT /v1/me/state). */
  showMe(me) {
    if (!me || !me.state) return;
    // Answers and events race; a state that began earlier than the one shown is old news.
    if (this.me && me.since < this.me.since) return;
    this.me = me;
    const badge = $('#my-state');
    badge.dataset.state = me.state;
    const idleName = idleWords(this.idleCodes, me.idleCodeId);
    setText(badge, me.state === 'idle' && idleName ? `Idle · ${idleName}` : AGENT_STATE_WORDS[me.state] ?? me.state);
    $('#my-state-time').dataset.elapsedFrom = String(me.since);
    const pending = idleWords(this.idleCodes, me.pendingIdleCodeId);
    const pendingLine = $('#pending-idle');
    pendingLine.hidden = !pending;
    setText(pendingLine, pending ? `Idle (${pending}) once this call is over.` : '');
    $('[data-action="state/available"]').disabled = me.state === 'available';
    if (me.station) this.showStation(me.station);
    tick();
  }

  /** An "agent" stream message: ours, since agents only get their own. */
  onAgent(view) {
    if (view.id !== this.agentId) return;
    this.showMe({ id: view.id, role: 'agent', state: view.state, idleCodeId: view.idleCodeId, since: view.since,
      pendingIdleCodeId: view.pendingIdleCodeId, station: view.station });
  }

  // MARK: Notices: what a supervisor did to this agent

  setUpNotice() {
    $('#desk-notice-dismiss').addEventListener('click', () => this.clearNotice({ refocus: true }));
  }

  /**
   * A "notice" stream message. setIdleBySupervisor: a supervisor set this agent Idle (at once, or
   * once the call is over); a banner says who and why until the agent dismisses it or changes
   * their state, and the words are announced.
   */
  onNotice(message) {
    if (message.notice !== 'setIdleBySupervisor') return; // a newer server may say more
    const by = message.by || 'A supervisor';
    const reason = idleWords(this.idleCodes, message.idleCodeId);
    const text = `${by} set you to Idle${reason ? ` (${reason})` : ''}.`;
    const banner = $('#desk-notice');
    banner.dataset.notice = message.notice;
    setText($('#desk-notice-text'), text);
    banner.hidden = false;
    this.announce(text);
  }

  clearNotice({ refocus = false } = {}) {
    const banner = $('#desk-notice');
    if (banner.hidden) return;
    const hadFocus = banner.contains(document.activeElement);
    banner.hidden = true;
    delete banner.dataset.notice;
    setText($('#desk-notice-text'), '');
    if (refocus && hadFocus) $('[data-action="state/available"]').focus();
  }

  // MARK: The station: where offers are answered

  setUpStation() {
    const select = $('#station');
    select.addEventListener('change', () => this.changeStation(select.value));
  }

  /** The station as the server says it (GET /v1/me, an answer, or another tab's change on the stream). */
  showStation(station) {
    const previous = this.station;
    this.station = station;
    const select = $('#station');
    select.dataset.station = station;
    // While a change is on its way the control keeps the agent's choice; the answer settles it.
    if (!this.stationBusy) select.value = station;
    setText($('#station-hint'), STATION_HINTS[station] ?? '');
    $('#station-field').hidden = false;
    // The browser is the station (chosen in another window, or before a reload): this window's
    // phone comes on, unless another window holds it.
    if (station === 'browser' && !this.stationBusy && this.browser.phone.state === 'off' && !this.browser.elsewhere) {
      this.browser.start().catch((failure) => {
        setText($('#station-error'), `The browser phone could not start: ${failure.words ?? failure.message}.`);
      });
    }
    if (previous === null || previous === station) return;
    setText($('#station-error'), ''); // an older refusal no longer describes where calls ring
    this.announce(`Station: ${STATION_WORDS[station] ?? station}. ${STATION_HINTS[station] ?? ''}`);
    // An offer already ringing was described for the old station: ask for it again.
    for (const task of this.store.list()) {
      if (entryOf(task, this.agentId)?.state === 'ringing') {
        api.task(task.id).then((fresh) => this.store.apply(fresh)).catch(() => {});
      }
    }
  }

  async changeStation(station) {
    const select = $('#station');
    const error = $('#station-error');
    setText(error, '');
    if (station === this.station) return;
    this.stationBusy = true;
    select.disabled = true;
    select.setAttribute('aria-busy', 'true');
    const previous = this.station;
    try {
      // The browser: the microphone and the phone's connection first, so the station is never
      // one that cannot ring.
      if (station === 'browser') await this.browser.start();
      this.showMe(await api.setStation(station));
      if (previous === 'browser' && station !== 'browser') await this.browser.stop();
    } catch (failure) {
      if (station === 'browser' && this.station !== 'browser') this.browser.stop().catch(() => {});
      const words = STATION_WORDS[station] ?? station;
      let reason = failure.words ?? describeError(failure);
      if (failure.code === 'phoneNotRegistered' && !/not registered/i.test(reason)) {
        reason = `your phone is not registered (${failure.code})`;
      }
      const kept = STATION_WORDS[this.station] ?? this.station;
      setText(error, `Switching to ${words} failed: ${reason}.${kept ? ` Calls still ring on the ${kept}.` : ''}`);
    } finally {
      this.stationBusy = false;
      select.disabled = false;
      select.removeAttribute('aria-busy');
      // Back to what the server says: the new station once accepted, the old one when refused.
      if (this.station) select.value = this.station;
    }
  }

  async changeState(state, idleCodeId) {
    const button = $(`[data-action="state/${state}"]`);
    const error = $('#state-error');
    setText(error, '');
    button.disabled = true;
    try {
      this.showMe(await api.setState(state, idleCodeId));
      this.clearNotice(); // the agent has chosen their state since
    } catch (failure) {
      setText(error, `${state === 'available' ? 'Available' : 'Go idle'} failed: ${describeError(failure)}`);
    } finally {
      button.disabled = state === 'available' && this.me?.state === 'available';
    }
  }

  // MARK: Calls

  render() {
    const tasks = this.store.list().sort((a, b) => urgency(a, this.agentId) - urgency(b, this.agentId));
    for (const [id, card] of this.cards) {
      if (!this.store.get(id)) {
        card.dispose();
        this.cards.delete(id);
      }
    }
    tasks.forEach((task, index) => {
      let card = this.cards.get(task.id);
      if (!card) {
        card = new TaskCard(this, task);
        this.cards.set(task.id, card);
      }
      card.update(task);
      if (this.list.children[index] !== card.element) this.list.insertBefore(card.element, this.list.children[index] ?? null);
    });
    $('#no-task').hidden = tasks.length > 0;
    this.dialog.update(tasks);
    const ringing = tasks.some((task) => urgency(task, this.agentId) === 0);
    // The browser station rings in the page while an offer waits for Accept.
    this.browser.ringing(this.station === 'browser'
      && tasks.some((task) => task.allowedActions.includes('accept') || task.allowedActions.includes('consult/accept')));
    document.title = ringing ? 'Incoming call — Switchboard' : 'Switchboard — Agent Desktop';
    tick();
  }

  // MARK: Keyboard

  /** The shortcut help, one line per key (controls that share a key are never shown together). */
  listShortcuts() {
    const byKeys = new Map([['Alt+Shift+V', 'Become Available'], ['Alt+Shift+I', 'Go idle']]);
    for (const action of ACTIONS) {
      const keys = shortcutOf(action);
      const label = action.label.replace('…', '');
      if (!keys) continue;
      const known = byKeys.get(keys);
      if (!known) byKeys.set(keys, label);
      else if (!known.split(' / ').includes(label)) byKeys.set(keys, `${known} / ${label}`);
    }
    replaceChildren($('#shortcut-list'), [...byKeys].map(([keys, label]) => [h('dt', {}, h('kbd', {}, keys)), h('dd', {}, label)]));
  }

  /** Alt+Shift+letter presses the visible control with that key on the most urgent call. */
  shortcut(event) {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return;
    if (!event.code.startsWith('Key')) return;
    const key = event.code.slice(3);
    let target = null;
    if (key === 'V') target = $('[data-action="state/available"]');
    else if (key === 'I') target = $('[data-action="state/idle"]');
    else if (key === 'W' && this.dialog.element.open) {
      event.preventDefault();
      this.dialog.focus();
      return;
    } else {
      const card = this.list.firstElementChild;
      const names = ACTIONS.filter((action) => action.key === key).map((action) => action.name);
      target = card && names.map((name) => card.querySelector(`[data-action="${name}"]`)).find((button) => button && !button.hidden);
    }
    if (target && !target.hidden && !target.disabled) {
      event.preventDefault();
      target.click();
    }
  }
}
