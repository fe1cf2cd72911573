// Past interactions — calls that are over and fully wrapped up — and their timelines: the
// supervisor's "Past interactions" panel (filters, a table) and the agent's "My recent calls".
// A list shows pages of GET /v1/interactions, newest first; More asks for the page after the last
// one shown (the answer's `next`, given back as `before`). A call's timeline is its
// GET /v1/tasks/{id}/history, opened in place under it. Nothing polls: a list loads when shown,
// when its filters change, on Refresh, and a moment after a call leaves the user's board, since
// the server records a call's summary shortly after its last wrap-up rather than with it.
import { api, describeError, recordingURL } from './api.js';
import { $, h, replaceChildren, setText } from './dom.js';
import { clockTime, dateTime, formatDuration, now, serverTime } from './time.js';
import { EVENT_WORDS, pastCallerText } from './words.js';

const DAY = 86_400_000;
/** After a call leaves the board, its summary is looked for after each of these pauses (ms). */
const SETTLE_PAUSES = [1000, 3000];

/** Newest first, as the server pages them: by end, then by id. */
function newer(a, b) {
  if (a.endedAt !== b.endedAt) return a.endedAt > b.endedAt;
  return a.id > b.id;
}

const iso = (milliseconds) => new Date(milliseconds).toISOString();

/**
 * One list of past interactions, in pages. root: the panel (its data-state says loading, ready
 * or error, and data-count how many are shown); list: where the rows go; more: the More button;
 * status: a role=status line; error: a role=alert line; pageSize; query(): the filters
 * ({from, to, queue, agent, wrapUpCode}), or null when they cannot be asked for (the caller says
 * why); render(interaction): its nodes (the first carries data-interaction); words: {empty, shown(n)}.
 */
export class PastList {
  constructor({ root, list, more, status, error, pageSize, query, render, words }) {
    Object.assign(this, { root, list, more, status, error, pageSize, query, render, words });
    this.items = []; // [{interaction, nodes}], newest first, as shown
    this.next = null; // the `before` of the page after the last one shown
    this.current = null; // the filters the shown rows answer
    this.generation = 0; // bumped by each reload: an answer to an older one is dropped
    this.loading = false;
    this.failed = false;
    this.settling = null;
    this.settleRound = 0;
    more.addEventListener('click', () => this.loadMore());
  }

  /** The first page for the filters as they are now; what was shown goes. */
  async reload() {
    const generation = ++this.generation;
    const query = this.query();
    this.current = query;
    this.next = null;
    setText(this.error, '');
    if (!query) {
      this.clear();
      this.failed = false;
      this.setLoading(false);
      return;
    }
    this.setLoading(true);
    try {
      const page = await api.interactions({ ...query, limit: this.pageSize });
      if (generation !== this.generation) return;
      this.clear();
      this.failed = false;
      this.add(page.interactions, { continuing: true });
      this.next = page.next ?? null;
    } catch (failure) {
      if (generation !== this.generation) return;
      this.clear(); // rows for other filters would mislead
      this.failed = true;
      setText(this.error, `Could not load past interactions: ${describeError(failure)}`);
    } finally {
      if (generation === this.generation) this.setLoading(false);
    }
  }

  /** The next page, after the last row shown. */
  async loadMore() {
    if (!this.next || this.loading) return;
    const generation = this.generation;
    this.setLoading(true);
    setText(this.error, '');
    try {
      const page = await api.interactions({ ...this.current, before: this.next, limit: this.pageSize });
      if (generation !== this.generation) return;
      this.add(page.interactions, { continuing: true });
      this.next = page.next ?? null;
    } catch (failure) {
      if (generation !== this.generation) return;
      setText(this.error, `Could not load more: ${describeError(failure)}`);
    } finally {
      if (generation === this.generation) this.setLoading(false);
    }
  }

