// The supervisor's view: every agent's state and time in it, who is signed in, and per agent
// Sign out, Set idle and their recent History; each queue's waiting calls and longest wait, every
// call in progress with its participants, and two charts. Agents and calls come from the stream
// alone: fetched afresh each time it is ready (Sync calls `refetch` and refreshes the tasks), then
// kept live by its messages, so nothing is missed and nothing polls them; who is signed in is
// fetched with them and again whenever an agent's message comes (no timer). Queues and today's
// wrap-ups are polled every 2 s (the stream does not carry them), which also gives the waiting
// chart its samples. Below them, the calls that are over: Past interactions (past.js), filtered
// and paged, each with its timeline.
import { api, describeError } from './api.js';
import { drawBarChart, drawLineChart } from './charts.js';
import { $, h, replaceChildren, setText } from './dom.js';
import { fillParticipants, participantTable } from './participants.js';
import { PastInteractionsPanel } from './past.js';
import { ReportsPanel } from './reports.js';
import { clockTime, dateTime, now, tick } from './time.js';
import { AGENT_STATE_WORDS, AUDIT_WORDS, MONITOR_WORDS, STATUS_WORDS, idleWords, callerText } from './words.js';

/** How many of an agent's latest history entries History shows. */
const HISTORY_LIMIT = 20;

const SAMPLE_EVERY = 2000;
const CHART_WINDOW = 10 * 60 * 1000;

export class SupervisorView {
  constructor({ store, names, queueNames, idleCodes, wrapUpCodes, announce, me, phone }) {
    this.store = store;
    this.phone = phone ?? null; // this browser's phone (BrowserStation), to listen in from the page
    this.me = me ?? null; // the supervisor's own id: which listener on a call is us
    this.names = names;
    this.queueNames = queueNames;
    this.idleCodes = idleCodes;
    this.wrapUpCodes = wrapUpCodes;
    this.announce = announce ?? (() => {});
    this.agents = new Map();
    this.rows = new Map(); // agent id → AgentRow, kept and updated in place
    this.sessions = null; // user → GET /v1/sessions entry; null until first fetched
    this.sessionsLoading = false;
    this.sessionsAgain = false;
    this.queues = [];
    this.samples = []; // [{t, waiting: {queueId: count}}]
    this.today = {};
    this.cards = new Map();
    store.addEventListener('change', () => this.renderCalls());
    $('#supervisor-view').hidden = false;
    this.poll();
    this.timer = setInterval(() => this.poll(), SAMPLE_EVERY);
    this.renderCalls();
    this.past = new PastInteractionsPanel({ store, names, queueNames, wrapUpCodes });
    this.reports = new ReportsPanel({ queueNames, names });
  }

  showMe() {} // a supervisor has no agent state

  /** An alert for supervisors (a recording that failed): said at the top of the calls. */
  onAlert(message) {
    const line = $('#sv-alerts');
    line.hidden = false;
    line.dataset.code = message.code ?? '';
    setText(line, `${message.message ?? message.code}${message.taskId ? ` (call ${message.taskId})` : ''}`);
    this.announce(message.message ?? 'An alert');
  }

  /** An agent's state changed (stream): a sign-in or a sign-out may be why, so ask who is signed in. */
  onAgent(view) {
    if (this.remember(view)) this.renderAgents();
    this.loadSessions();
    this.rows.get(view.id)?.history.refresh();
  }

  /**
   * Every agent's state, fetched each time the stream is ready (after the server subscribed us,
   * so no change falls between the list and the messages that follow it). Sync holds the
   * stream's messages until this is in; a failure makes Sync try the whole refresh again.
   */
  async refetch() {
    this.loadSessions(); // beside the agents, not holding up the stream when it fails
    const agents = await api.agents();
    for (const agent of agents) this.remember(agent);
    this.renderAgents();
  }

