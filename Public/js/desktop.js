// The agent's desktop: the agent's own state, one card per call (offer, status, call controls,
// destination picker, participants), the Wrap Up Reasons dialog, and My recent calls (past.js).
// Every control shown comes from the task's allowedActions; the page never decides on its own
// what is permitted.
import { ACTIONS, actionFor, labelFor, shortcutOf } from './actions.js';
import { api, describeError } from './api.js';
import { $, h, replaceChildren, setText } from './dom.js';
import { fillParticipants, participantTable } from './participants.js';
import { RecentCalls } from './past.js';
import { tick } from './time.js';
import { AGENT_STATE_WORDS, STATION_HINTS, STATION_WORDS, STATUS_WORDS, idleWords, callerText } from './words.js';

/** The viewer's own (latest) entry among the task's participants. */
export function entryOf(task, agentId) {
  let mine = null;
  for (const participant of task.participants) if (participant.agentId === agentId) mine = participant;
  return mine;
}

/** The status as this agent should read it. */
function statusWords(task, mine) {
  if (mine && mine.state === 'left' && task.status !== 'ended') return 'You left the call — wrap-up';
  if (task.status === 'ended' && task.wrapUpRequired) return 'Call ended — wrap-up';
  return STATUS_WORDS[task.status] ?? task.status;
}

/**
 * Ringing for this agent with no Accept to press: the agent's station is their phone, and
 * answering the phone accepts (the server leaves accept out of allowedActions then).
 */