  /**
   * Adds calls finished since the list loaded, in their places, keeping the rows (and any open
   * timeline) as they are; starts over when more are new than one page holds. True when any came.
   */
  async refreshNewest() {
    if (this.loading || !this.current) return false;
    const generation = this.generation;
    let page;
    try {
      page = await api.interactions({ ...this.current, limit: this.pageSize });
    } catch {
      return false; // quietly: this refresh was not asked for, and Refresh is at hand
    }
    if (generation !== this.generation || this.loading) return false;
    const shown = new Set(this.items.map((item) => item.interaction.id));
    const fresh = page.interactions.filter((interaction) => !shown.has(interaction.id));
    if (fresh.length === 0) return false;
    if (this.items.length === 0) {
      this.add(page.interactions, { continuing: true });
      this.next = page.next ?? null;
      this.failed = false; // the list is whole again
      setText(this.error, '');
    } else if (fresh.length === page.interactions.length && page.next) {
      await this.reload(); // a gap could lie between the new page and the rows shown
      return true;
    } else {
      this.add(fresh);
    }
    this.showStatus();
    return true;
  }

  /** Follows the user's board: a call leaving it may just have finished, so look a moment later. */
  follow(store) {
    let ids = new Set(store.list().map((task) => task.id));
    store.addEventListener('change', () => {
      const present = new Set(store.list().map((task) => task.id));
      const left = [...ids].some((id) => !present.has(id));
      ids = present;
      if (left) this.settle();
    });
  }

  settle(attempt = 0) {
    clearTimeout(this.settling);
    const round = ++this.settleRound; // a call leaving later starts the pauses over
    this.settling = setTimeout(async () => {
      const found = await this.refreshNewest();
      if (!found && round === this.settleRound && attempt + 1 < SETTLE_PAUSES.length) this.settle(attempt + 1);
    }, SETTLE_PAUSES[attempt]);
  }

  /**
   * Puts interactions in their places, newest first; one already shown is skipped. `continuing`:
   * they are the page after the rows shown. Otherwise (newly finished calls) one older than every
   * row shown while more pages remain is left for More, whose page will bring it.
   */
  add(interactions, { continuing = false } = {}) {
    for (const interaction of interactions) {
      if (this.items.some((item) => item.interaction.id === interaction.id)) continue;
      let index = this.items.findIndex((item) => newer(interaction, item.interaction));
      if (index === -1) {
        if (!continuing && this.next) continue;
        index = this.items.length;
      }
      const nodes = [this.render(interaction)].flat();
      const before = this.items[index]?.nodes[0] ?? null;
      for (const node of nodes) this.list.insertBefore(node, before);
      this.items.splice(index, 0, { interaction, nodes });
    }
  }

  clear() {
    this.items = [];
    replaceChildren(this.list);
  }

  setLoading(loading) {
    this.loading = loading;
    this.list.setAttribute('aria-busy', String(loading));
    this.more.disabled = loading;
    if (loading) {
      this.root.dataset.state = 'loading';
      setText(this.status, 'Loading…');
    } else {
      this.showStatus();
    }
  }

  showStatus() {
    this.root.dataset.state = this.failed ? 'error' : 'ready';
    this.root.dataset.count = String(this.items.length);
    this.more.hidden = !this.next || this.failed;
    let text = ''; // nothing asked for (the filters say why), or a failure (the alert says it)
    if (this.current && !this.failed) {
      text = this.items.length === 0 ? this.words.empty : this.words.shown(this.items.length, Boolean(this.next));
    }
    setText(this.status, text);
  }
}

let timelines = 0;

/**
 * One call's timeline, opened in place by its button (aria-expanded) and fetched afresh each time
 * it opens. `holder` is what shows and hides (the panel itself, or a table row around it).
 */