  /**
   * Who is signed in (GET /v1/sessions). Asked again while one is on its way, it asks once more
   * when that one is in, so the answer shown is never older than the latest reason to ask.
   */
  async loadSessions() {
    if (this.sessionsLoading) {
      this.sessionsAgain = true;
      return;
    }
    this.sessionsLoading = true;
    try {
      const list = await api.sessions();
      this.sessions = new Map(list.map((entry) => [entry.user, entry]));
      setText($('#sv-sessions-error'), '');
      this.renderSessions();
    } catch (failure) {
      setText($('#sv-sessions-error'), `Could not tell who is signed in: ${describeError(failure)}`);
    } finally {
      this.sessionsLoading = false;
      if (this.sessionsAgain) {
        this.sessionsAgain = false;
        this.loadSessions();
      }
    }
  }

  renderSessions() {
    for (const row of this.rows.values()) row.showSession(this.sessions?.get(row.id) ?? null, this.sessions !== null);
    const supervisors = [...(this.sessions?.values() ?? [])].filter((entry) => entry.role === 'supervisor');
    setText($('#sv-supervisors'), supervisors.length
      ? `Supervisors signed in: ${supervisors.map((entry) => entry.displayName ?? entry.user).join(', ')}.`
      : '');
  }

  /** Keeps an agent's view unless a newer one (a later state start) is already shown. */
  remember(view) {
    const known = this.agents.get(view.id);
    if (known && view.since < known.since) return false;
    this.agents.set(view.id, view);
    return true;
  }

  /** The queues' figures and today's wrap-ups: the stream does not carry them. */
  async poll() {
    const [queues, stats] = await Promise.allSettled([api.queues(), api.wrapUpStats()]);
    const failed = [queues, stats].find((result) => result.status === 'rejected');
    setText($('#sv-error'), failed ? `Could not refresh the dashboard: ${describeError(failed.reason)}` : '');
    if (queues.status === 'fulfilled') {
      this.queues = queues.value;
      const t = now();
      this.samples.push({ t, waiting: Object.fromEntries(this.queues.map((queue) => [queue.id, queue.waiting])) });
      while (this.samples.length && this.samples[0].t < t - CHART_WINDOW) this.samples.shift();
      this.renderQueues();
      this.renderWaitingChart();
    }
    if (stats.status === 'fulfilled') {
      this.today = stats.value.today ?? {};
      this.renderWrapUpChart();
    }
  }

  /** One row per agent (and its History row under it), in id order, updated in place. */
  renderAgents() {
    const body = $('#sv-agents tbody');
    const agents = [...this.agents.values()].sort((a, b) => a.id.localeCompare(b.id));
    let index = 0;
    for (const agent of agents) {
      let row = this.rows.get(agent.id);
      if (!row) {
        row = new AgentRow(this, agent.id);
        this.rows.set(agent.id, row);
        if (this.sessions) row.showSession(this.sessions.get(agent.id) ?? null, true);
      }
      row.update(agent);
      // Moved only when out of place: moving a row would take the focus off its controls.
      for (const element of [row.element, row.history.row]) {
        if (body.children[index] !== element) body.insertBefore(element, body.children[index] ?? null);
        index += 1;
      }
    }
    tick($('#sv-agents'));
  }

  renderQueues() {
    // Today's service level and the oldest wait against the center's thresholds (reports.tiles;
    // by default amber under 80 %, red under 60 %, the trade's common target being 80/20).
    const level = (value, limits) =>
      value === null || value === undefined ? 'none' : value < limits.serviceLevelRed ? 'red' : value < limits.serviceLevelAmber ? 'amber' : 'ok';
    const rows = this.queues.map((queue) => {
      const limits = queue.thresholds ?? { serviceLevelAmber: 0.8, serviceLevelRed: 0.6, oldestWaitAmberSeconds: 30, oldestWaitRedSeconds: 60 };
      const agents = queue.agents ?? {};
      return h('tr', { 'data-queue': queue.id, 'data-waiting': queue.waiting, 'data-level': level(queue.serviceLevelToday, limits) },
        h('th', { scope: 'row' }, queue.name),
        h('td', { class: 'numeric', 'data-figure': 'waiting' }, queue.waiting),
        h('td', { class: 'numeric', 'data-figure': 'longestWait' },
          queue.longestWaitSince
            ? h('span', {
              'data-elapsed-from': queue.longestWaitSince,
              'data-amber-after': limits.oldestWaitAmberSeconds * 1000,
              'data-red-after': limits.oldestWaitRedSeconds * 1000,
            }, '')
            : '—'),
        h('td', { class: 'numeric', 'data-figure': 'available' }, agents.available ?? 0),
        h('td', { class: 'numeric', 'data-figure': 'onCalls' }, agents.onCalls ?? 0),
        h('td', { class: 'numeric', 'data-figure': 'inWrapUp' }, agents.inWrapUp ?? 0),
        h('td', { class: 'numeric', 'data-figure': 'idle' }, agents.idle ?? 0),
        h('td', { class: 'numeric', 'data-figure': 'serviceLevel' },
          queue.serviceLevelToday === null || queue.serviceLevelToday === undefined ? '—' : `${Math.round(queue.serviceLevelToday * 100)} %`),
        h('td', { class: 'numeric', 'data-figure': 'answered' }, queue.answeredToday ?? 0),
        h('td', { class: 'numeric', 'data-figure': 'abandoned' }, queue.abandonedToday ?? 0));
    });
    replaceChildren($('#sv-queues tbody'), rows);
    tick($('#sv-queues'));
  }

