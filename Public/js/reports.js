// The supervisor's Reports: pick a range (days), an interval, a queue and a team; the queues' figures
// per interval in a table (docs/reports.md has each definition), the team's agents over the range in
// another, four charts drawn by charts.js (service level and abandons per interval, the handle time
// split into talk, hold and wrap-up, occupancy per agent), and the same rows as CSV. Our own small SVG charts rather than a vendored library: four
// bar charts need a few dozen lines, and the page stays one set of files with no build step.
import { api, describeError } from './api.js';
import { drawBarChart } from './charts.js';
import { $, h, replaceChildren, setText } from './dom.js';
import { clockTime, dateTime, formatDuration, serverTime } from './time.js';

const DAY = 86_400_000;

function percent(value) {
  return value === null || value === undefined ? '—' : `${Math.round(value * 100)} %`;
}

function seconds(ms) {
  return ms === null || ms === undefined ? '—' : `${Math.round(ms / 1000)} s`;
}

/** A date input's value (local midnight) as ms. */
function localMidnight(text) {
  const [year, month, day] = text.split('-').map(Number);
  return new Date(year, month - 1, day).getTime();
}

function dateValue(ms) {
  const date = new Date(ms);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

export class ReportsPanel {
  constructor({ queueNames, names }) {
    this.queueNames = queueNames;
    this.names = names;
    this.from = $('#rp-from');
    this.to = $('#rp-to');
    this.interval = $('#rp-interval');
    this.queue = $('#rp-queue');
    this.team = $('#rp-team');
    this.error = $('#rp-error');
    const today = dateValue(Date.now());
    this.from.value = today;
    this.to.value = today;
    replaceChildren(this.queue, h('option', { value: '' }, 'Every queue'),
      [...queueNames].map(([id, name]) => h('option', { value: id }, name)));
    $('#rp-show').addEventListener('click', () => this.show());
    $('#rp-csv').addEventListener('click', () => this.download('queues'));
    $('#rp-csv-agents').addEventListener('click', () => this.download('agents'));
    this.loadTeams();
  }

  /** The teams to pick from: those of the center's agents. */
  async loadTeams() {
    try {
      const teams = [...new Set((await api.agents()).map((agent) => agent.team))].sort();
      replaceChildren(this.team, h('option', { value: '' }, 'Every team'), teams.map((team) => h('option', { value: team }, team)));
    } catch {
      // Left at "Every team": the report itself says what failed if the server is away.
    }
  }

  /** The agents' query: the range by day (summed over the range on this page), the team picked. */
  agentQuery(query) {
    const agents = { from: query.from, to: query.to, interval: 'day' };
    if (this.team.value) agents.team = this.team.value;
    return agents;
  }

  query() {
    // The days picked, from this browser's midnight, on the server's clock.
    const from = serverTime(localMidnight(this.from.value));
    const to = serverTime(localMidnight(this.to.value) + DAY);
    if (!(from < to)) throw new Error('the range ends before it starts');
    const query = { from: String(from), to: String(to), interval: this.interval.value };
    if (this.queue.value) query.queue = this.queue.value;
    return query;
  }

  async show() {
    setText(this.error, '');
    $('#reports').dataset.state = 'loading';
    try {
      const query = this.query();
      const [queues, agents] = await Promise.all([
        api.queueReport(query),
        api.agentReport(this.agentQuery(query)),
      ]);
      this.render(queues.rows, agents.rows, query.interval);
      $('#reports').dataset.state = 'ready';
    } catch (failure) {
      setText(this.error, `Could not make the report: ${describeError(failure)}`);
      $('#reports').dataset.state = 'error';
    }
  }

  render(rows, agentRows, interval) {
    const when = (row) => (interval === 'day' ? dateTime(row.start).split(' ')[0] : `${dateTime(row.start)}`);
    const body = rows.map((row) =>
      h('tr', { 'data-queue': row.queueId, 'data-start': row.start },
        h('th', { scope: 'row' }, when(row)),
        h('td', {}, this.queueNames.get(row.queueId) ?? row.queueId),
        h('td', { class: 'numeric', 'data-figure': 'offered' }, row.offered),
        h('td', { class: 'numeric', 'data-figure': 'answered' }, row.answered),
        h('td', { class: 'numeric', 'data-figure': 'abandoned' }, row.abandoned),
        h('td', { class: 'numeric', 'data-figure': 'serviceLevel' }, percent(row.serviceLevel)),
        h('td', { class: 'numeric', 'data-figure': 'asa' }, seconds(row.averageSpeedOfAnswerMs)),
        h('td', { class: 'numeric', 'data-figure': 'aht' }, seconds(row.averageHandleTimeMs))));
    replaceChildren($('#rp-table tbody'), body);
    $('#rp-empty').hidden = rows.length > 0;

    const label = (row) => `${interval === 'day' ? dateTime(row.start).split(' ')[0] : clockTime(row.start)} ${row.queueId}`;
    drawBarChart($('#rp-chart-level'),
      rows.filter((row) => row.serviceLevel !== null).map((row) => ({
        id: `${row.queueId}-${row.start}`, label: label(row), value: Math.round(row.serviceLevel * 100), text: percent(row.serviceLevel),
      })), { emptyText: 'No call left a queue in this range.', about: 'Service level per interval.' });
    drawBarChart($('#rp-chart-abandoned'),
      rows.map((row) => ({ id: `${row.queueId}-${row.start}`, label: label(row), value: row.abandoned, text: `${row.abandoned} of ${row.offered}` })),
      { emptyText: 'No calls in this range.', about: 'Abandoned of offered per interval.' });
    // The handle time's parts over the whole range: weighted by the contacts handled.
    const handled = rows.reduce((sum, row) => sum + row.handled, 0);
    const part = (key) => (handled ? rows.reduce((sum, row) => sum + (row[key] ?? 0) * row.handled, 0) / handled : 0);
    drawBarChart($('#rp-chart-aht'), [
      { id: 'talk', label: 'Talk', value: Math.round(part('averageTalkMs') / 1000), text: seconds(part('averageTalkMs')) },
      { id: 'hold', label: 'Hold', value: Math.round(part('averageHoldMs') / 1000), text: seconds(part('averageHoldMs')) },
      { id: 'wrapup', label: 'Wrap-up', value: Math.round(part('averageWrapUpMs') / 1000), text: seconds(part('averageWrapUpMs')) },
    ], { emptyText: 'No call handled in this range.', about: 'Average handle time, split.' });
    const byAgent = new Map();
    for (const row of agentRows) {
      const sum = byAgent.get(row.agentId) ?? {
        team: row.teamId, onContact: 0, available: 0, onCall: 0, wrapUp: 0, idle: 0, answered: 0,
      };
      sum.onContact += row.ringingMs + row.onCallMs + row.wrapUpMs;
      sum.available += row.availableMs;
      sum.onCall += row.onCallMs;
      sum.wrapUp += row.wrapUpMs;
      sum.idle += row.idleMs;
      sum.answered += row.answered;
      byAgent.set(row.agentId, sum);
    }
    const duration = (ms) => (ms ? formatDuration(ms) : '0:00');
    replaceChildren($('#rp-agents tbody'), [...byAgent].sort(([a], [b]) => a.localeCompare(b)).map(([agent, sum]) => {
      const total = sum.onContact + sum.available;
      return h('tr', { 'data-agent': agent },
        h('th', { scope: 'row' }, this.names.get(agent) ?? agent),
        h('td', {}, sum.team),
        h('td', { class: 'numeric', 'data-figure': 'answered' }, sum.answered),
        h('td', { class: 'numeric', 'data-figure': 'available' }, duration(sum.available)),
        h('td', { class: 'numeric', 'data-figure': 'onCall' }, duration(sum.onCall)),
        h('td', { class: 'numeric', 'data-figure': 'wrapUp' }, duration(sum.wrapUp)),
        h('td', { class: 'numeric', 'data-figure': 'idle' }, duration(sum.idle)),
        h('td', { class: 'numeric', 'data-figure': 'occupancy' }, total ? percent(sum.onContact / total) : '—'),
        // The agent's own handle time: on calls and wrap-up per answered offer or consult.
        h('td', { class: 'numeric', 'data-figure': 'aht' }, sum.answered ? seconds((sum.onCall + sum.wrapUp) / sum.answered) : '—'));
    }));
    drawBarChart($('#rp-chart-occupancy'),
      [...byAgent].filter(([, sum]) => sum.onContact + sum.available > 0).map(([agent, sum]) => {
        const occupancy = sum.onContact / (sum.onContact + sum.available);
        return { id: agent, label: this.names.get(agent) ?? agent, value: Math.round(occupancy * 100), text: percent(occupancy) };
      }), { emptyText: 'No agent was available or on a call in this range.', about: 'Occupancy per agent.' });
  }

  async download(kind) {
    setText(this.error, '');
    try {
      const query = this.query();
      const text = await api.reportCSV(kind, kind === 'agents' ? this.agentQuery(query) : query);
      const link = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })), download: `${kind}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (failure) {
      setText(this.error, `Could not download the report: ${describeError(failure)}`);
    }
  }
}