export class Timeline {
  constructor(interaction, about) {
    timelines += 1;
    this.id = interaction.id;
    this.recorded = Boolean(interaction.recording);
    this.open = false;
    this.request = 0;
    const panelId = `timeline-${timelines}`;
    this.panel = h('div', { class: 'timeline', id: panelId, 'data-timeline': interaction.id, role: 'region', 'aria-label': `Timeline of ${about}` });
    this.button = h('button', {
      type: 'button',
      class: 'small',
      'data-past': 'timeline',
      'aria-expanded': 'false',
      'aria-controls': panelId,
      'aria-label': `Timeline of ${about}`,
      onclick: () => this.toggle(),
    }, 'Timeline');
    this.holder = this.panel;
    this.holder.hidden = true;
  }

  /** Shows and hides `holder` (which contains the panel) instead of the panel alone. */
  within(holder) {
    this.panel.hidden = false;
    this.holder = holder;
    holder.hidden = true;
    return holder;
  }

  toggle() {
    if (this.open) this.close();
    else this.show();
  }

  close() {
    this.open = false;
    this.request += 1;
    this.holder.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    setText(this.button, 'Timeline');
  }

  async show() {
    this.open = true;
    const request = ++this.request;
    this.holder.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    setText(this.button, 'Hide timeline');
    this.panel.dataset.state = 'loading';
    this.panel.setAttribute('aria-busy', 'true');
    replaceChildren(this.panel, h('p', { class: 'hint' }, 'Loading the timeline…'));
    let content;
    let state;
    try {
      content = timelineList(await api.history(this.id));
      state = 'ready';
    } catch (failure) {
      if (failure.code === 'historyNotKept') {
        // The server says how long history is kept: its words, not ours.
        content = h('p', { class: 'notice', 'data-history': 'notKept' }, `No timeline: ${failure.message}.`);
        state = 'notKept';
      } else {
        content = h('p', { class: 'error', role: 'alert' }, `Could not load the timeline: ${describeError(failure)}`);
        state = 'error';
      }
    }
    if (request !== this.request) return; // closed (or opened again) meanwhile
    this.panel.dataset.state = state;
    this.panel.setAttribute('aria-busy', 'false');
    // The call's recording, played from the server (seekable: it answers byte ranges). An <audio>
    // element sends no headers, so the session's token goes in the address, as for the event stream.
    const recording = this.recorded
      ? h('p', { class: 'recording-player' }, 'Recording: ',
        h('audio', { controls: true, preload: 'none', 'data-recording': this.id, src: recordingURL(this.id) }))
      : null;
    replaceChildren(this.panel, recording, content);
  }
}

/** The history entries in order: the clock time, the time since the first, the event, its details. */
function timelineList(entries) {
  if (entries.length === 0) return h('p', { class: 'empty' }, 'No events were recorded for this call.');
  const start = entries[0].at;
  return h('ol', { class: 'timeline-list' }, entries.map((entry) =>
    h('li', { 'data-event': entry.event, 'data-at': entry.at },
      h('time', { class: 'numeric', datetime: iso(entry.at) }, clockTime(entry.at)),
      h('span', { class: 'timeline-offset numeric', title: 'Since the call arrived' }, `+${formatDuration(entry.at - start)}`),
      h('span', { class: 'timeline-event' }, EVENT_WORDS[entry.event] ?? entry.event),
      // An event without fields is described by its bare name: nothing to add to the words.
      entry.detail && entry.detail !== entry.event ? h('span', { class: 'timeline-detail' }, entry.detail) : null)));
}

/** The agents on a call, each with the wrap-up reason they gave. */
function handledBy(interaction, { names, wrapUpNames, me = null }) {
  if (interaction.agents.length === 0) return h('span', { class: 'empty' }, 'No agent');
  return h('ul', { class: 'past-agents' }, interaction.agents.map((handling) => {
    const reason = handling.wrapUpCodeId ? wrapUpNames.get(handling.wrapUpCodeId) ?? handling.wrapUpCodeId : null;
    return h('li', { 'data-agent': handling.agentId, 'data-wrapup': handling.wrapUpCodeId ?? '' },
      h('span', { class: 'party-name' }, names.get(handling.agentId) ?? handling.agentId),
      handling.agentId === me ? h('span', { class: 'party-note' }, 'you') : null,
      ' — ',
      h('span', { class: 'past-reason' }, reason ?? 'no wrap-up reason'));
  }));
}