  renderWaitingChart() {
    const to = now();
    // Until ten minutes have been sampled, the chart spans what there is (at least a minute).
    const first = this.samples[0]?.t ?? to;
    const from = Math.min(to - 60_000, Math.max(to - CHART_WINDOW, first));
    const series = this.queues.map((queue) => ({
      id: queue.id,
      name: queue.name,
      points: this.samples.map((sample) => ({ t: sample.t, value: sample.waiting[queue.id] ?? 0 })),
    }));
    drawLineChart($('#chart-waiting'), { series, from, to, timeLabel: clockTime });
  }

  renderWrapUpChart() {
    const known = new Set(this.wrapUpCodes.map((code) => code.id));
    const bars = [
      ...this.wrapUpCodes.map((code) => ({ id: code.id, label: code.name, value: this.today[code.id] ?? 0 })),
      // A reason no longer configured still counts today.
      ...Object.entries(this.today).filter(([id]) => !known.has(id)).map(([id, value]) => ({ id, label: id, value })),
    ];
    drawBarChart($('#chart-wrapups'), bars, { emptyText: 'No wrap-ups yet today.' });
  }

  /** Calls in progress, one card each, updated in place. */
  renderCalls() {
    const list = $('#sv-calls');
    const tasks = this.store.list();
    for (const [id, card] of this.cards) {
      if (!this.store.get(id)) {
        card.element.remove();
        this.cards.delete(id);
      }
    }
    for (const task of tasks) {
      let card = this.cards.get(task.id);
      if (!card) {
        card = this.callCard(task);
        this.cards.set(task.id, card);
        list.append(card.element);
      }
      card.task = task;
      card.element.dataset.status = task.status;
      card.status.dataset.status = task.status;
      setText(card.status, task.wrapUpPending && task.status === 'ended' ? 'Ended — wrap-up pending' : STATUS_WORDS[task.status] ?? task.status);
      setText(card.queue, this.queueNames.get(task.queue) ?? task.queue);
      card.listen.update(task);
      this.refreshParticipants(task.id);
    }
    $('#sv-no-calls').hidden = tasks.length > 0;
  }

  callCard(task) {
    const status = h('span', { class: 'status-pill' });
    const queue = h('span', { class: 'task-queue' });
    const table = participantTable(task, {});
    const listen = new ListenControls(this, task.id);
    const element = h('article', { class: 'sv-call', 'data-task-id': task.id },
      h('header', { class: 'task-head' },
        h('h3', { class: 'task-title' }, `Call from ${callerText(task.customer)}`), status, h('p', { class: 'task-facts' }, queue)),
      table, listen.element);
    return { element, status, queue, table, task, listen };
  }

  refreshParticipants(id) {
    const card = this.cards.get(id);
    if (!card) return;
    fillParticipants(card.table.tBodies[0], card.task, { names: this.names });
    tick(card.table);
  }
}

/**
 * A call's listening controls: who is listening in (and how), and Monitor, Coach, Barge and Leave
 * for us. The server rings our station (the SIP phone, unless the station picker says otherwise);
 * switching mode keeps the same leg. A refusal is said in the card's alert.
 */
