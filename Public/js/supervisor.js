// The supervisor's view: every agent's state and time in it, each queue's waiting calls and
// longest wait, every call in progress with its participants, and two charts. Agents and calls
// come from the stream alone: fetched afresh each time it is ready (Sync calls `refetch` and
// refreshes the tasks), then kept live by its messages, so nothing is missed and nothing polls
// them. Queues and today's wrap-ups are polled every 2 s (the stream does not carry them), which
// also gives the waiting chart its samples. Below them, the calls that are over: Past
// interactions (past.js), filtered and paged, each with its timeline.
import { api, describeError } from './api.js';
import { drawBarChart, drawLineChart } from './charts.js';
import { $, h, replaceChildren, setText } from './dom.js';
import { fillParticipants, participantTable } from './participants.js';
import { PastInteractionsPanel } from './past.js';
import { clockTime, now, tick } from './time.js';
import { AGENT_STATE_WORDS, STATUS_WORDS } from './words.js';

const SAMPLE_EVERY = 2000;
const CHART_WINDOW = 10 * 60 * 1000;

export class SupervisorView {
  constructor({ store, names, queueNames, idleCodes, wrapUpCodes }) {
    this.store = store;
    this.names = names;
    this.queueNames = queueNames;
    this.idleNames = new Map(idleCodes.map((code) => [code.id, code.name]));
    this.wrapUpCodes = wrapUpCodes;
    this.agents = new Map();
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
  }

  showMe() {} // a supervisor has no agent state

  /** An agent's state changed (stream). */
  onAgent(view) {
    if (this.remember(view)) this.renderAgents();
  }

  /**
   * Every agent's state, fetched each time the stream is ready (after the server subscribed us,
   * so no change falls between the list and the messages that follow it). Sync holds the
   * stream's messages until this is in; a failure makes Sync try the whole refresh again.
   */
  async refetch() {
    const agents = await api.agents();
    for (const agent of agents) this.remember(agent);
    this.renderAgents();
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

  renderAgents() {
    const rows = [...this.agents.values()].sort((a, b) => a.id.localeCompare(b.id)).map((agent) => {
      const idle = agent.state === 'idle' && agent.idleCodeId ? ` · ${this.idleNames.get(agent.idleCodeId) ?? agent.idleCodeId}` : '';
      const since = agent.state === 'loggedOut' || !agent.since
        ? '—'
        : h('span', { 'data-elapsed-from': agent.since }, '');
      return h('tr', { 'data-agent': agent.id, 'data-state': agent.state },
        h('th', { scope: 'row' }, agent.displayName ?? agent.id),
        h('td', {}, agent.team ?? ''),
        h('td', {}, h('span', { class: 'state-badge small', 'data-state': agent.state }, `${AGENT_STATE_WORDS[agent.state] ?? agent.state}${idle}`)),
        h('td', { class: 'numeric' }, since));
    });
    replaceChildren($('#sv-agents tbody'), rows);
    tick($('#sv-agents'));
  }

  renderQueues() {
    const rows = this.queues.map((queue) =>
      h('tr', { 'data-queue': queue.id, 'data-waiting': queue.waiting },
        h('th', { scope: 'row' }, queue.name),
        h('td', { class: 'numeric' }, queue.waiting),
        h('td', { class: 'numeric' }, queue.longestWaitSince ? h('span', { 'data-elapsed-from': queue.longestWaitSince }, '') : '—')));
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
      this.refreshParticipants(task.id);
    }
    $('#sv-no-calls').hidden = tasks.length > 0;
  }

  callCard(task) {
    const status = h('span', { class: 'status-pill' });
    const queue = h('span', { class: 'task-queue' });
    const table = participantTable(task, {});
    const element = h('article', { class: 'sv-call', 'data-task-id': task.id },
      h('header', { class: 'task-head' },
        h('h3', { class: 'task-title' }, `Call from ${task.customer.number}`), status, h('p', { class: 'task-facts' }, queue)),
      table);
    return { element, status, queue, table, task };
  }

  refreshParticipants(id) {
    const card = this.cards.get(id);
    if (!card) return;
    fillParticipants(card.table.tBodies[0], card.task, { names: this.names });
    tick(card.table);
  }
}
