// The participant list of a task, shared by the agent's call card and the supervisor's view.
// Each row carries data-party ("customer", the agent's id or the dialled number), data-role and
// data-state, and the time on the call (ticking while they are on it).
import { h, replaceChildren } from './dom.js';
import { formatDuration } from './time.js';
import { PARTY_STATE_WORDS, ROLE_WORDS, callerText } from './words.js';

/** The parties as rows: the customer first, then each agent or number once (their latest entry). */
export function partyRows(task) {
  const latest = new Map();
  for (const participant of task.participants) {
    latest.set(participant.agentId ?? `number:${participant.number}`, participant);
  }
  return [
    { kind: 'customer', party: 'customer', role: 'customer', state: task.customer.state, number: callerText(task.customer) },
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
 * A <table> of the task's parties. context: { me, names (id → display name) }. The customer's
 * time on the call runs from the task's arrivedAt to customer.leftAt, both in the snapshot.
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

export function fillParticipants(body, task, { me = null, names = new Map() } = {}) {
  const arrived = task.arrivedAt ?? null;
  const customerLeft = task.customer.leftAt ?? null; // present once the customer has left
  const rows = partyRows(task).map((row) => {
    let who;
    let clock;
    if (row.kind === 'customer') {
      who = [h('span', { class: 'party-name' }, row.number), h('span', { class: 'party-note' }, 'customer')];
      if (row.state !== 'left' && arrived) clock = h('span', { 'data-elapsed-from': arrived }, '');
      else if (arrived && customerLeft) clock = formatDuration(customerLeft - arrived);
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