class ListenControls {
  constructor(view, id) {
    this.view = view;
    this.id = id;
    this.busy = false;
    this.who = h('p', { class: 'sv-listeners', 'data-sv': 'listeners' });
    this.station = h('select', { class: 'small', 'data-sv': 'station', 'aria-label': 'Listen on' },
      h('option', { value: '' }, 'My phone'),
      view.phone ? h('option', { value: 'browser' }, 'This browser') : null,
      h('option', { value: 'desktop' }, 'No sound (desktop)'));
    this.buttons = ['monitor', 'coach', 'barge'].map((mode) =>
      h('button', { type: 'button', class: 'small', 'data-sv': mode, onclick: () => this.run(() => this.listen(mode)) },
        MONITOR_WORDS[mode].action));
    this.leave = h('button', { type: 'button', class: 'small', 'data-sv': 'leave', onclick: () => this.run(() => api.stopMonitoring(id)) }, 'Leave');
    this.error = h('p', { class: 'error', role: 'alert', 'data-sv': 'listen-error' });
    this.element = h('div', { class: 'sv-listen' },
      this.who,
      h('div', { class: 'row-controls', role: 'group', 'aria-label': 'Listen in' }, this.station, ...this.buttons, this.leave),
      this.error);
  }

  update(task) {
    const listeners = task.supervisors ?? [];
    const mine = listeners.find((entry) => entry.supervisorId === this.view.me);
    setText(this.who, listeners.length
      ? listeners.map((entry) => `${this.view.names.get(entry.supervisorId) ?? entry.supervisorId}: ${MONITOR_WORDS[entry.mode]?.state ?? entry.mode}${entry.state === 'ringing' ? ' (ringing)' : ''}`).join(' · ')
      : 'Nobody is listening in.');
    this.element.dataset.mode = mine?.mode ?? '';
    const live = task.status !== 'ended';
    this.buttons.forEach((button, index) => {
      const mode = ['monitor', 'coach', 'barge'][index];
      button.disabled = this.busy || !live || mine?.mode === mode;
      button.setAttribute('aria-pressed', String(mine?.mode === mode));
    });
    this.leave.disabled = this.busy || !mine;
    this.station.disabled = Boolean(mine);
  }

  /** Starts (or switches) listening; on this browser, its phone is turned on first (the microphone asked for). */
  async listen(mode) {
    const station = this.station.value || undefined;
    if (station === 'browser' && !this.station.disabled) await this.view.phone.start();
    return api.monitor(this.id, mode, station);
  }

  async run(call) {
    this.busy = true;
    setText(this.error, '');
    try {
      const task = await call();
      if (task) this.view.store.apply(task);
    } catch (failure) {
      setText(this.error, describeError(failure));
    } finally {
      this.busy = false;
      const task = this.view.store.get(this.id);
      if (task) this.update(task);
    }
  }
}

/**
 * An agent's row: name, team, state, time in it, whether they are signed in, and the supervisor's
 * controls — Sign out, Set idle with a reason, History. A refusal is said in the row's alert.
 */
class AgentRow {
  constructor(view, id) {
    this.view = view;
    this.id = id;
    this.agent = null;
    this.busy = false;
    this.session = null;
    this.name = h('th', { scope: 'row' });
    this.team = h('td');
    this.badge = h('span', { class: 'state-badge small' });
    this.pending = h('span', { class: 'pending-note', hidden: true });
    this.time = h('td', { class: 'numeric' });
    this.signedIn = h('td', { class: 'signed-in', 'data-signed-in': 'unknown' }, '…');
    this.signOut = h('button', { type: 'button', class: 'small', 'data-sv': 'sign-out', onclick: () => this.runSignOut() }, 'Sign out');
    this.idleCode = h('select', { class: 'small', 'data-sv': 'idle-code' },
      view.idleCodes.map((code) => h('option', { value: code.id }, code.name)));
    this.setIdle = h('button', { type: 'button', class: 'small', 'data-sv': 'set-idle', onclick: () => this.runSetIdle() }, 'Set idle');
    this.error = h('p', { class: 'error', role: 'alert', 'data-sv': 'error' });
    this.history = new AgentHistory(view, id);
    this.element = h('tr', { 'data-agent': id },
      this.name,
      this.team,
      h('td', {}, this.badge, this.pending),
      this.time,
      this.signedIn,
      h('td', { class: 'agent-controls' },
        this.controls = h('div', { class: 'row-controls', role: 'group' },
          this.signOut,
          h('span', { class: 'set-idle' }, this.idleCode, this.setIdle),
          this.history.button),
        this.error));
  }