function ringsOnPhone(task, mine) {
  const accept = task.allowedActions.includes('accept') || task.allowedActions.includes('consult/accept');
  return !accept && mine?.state === 'ringing';
}

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
    try {
      this.showMe(await api.setStation(station));
    } catch (failure) {
      const words = STATION_WORDS[station] ?? station;
      let reason = describeError(failure);
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
    const ringing = tasks.some((task) => urgency(task) === 0);
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

/** One call: its header, offer, controls, picker and participants, updated in place. */
class TaskCard {
  constructor(desktop, task) {
    this.desktop = desktop;
    this.id = task.id;
    this.task = task;
    this.busy = false;
    this.lastStatus = null;
    this.buttons = new Map();
    const titleId = `task-${task.id}-title`;
    this.title = h('h3', { class: 'task-title', id: titleId });
    this.status = h('span', { class: 'status-pill', 'data-status': task.status });
    this.queue = h('span', { class: 'task-queue' });
    this.clock = h('span', { class: 'numeric' });
    this.clockLine = h('span', { class: 'task-clock' }, 'On call ', this.clock);
    this.offer = h('p', { class: 'offer', hidden: true });
    this.controls = h('div', { class: 'controls', role: 'group', 'aria-label': 'Call controls' });
    // In Accept's place when the offer rings the agent's phone (their station): the phone answers it.
    this.phoneLine = h('p', { class: 'answer-on-phone', 'data-answer': 'phone', hidden: true },
      h('strong', {}, 'Answer on your phone'), ' — it is ringing now.');
    this.controls.append(this.phoneLine);
    this.error = h('p', { class: 'error', role: 'alert' });
    this.picker = new DestinationPicker(this);
    this.note = h('p', { class: 'task-note', hidden: true });
    this.table = participantTable(task, this.participantContext());
    this.element = h(
      'article',
      { class: 'card task-card', 'data-task-id': task.id, 'data-status': task.status, 'aria-labelledby': titleId },
      h('header', { class: 'task-head' },
        this.title,
        this.status,
        h('p', { class: 'task-facts' }, this.queue, this.clockLine)),
      this.offer,
      this.controls,
      this.error,
      this.picker.element,
      this.note,
      this.table,
    );
    for (const action of ACTIONS) this.addButton(action);
  }

  participantContext() {
    return { me: this.desktop.agentId, names: this.desktop.names };
  }

  addButton(action) {
    const keys = shortcutOf(action);
    const button = h(
      'button',
      {
        type: 'button',
        class: `control${action.tone ? ` ${action.tone}` : ''}`,
        'data-action': action.name,
        'aria-keyshortcuts': keys,
        title: keys ? `${action.help} (${keys})` : action.help,
        hidden: true,
        onclick: () => this.press(action),
      },
      action.label,
    );
    if (action.picker) button.setAttribute('aria-expanded', 'false');
    this.buttons.set(action.name, button);
    this.controls.append(button);
  }

  update(task) {
    this.task = task;
    const mine = entryOf(task, this.desktop.agentId);
    this.element.dataset.status = task.status;
    this.status.dataset.status = task.status;
    setText(this.status, statusWords(task, mine));
    setText(this.title, `Call from ${callerText(task.customer)}`);
    setText(this.queue, this.desktop.queueNames.get(task.queue) ?? task.queue);
    // Time on the call while on it; a ringing offer shows its countdown instead.
    const onCall = Boolean(mine) && (mine.state === 'connected' || mine.state === 'held');
    this.clockLine.hidden = !onCall;
    if (onCall) this.clock.dataset.elapsedFrom = String(mine.joinedAt);
    else delete this.clock.dataset.elapsedFrom;
    this.showOffer(task, mine);

    const allowed = new Set(task.allowedActions);
    for (const name of task.allowedActions) if (!this.buttons.has(name)) this.addButton(actionFor(name));
    for (const [name, button] of this.buttons) {
      button.hidden = !allowed.has(name);
      const label = name === 'conference/transfer' ? this.transferLabel(task) : labelFor(name, mine);
      setText(button, label);
      button.setAttribute('aria-label', `${label.replace('…', '')}: ${actionFor(name).help}`);
      button.disabled = this.busy;
    }
    if (this.picker.kind && !allowed.has(this.picker.kind)) this.picker.close();

    this.note.hidden = !task.wrapUpRequired;
    setText(this.note, task.wrapUpRequired ? 'You owe a wrap-up for this call: choose a reason in Wrap Up Reasons.' : '');
    this.refreshParticipants();

    if (this.lastStatus !== null && this.lastStatus !== task.status) {
      this.desktop.announce(`Call from ${callerText(task.customer)}: ${statusWords(task, mine)}`);
    }
    this.lastStatus = task.status;
  }

  /** "Transfer to Agent 2": in a conference the hand-over goes to the other agent on the call. */
  transferLabel(task) {
    const other = task.participants.find((party) => party.role === 'conferenced' && party.state === 'connected' && party.agentId);
    return other ? `Transfer to ${this.desktop.names.get(other.agentId) ?? other.agentId}` : labelFor('conference/transfer');
  }

  showOffer(task, mine) {
    const onPhone = ringsOnPhone(task, mine);
    const consult = task.allowedActions.includes('consult/accept') || (onPhone && mine.role === 'consulted');
    const offered = consult || onPhone || task.allowedActions.includes('accept');
    this.phoneLine.hidden = !onPhone;
    this.offer.hidden = !offered;
    this.element.classList.toggle('ringing', offered);
    if (!offered) return;
    const queue = this.desktop.queueNames.get(task.queue) ?? task.queue;
    const owner = task.participants.find((party) => party.role === 'owner' && party.state !== 'left');
    const from = owner ? this.desktop.names.get(owner.agentId) ?? owner.agentId : 'a colleague';
    const countdown = mine && mine.deadline
      ? [' — rings out in ', h('span', { class: 'countdown numeric', 'data-remaining-to': mine.deadline }, '')]
      : [];
    replaceChildren(
      this.offer,
      h('strong', {}, consult ? 'Consult request' : 'Incoming call'),
      consult ? ` from ${from} about ${callerText(task.customer)} (${queue})` : ` from ${callerText(task.customer)} (${queue})`,
      countdown,
    );
  }

  refreshParticipants() {
    fillParticipants(this.table.tBodies[0], this.task, this.participantContext());
    tick(this.table);
  }

  press(action) {
    if (action.picker) this.picker.toggle(action.name);
    else if (action.dialog) this.desktop.dialog.focus();
    else this.run(action.name);
  }

  /** Sends a control; its refusal is shown in words at `errorElement` (next to the control). */
  async run(name, body, errorElement = this.error) {
    if (this.busy) return false;
    this.setBusy(true);
    setText(this.error, '');
    setText(errorElement, '');
    try {
      this.desktop.store.apply(await api.command(this.id, name, body));
      return true;
    } catch (failure) {
      const label = labelFor(name, entryOf(this.task, this.desktop.agentId)).replace('…', '');
      setText(errorElement, `${label} failed: ${describeError(failure)}`);
      // Refused because the call moved on: fetch it, so the controls catch up at once.
      if (failure.status === 409 || failure.status === 403) {
        api.task(this.id).then((task) => this.desktop.store.apply(task)).catch(() => {});
      }
      return false;
    } finally {
      this.setBusy(false);
    }
  }

  setBusy(busy) {
    this.busy = busy;
    this.element.setAttribute('aria-busy', String(busy));
    for (const button of this.buttons.values()) button.disabled = busy;
    this.picker.submit.disabled = busy;
  }

  dispose() {
    this.picker.close();
    this.element.remove();
  }
}

/** Where a consult or a blind transfer goes: an agent (with their live state), a queue or a number. */
class DestinationPicker {
  constructor(card) {
    this.card = card;
    this.kind = null;
    this.poll = null;
    const id = `picker-${card.id}`;
    const choose = (type) => () => {
      this.element.querySelector(`input[value="${type}"]`).checked = true;
    };
    this.agents = h('select', { name: 'agent', 'aria-label': 'Agent', onfocus: choose('agent'), onchange: choose('agent') });
    this.queues = h('select', { name: 'queue', 'aria-label': 'Queue', onfocus: choose('queue'), onchange: choose('queue') });
    this.number = h('input', {
      name: 'number', type: 'tel', 'aria-label': 'Phone number', placeholder: '+15550123', autocomplete: 'off',
      onfocus: choose('dialNumber'), oninput: choose('dialNumber'),
    });
    const option = (type, label, field) =>
      h('div', { class: 'picker-row' },
        h('label', { class: 'inline' }, h('input', { type: 'radio', name: 'destinationType', value: type }), ` ${label}`),
        field);
    this.legend = h('legend');
    this.submit = h('button', { type: 'submit', class: 'primary', 'data-picker': 'submit' });
    this.error = h('p', { class: 'error', role: 'alert' });
    this.element = h(
      'form',
      { class: 'picker', id, hidden: true, onsubmit: (event) => this.send(event), onkeydown: (event) => this.escape(event) },
      h('fieldset', {}, this.legend,
        option('agent', 'Agent', this.agents),
        option('queue', 'Queue', this.queues),
        option('dialNumber', 'Number', this.number)),
      h('div', { class: 'picker-actions' },
        this.submit,
        h('button', { type: 'button', 'data-picker': 'cancel', onclick: () => this.close() }, 'Cancel')),
      this.error,
    );
    this.element.querySelector('input[value="agent"]').checked = true;
  }

  toggle(kind) {
    if (this.kind === kind) this.close();
    else this.open(kind);
  }

  open(kind) {
    this.kind = kind;
    const verb = kind === 'consult' ? 'Consult' : 'Transfer';
    setText(this.legend, kind === 'consult' ? 'Consult with…' : 'Transfer the call to…');
    setText(this.submit, verb);
    setText(this.error, '');
    this.element.hidden = false;
    for (const [name, button] of this.card.buttons) {
      if (actionFor(name).picker) button.setAttribute('aria-expanded', String(name === kind));
      if (actionFor(name).picker) button.setAttribute('aria-controls', this.element.id);
    }
    this.load();
    clearInterval(this.poll);
    this.poll = setInterval(() => this.load(), 2000); // agents' states change while the picker is open
    this.agents.focus();
  }

  close() {
    // Focus inside the picker would be lost when it hides: hand it back to the call's controls.
    const hadFocus = this.kind !== null && this.element.contains(document.activeElement);
    this.kind = null;
    clearInterval(this.poll);
    this.poll = null;
    this.element.hidden = true;
    for (const [name, button] of this.card.buttons) if (actionFor(name).picker) button.setAttribute('aria-expanded', 'false');
    if (hadFocus) this.card.controls.querySelector('button:not([hidden])')?.focus();
  }

  escape(event) {
    if (event.key === 'Escape') {
      event.preventDefault();
      this.close();
    }
  }

  async load() {
    let agents;
    let queues;
    try {
      [agents, queues] = await Promise.all([api.agents(), api.queues()]);
    } catch (failure) {
      setText(this.error, `Could not load destinations: ${describeError(failure)}`);
      return;
    }
    const { agentId, idleCodes } = this.card.desktop;
    const firstChoice = !this.agents.value;
    fillOptions(this.agents, agents.filter((agent) => agent.id !== agentId).map((agent) => {
      const reason = agent.state === 'idle' && agent.idleCodeId ? ` (${idleWords(idleCodes, agent.idleCodeId)})` : '';
      return {
        value: agent.id,
        text: `${agent.displayName} — ${AGENT_STATE_WORDS[agent.state] ?? agent.state}${reason}`,
        state: agent.state,
        disabled: agent.state !== 'available', // the server refuses anyone else (agentUnavailable)
      };
    }));
    // Preselect someone reachable once; never switch a choice already made to another person.
    if (firstChoice) this.agents.value = [...this.agents.options].find((option) => !option.disabled)?.value ?? '';
    fillOptions(this.queues, queues.map((queue) => ({ value: queue.id, text: `${queue.name} — ${queue.waiting} waiting` })));
  }

  async send(event) {
    event.preventDefault();
    const type = new FormData(this.element).get('destinationType');
    const to = { agent: this.agents.value, queue: this.queues.value, dialNumber: this.number.value.trim() }[type];
    if (!to) {
      setText(this.error, type === 'agent' ? 'Choose an available agent.' : type === 'queue' ? 'Choose a queue.' : 'Enter a phone number.');
      return;
    }
    const chosen = this.agents.selectedOptions[0];
    if (type === 'agent' && chosen?.disabled) {
      setText(this.error, `${chosen.textContent.split(' — ')[0]} is no longer available; choose someone else.`);
      return;
    }
    if (await this.card.run(this.kind, { destinationType: type, to }, this.error)) this.close();
  }
}

/**
 * Sets a <select>'s options, in place when the same values are listed again, so a refresh every
 * two seconds neither closes an open list nor loses the choice.
 */
function fillOptions(select, items) {
  const same = select.options.length === items.length
    && items.every((item, index) => select.options[index].value === item.value);
  if (!same) {
    const chosen = select.value;
    replaceChildren(select, items.map((item) => h('option', { value: item.value })));
    if (items.some((item) => item.value === chosen)) select.value = chosen;
  }
  items.forEach((item, index) => {
    const option = select.options[index];
    setText(option, item.text);
    option.disabled = Boolean(item.disabled);
    if (item.state) option.dataset.state = item.state;
  });
}

/**
 * The Wrap Up Reasons dialog: shown exactly while a call says wrapUpRequired (the agent owes the
 * wrap-up), never otherwise. Not modal: in wrap-up assist the agent may still be talking to the
 * other agent and needs the End control.
 */
class WrapUpDialog {
  constructor(desktop, codes) {
    this.desktop = desktop;
    this.element = $('#wrapup-dialog');
    this.form = $('#wrapup-form');
    this.code = $('#wrapup-code');
    this.notes = $('#wrapup-notes');
    this.error = $('#wrapup-error');
    this.submit = $('#wrapup-submit');
    this.taskId = null;
    replaceChildren(this.code, h('option', { value: '' }, 'Choose a reason…'),
      codes.map((code) => h('option', { value: code.id }, code.name)));
    this.form.addEventListener('submit', (event) => this.send(event));
    // Only the wrap-up itself closes it (Escape does nothing to a non-modal dialog, but be sure).
    this.element.addEventListener('cancel', (event) => event.preventDefault());
  }

  update(tasks) {
    const owed = tasks.filter((task) => task.wrapUpRequired === true);
    const task = owed.find((candidate) => candidate.id === this.taskId) ?? owed[0];
    if (!task) {
      this.taskId = null;
      delete this.element.dataset.taskId;
      if (this.element.open) this.element.close();
      return;
    }
    if (task.id !== this.taskId) {
      this.taskId = task.id;
      this.form.reset();
      setText(this.error, '');
    }
    this.element.dataset.taskId = task.id;
    const queue = this.desktop.queueNames.get(task.queue) ?? task.queue;
    setText($('#wrapup-about'), `Call from ${callerText(task.customer)} (${queue}) — ${statusWords(task, entryOf(task, this.desktop.agentId))}.`);
    const deadline = entryOf(task, this.desktop.agentId)?.deadline;
    $('#wrapup-auto').hidden = !deadline;
    const countdown = $('#wrapup-countdown');
    if (deadline) countdown.dataset.remainingTo = String(deadline);
    else delete countdown.dataset.remainingTo;
    if (!this.element.open) {
      this.element.show();
      this.desktop.announce('Wrap Up Reasons: choose a reason for the call.');
      if (!this.element.contains(document.activeElement)) this.code.focus();
    }
  }

  focus() {
    if (this.element.open) this.code.focus();
  }

  async send(event) {
    event.preventDefault();
    if (!this.taskId) return;
    if (!this.code.value) {
      setText(this.error, 'Choose a wrap-up reason.');
      this.code.focus();
      return;
    }
    setText(this.error, '');
    this.submit.disabled = true;
    try {
      const body = { wrapUpCodeId: this.code.value, notes: this.notes.value.trim() };
      this.desktop.store.apply(await api.command(this.taskId, 'wrapup', body));
    } catch (failure) {
      setText(this.error, `Wrap-up failed: ${describeError(failure)}`);
    } finally {
      this.submit.disabled = false;
    }
  }
}
