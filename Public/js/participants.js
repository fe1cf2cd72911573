// The participant list of a task, shared by the agent's call card and the supervisor's view.
// Each row carries data-party ("customer", the agent's id or the dialled number), data-role and
// data-state, and the time on the call (ticking while they are on it).
import { h, replaceChildren } from './dom.js';
import { formatDuration } from './time.js';
import { PARTY_STATE_WORDS, ROLE_WORDS } from './words.js';

/** The parties as rows: the customer first, then each agent or number once (their latest entry). */
export function partyRows(task) {
  const latest = new Map();
  for (const participant of task.participants) {
    latest.set(participant.agentId ?? `number:${participant.number}`, participant);
  }
  return [
    { kind: 'customer', party: 'customer', role: 'customer', state: task.customer.state, number: task.customer.number },
    ...[...latest.values()].map((participant) => ({
      kind: participant.agentId ? 'agent' : 'number',
      party: participant.agentId ?? participant.number,
      role: participant.role,
      state: participant.state,
      joinedAt: participant.joinedAt,
      since: participant.since,
      number: participant.number,
    })),
  ];
}

/**
 * A <table> of the task's parties. context: { me, names (id → display name), times (task id →
 * {arrived, customerLeft} from the task's history) }.
 */
export function participantTable(task, context) {
  const body = h('tbody');
  fillParticipants(body, task, context);
  return h(
    'table',
    { class: 'participants' },
    h('caption', { class: 'visually-hidden' }, 'Participants'),
    h(
      'thead',
      {},
      h('tr', {}, h('th', { scope: 'col' }, 'Party'), h('th', { scope: 'col' }, 'Role'),
        h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'On call')),
    ),
    body,
  );
}

export function fillParticipants(body, task, { me = null, names = new Map(), times = new Map() } = {}) {
  const known = times.get(task.id) ?? {};
  const earliest = Math.min(...task.participants.map((participant) => participant.joinedAt));
  const rows = partyRows(task).map((row) => {
    let who;
    let clock;
    if (row.kind === 'customer') {
      who = [h('span', { class: 'party-name' }, row.number), h('span', { class: 'party-note' }, 'customer')];
      const arrived = known.arrived ?? (Number.isFinite(earliest) ? earliest : null);
      if (row.state !== 'left' && arrived) clock = h('span', { 'data-elapsed-from': arrived }, '');
      else if (arrived && known.customerLeft) clock = formatDuration(known.customerLeft - arrived);
      else clock = '—';
    } else {
      const name = row.kind === 'agent' ? names.get(row.party) ?? row.party : row.number;
      who = [
        h('span', { class: 'party-name' }, name),
        row.party === me ? h('span', { class: 'party-note' }, 'you') : null,
        row.kind === 'number' ? h('span', { class: 'party-note' }, 'dialled number') : null,
      ];
      clock = row.state === 'left'
        ? formatDuration(row.since - row.joinedAt)
        : h('span', { 'data-elapsed-from': row.joinedAt }, '');
    }
    return h(
      'tr',
      { 'data-party': row.party, 'data-role': row.role, 'data-state': row.state },
      h('th', { scope: 'row' }, who),
      h('td', {}, ROLE_WORDS[row.role] ?? row.role),
      h('td', {}, h('span', { class: `state-dot state-${row.state}` }, PARTY_STATE_WORDS[row.state] ?? row.state)),
      h('td', { class: 'numeric' }, clock),
    );
  });
  replaceChildren(body, rows);
}

/** When the customer arrived and left, read once from the task's history (the snapshot lacks them). */
export function timesFromHistory(history) {
  const arrived = history.find((entry) => entry.event === 'arrived')?.at;
  // The customer hangs up, or the agent's End / End Conference drops them; a hand-off to an
  // outside number is the last event of the call.
  const leaving = ['customerLeft', 'endedByOwner', 'conferenceEnded'];
  const customerLeft = history.find((entry) => leaving.includes(entry.event))?.at ?? history.at(-1)?.at;
  return { arrived, customerLeft };
}

/**
 * Each task's customer times, fetched from its history once (and once more when the customer
 * leaves, to learn when). `loaded(taskId)` is called when new times arrive.
 */
export class CallTimes {
  constructor(fetchHistory, loaded) {
    this.fetchHistory = fetchHistory;
    this.loaded = loaded;
    this.byTask = new Map();
    this.inFlight = new Set();
  }

  get map() {
    return this.byTask;
  }

  ensure(task) {
    const known = this.byTask.get(task.id);
    const leftUnknown = task.customer.state === 'left' && !(known && known.leftChecked);
    if ((known && !leftUnknown) || this.inFlight.has(task.id)) return;
    this.inFlight.add(task.id);
    const leftChecked = task.customer.state === 'left';
    this.fetchHistory(task.id)
      .then((history) => this.byTask.set(task.id, { ...timesFromHistory(history), leftChecked }))
      .catch(() => this.byTask.set(task.id, { ...(known ?? {}), leftChecked }))
      .finally(() => {
        this.inFlight.delete(task.id);
        this.loaded(task.id);
      });
  }

  forget(id) {
    this.byTask.delete(id);
  }
}