  label() {
    return this.agent?.displayName ?? this.id;
  }

  update(agent) {
    const previous = this.agent;
    this.agent = agent;
    const name = agent.displayName ?? agent.id;
    const { idleCodes } = this.view;
    this.element.dataset.state = agent.state;
    setText(this.name, name);
    setText(this.team, agent.team ?? '');
    const idle = agent.state === 'idle' && agent.idleCodeId ? ` · ${idleWords(idleCodes, agent.idleCodeId)}` : '';
    this.badge.dataset.state = agent.state;
    setText(this.badge, `${AGENT_STATE_WORDS[agent.state] ?? agent.state}${idle}`);
    const pending = idleWords(idleCodes, agent.pendingIdleCodeId);
    this.pending.hidden = !pending;
    setText(this.pending, pending ? `Idle (${pending}) after the call` : '');
    if (agent.state === 'loggedOut' || !agent.since) {
      replaceChildren(this.time, '—');
    } else {
      let clock = this.time.querySelector('[data-elapsed-from]');
      if (!clock) replaceChildren(this.time, clock = h('span', {}, ''));
      clock.dataset.elapsedFrom = String(agent.since);
    }
    // The controls name the agent, since every row has the same ones.
    this.signOut.setAttribute('aria-label', `Sign out: ${name}`);
    this.idleCode.setAttribute('aria-label', `Idle reason for ${name}`);
    this.controls.setAttribute('aria-label', `Controls for ${name}`);
    this.setIdle.setAttribute('aria-label', `Set idle: ${name}`);
    this.history.name(name);
    // A refusal explained the state it met; once the state moved on, it no longer holds.
    if (previous && previous.state !== agent.state) setText(this.error, '');
    this.setBusy(this.busy);
  }

  /** The agent's entry in GET /v1/sessions (null: not signed in); known: whether the list has come. */
  showSession(entry, known) {
    this.session = entry;
    if (!known) return;
    this.signedIn.dataset.signedIn = String(Boolean(entry));
    this.signedIn.dataset.sessions = String(entry?.sessions ?? 0);
    this.signedIn.dataset.desktops = String(entry?.desktops ?? 0);
    if (!entry) {
      replaceChildren(this.signedIn, h('span', { class: 'signed-out' }, 'Not signed in'));
    } else {
      const desktops = entry.desktops ?? 0;
      replaceChildren(this.signedIn,
        h('span', { class: 'signed-in-yes' }, 'Signed in'),
        entry.signedInAt ? [' since ', h('time', { datetime: new Date(entry.signedInAt).toISOString() }, clockTime(entry.signedInAt))] : null,
        h('br'),
        h('span', { class: 'hint' }, desktops === 1 ? '1 desktop open' : `${desktops} desktops open`));
      if (entry.lastSeenAt) this.signedIn.title = `Last seen ${dateTime(entry.lastSeenAt)}`;
    }
    this.setBusy(this.busy);
  }

  setBusy(busy) {
    this.busy = busy;
    const out = this.agent?.state === 'loggedOut';
    this.element.setAttribute('aria-busy', String(busy));
    // Nothing to sign out of, and nobody to set idle, once the agent has left the center.
    this.signOut.disabled = busy || (out && !this.session);
    this.setIdle.disabled = busy || out;
    this.idleCode.disabled = busy || out;
  }

  async act(label, work, done) {
    if (this.busy) return;
    this.setBusy(true);
    setText(this.error, '');
    try {
      const answer = await work();
      // An answer that is the agent's view (their new state) is shown at once.
      if (answer && answer.id === this.id && typeof answer.state === 'string' && this.view.remember(answer)) {
        this.view.renderAgents();
      }
      this.view.announce(done());
    } catch (failure) {
      setText(this.error, `${label} failed: ${describeError(failure)}`);
    } finally {
      this.setBusy(false);
      this.view.loadSessions();
      this.history.refresh();
    }
  }