/** Arrival to the last wrap-up, as the summary counts the call. */
const DURATION_HELP = 'From the call’s arrival to its last wrap-up';

/** "yyyy-mm-dd" (a date input's value) → that day's midnight on this browser's clock. */
function midnight(value, days = 0) {
  const [year, month, day] = value.split('-').map(Number);
  return new Date(year, month - 1, day + days).getTime();
}

function today() {
  const date = new Date();
  return [date.getFullYear(), date.getMonth() + 1, date.getDate()].map((part) => String(part).padStart(2, '0')).join('-');
}

/**
 * The supervisor's "Past interactions": every finished call, filtered by when it ended (today,
 * the last 7 or 30 days, any time kept, or custom dates), queue, agent and wrap-up reason.
 */
export class PastInteractionsPanel {
  constructor({ store, names, queueNames, wrapUpCodes }) {
    this.names = names;
    this.queueNames = queueNames;
    this.wrapUpNames = new Map(wrapUpCodes.map((code) => [code.id, code.name]));
    this.range = $('#sv-past-range');
    this.from = $('#sv-past-from');
    this.to = $('#sv-past-to');
    this.queue = $('#sv-past-queue');
    this.agent = $('#sv-past-agent');
    this.wrapUp = $('#sv-past-wrapup');
    const choices = (everything, entries) =>
      [h('option', { value: '' }, everything), [...entries].map(([id, name]) => h('option', { value: id }, name))];
    replaceChildren(this.queue, choices('All queues', queueNames));
    replaceChildren(this.agent, choices('All agents', names));
    replaceChildren(this.wrapUp, choices('All reasons', this.wrapUpNames));
    this.list = new PastList({
      root: $('#sv-past'),
      list: $('#sv-past-table tbody'),
      more: $('#sv-past-more'),
      status: $('#sv-past-status'),
      error: $('#sv-past-error'),
      pageSize: 25,
      query: () => this.query(),
      render: (interaction) => this.row(interaction),
      words: {
        empty: 'No past interactions match these filters.',
        shown: (count, more) => `${count} past interaction${count === 1 ? '' : 's'} shown${more ? '; More shows older ones' : ''}.`,
      },
    });
    $('#sv-past-filters').addEventListener('change', (event) => {
      if (event.target === this.range && this.range.value === 'custom') {
        if (!this.from.value) this.from.value = today();
        if (!this.to.value) this.to.value = today();
      }
      this.list.reload();
    });
    $('#sv-past-filters').addEventListener('submit', (event) => {
      event.preventDefault();
      this.list.reload();
    });
    $('#sv-past-refresh').addEventListener('click', () => this.list.reload());
    this.list.follow(store);
    this.list.reload();
  }

  /** The filters as the API takes them; null (and the reason in words) when the dates cannot be. */
  query() {
    const range = this.range.value;
    const custom = range === 'custom';
    $('#sv-past-from-field').hidden = !custom;
    $('#sv-past-to-field').hidden = !custom;
    const query = { queue: this.queue.value, agent: this.agent.value, wrapUpCode: this.wrapUp.value };
    setText($('#sv-past-range-error'), '');
    if (range === 'today') query.from = serverTime(midnight(today()));
    else if (range === '7d') query.from = now() - 7 * DAY;
    else if (range === '30d') query.from = now() - 30 * DAY;
    else if (custom) {
      // Whole days: from the first day's midnight to the midnight after the last day.
      if (this.from.value) query.from = serverTime(midnight(this.from.value));
      if (this.to.value) query.to = serverTime(midnight(this.to.value, 1));
      if (query.from !== undefined && query.to !== undefined && query.from >= query.to) {
        setText($('#sv-past-range-error'), 'The first day is after the last day: change one of them.');
        return null;
      }
    }
    return query;
  }

  row(interaction) {
    const ended = dateTime(interaction.endedAt);
    const timeline = new Timeline(interaction, `the call from ${pastCallerText(interaction)} that ended ${ended}`);
    const row = h('tr', { 'data-interaction': interaction.id, 'data-queue': interaction.queue, 'data-ended-at': interaction.endedAt },
      h('th', { scope: 'row', class: 'numeric' }, h('time', { datetime: iso(interaction.endedAt) }, ended)),
      h('td', {}, this.queueNames.get(interaction.queue) ?? interaction.queue),
      h('td', { class: 'numeric' }, pastCallerText(interaction)),
      h('td', {}, handledBy(interaction, { names: this.names, wrapUpNames: this.wrapUpNames })),
      h('td', { class: 'numeric', title: DURATION_HELP }, formatDuration(interaction.endedAt - interaction.arrivedAt)),
      h('td', {}, timeline.button));
    const detail = timeline.within(h('tr', { class: 'timeline-row', 'data-timeline-for': interaction.id },
      h('td', { colspan: 6 }, timeline.panel)));
    return [row, detail];
  }
}

/** The agent's "My recent calls": their own finished calls, a few at a time. */
export class RecentCalls {
  constructor({ agentId, store, names, queueNames, wrapUpCodes }) {
    this.agentId = agentId;
    this.names = names;
    this.queueNames = queueNames;
    this.wrapUpNames = new Map(wrapUpCodes.map((code) => [code.id, code.name]));
    this.list = new PastList({
      root: $('#recent-calls'),
      list: $('#recent-list'),
      more: $('#recent-more'),
      status: $('#recent-status'),
      error: $('#recent-error'),
      pageSize: 5,
      query: () => ({}), // the server lists an agent's own calls only
      render: (interaction) => this.item(interaction),
      words: {
        empty: 'No finished calls yet.',
        shown: (count, more) => (more ? `The latest ${count}; More shows older ones.` : `${count} call${count === 1 ? '' : 's'}.`),
      },
    });
    $('#recent-refresh').addEventListener('click', () => this.list.reload());
    this.list.follow(store);
    this.list.reload();
  }

  item(interaction) {
    const ended = dateTime(interaction.endedAt);
    const queue = this.queueNames.get(interaction.queue) ?? interaction.queue;
    const mine = interaction.agents.find((handling) => handling.agentId === this.agentId);
    const reason = mine?.wrapUpCodeId ? this.wrapUpNames.get(mine.wrapUpCodeId) ?? mine.wrapUpCodeId : 'no wrap-up reason';
    const others = interaction.agents.filter((handling) => handling.agentId !== this.agentId)
      .map((handling) => this.names.get(handling.agentId) ?? handling.agentId);
    const timeline = new Timeline(interaction, `the call from ${pastCallerText(interaction)} that ended ${ended}`);
    return h('li', { class: 'recent-call', 'data-interaction': interaction.id, 'data-queue': interaction.queue,
      'data-ended-at': interaction.endedAt, 'data-wrapup': mine?.wrapUpCodeId ?? '' },
    h('p', { class: 'recent-line' },
      h('strong', { class: 'numeric' }, pastCallerText(interaction)), ' · ', queue),
    h('p', { class: 'recent-facts' },
      h('time', { class: 'numeric', datetime: iso(interaction.endedAt) }, ended), ' · ',
      h('span', { class: 'numeric', title: DURATION_HELP }, formatDuration(interaction.endedAt - interaction.arrivedAt)), ' · ',
      h('span', { class: 'past-reason' }, reason)),
    others.length ? h('p', { class: 'recent-with' }, `With ${others.join(', ')}`) : null,
    timeline.button,
    timeline.panel);
  }
}