  runSignOut() {
    const name = this.label();
    this.act('Sign out', () => api.signOutAgent(this.id), () => `${name} is signed out.`);
  }

  runSetIdle() {
    const name = this.label();
    const code = this.idleCode.value;
    const reason = idleWords(this.view.idleCodes, code);
    this.act('Set idle', () => api.setAgentIdle(this.id, code), () => `${name} is set to Idle (${reason}).`);
  }
}

let histories = 0;

/** An agent's recent history (GET /v1/agents/{id}/audit), in a row opened under theirs. */
class AgentHistory {
  constructor(view, id) {
    histories += 1;
    this.view = view;
    this.id = id;
    this.open = false;
    this.request = 0;
    const panelId = `agent-history-${histories}`;
    this.panel = h('div', { class: 'agent-history', id: panelId, 'data-history': id, role: 'region' });
    this.button = h('button', {
      type: 'button', class: 'small', 'data-sv': 'history', 'aria-expanded': 'false', 'aria-controls': panelId,
      onclick: () => this.toggle(),
    }, 'History');
    this.row = h('tr', { class: 'history-row', 'data-history-for': id, hidden: true },
      h('td', { colspan: 6 }, this.panel));
  }

  name(agentName) {
    this.agentName = agentName;
    this.panel.setAttribute('aria-label', `History of ${agentName}`);
    this.labelButton();
  }

  /** The button's name starts with its visible words ("History", "Hide history"), then whose. */
  labelButton() {
    const words = this.open ? 'Hide history' : 'History';
    setText(this.button, words);
    this.button.setAttribute('aria-label', `${words}: ${this.agentName ?? this.id}`);
  }

  toggle() {
    if (this.open) this.close();
    else this.show();
  }

  close() {
    this.open = false;
    this.request += 1;
    this.row.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    this.labelButton();
  }

  show() {
    this.open = true;
    this.row.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.labelButton();
    this.panel.dataset.state = 'loading';
    replaceChildren(this.panel, h('p', { class: 'hint' }, 'Loading the history…'));
    this.load();
  }

  /** Fetched again while open (the agent's state changed, or a control was used); nothing when closed. */
  refresh() {
    if (this.open) this.load();
  }

  async load() {
    const request = ++this.request;
    this.panel.setAttribute('aria-busy', 'true');
    let content;
    let state;
    try {
      content = this.list(await api.audit(this.id, HISTORY_LIMIT));
      state = 'ready';
    } catch (failure) {
      content = h('p', { class: 'error', role: 'alert' }, `Could not load the history: ${describeError(failure)}`);
      state = 'error';
    }
    if (request !== this.request) return; // closed, or asked again, meanwhile
    this.panel.dataset.state = state;
    this.panel.setAttribute('aria-busy', 'false');
    replaceChildren(this.panel, content);
  }

  /** Newest first, as the server gives them: when, what (in words), by whom, and any detail. */
  list(entries) {
    if (entries.length === 0) return h('p', { class: 'empty' }, 'Nothing recorded yet.');
    const { idleCodes } = this.view;
    return h('ol', { class: 'history-list' }, entries.map((entry) => {
      const by = entry.byName ?? entry.by;
      // An idle code in the detail reads as its name ("Break"), as everywhere else.
      const detail = entry.detail && idleCodes.some((code) => code.id === entry.detail)
        ? idleWords(idleCodes, entry.detail) : entry.detail;
      return h('li', { 'data-audit': entry.action, 'data-at': entry.at },
        h('time', { class: 'numeric', datetime: new Date(entry.at).toISOString() }, dateTime(entry.at)),
        h('span', { class: 'history-action' }, AUDIT_WORDS[entry.action] ?? entry.action),
        by ? h('span', { class: 'history-by' }, `by ${by}`) : null,
        detail && detail !== entry.action ? h('span', { class: 'history-detail' }, detail) : null);
    }));
  }
}
