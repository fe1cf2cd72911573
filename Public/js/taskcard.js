// One call on the agent's desktop: its header, the offer, the controls the server allows, the
// destination picker (picker.js) and the participants, updated in place as the task changes.
import { ACTIONS, actionFor, labelFor, shortcutOf } from './actions.js';
import { api, describeError } from './api.js';
import { h, replaceChildren, setText } from './dom.js';
import { fillParticipants, participantTable } from './participants.js';
import { DestinationPicker } from './picker.js';
import { tick } from './time.js';
import { MONITOR_WORDS, STATUS_WORDS, callerText } from './words.js';

/** The viewer's own (latest) entry among the task's participants. */
export function entryOf(task, agentId) {
  let mine = null;
  for (const participant of task.participants) if (participant.agentId === agentId) mine = participant;
  return mine;
}

/** The status as this agent should read it. */
export function statusWords(task, mine) {
  if (mine && mine.state === 'left' && task.status !== 'ended') return 'You left the call — wrap-up';
  if (task.status === 'ended' && task.wrapUpRequired) return 'Call ended — wrap-up';
  return STATUS_WORDS[task.status] ?? task.status;
}

/**
 * Ringing for this agent with no Accept to press: the agent's station is their phone, and
 * answering the phone accepts (the server leaves accept out of allowedActions then).
 */
export function ringsOnPhone(task, mine) {
  const accept = task.allowedActions.includes('accept') || task.allowedActions.includes('consult/accept');
  return !accept && mine?.state === 'ringing';
}

/** One call: its header, offer, controls, picker and participants, updated in place. */
export class TaskCard {
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
    // Recording: a red dot while the call is recorded, "paused" while the owner has paused it.
    this.recording = h('span', { class: 'recording-indicator', 'data-recording': 'off', hidden: true, role: 'status' });
    this.offer = h('p', { class: 'offer', hidden: true });
    this.controls = h('div', { class: 'controls', role: 'group', 'aria-label': 'Call controls' });
    // In Accept's place when the offer rings the agent's phone (their station): the phone answers it.
    this.phoneLine = h('p', { class: 'answer-on-phone', 'data-answer': 'phone', hidden: true },
      h('strong', {}, 'Answer on your phone'), ' — it is ringing now.');
    this.controls.append(this.phoneLine);
    this.error = h('p', { class: 'error', role: 'alert' });
    this.picker = new DestinationPicker(this);
    this.note = h('p', { class: 'task-note', hidden: true });
    // A supervisor on the call, when the server shows it to agents (a barge always).
    this.supervisorNote = h('p', { class: 'supervisor-note', 'data-supervisor': '', hidden: true });
    this.table = participantTable(task, this.participantContext());
    this.element = h(
      'article',
      { class: 'card task-card', 'data-task-id': task.id, 'data-status': task.status, 'aria-labelledby': titleId },
      h('header', { class: 'task-head' },
        this.title,
        this.status,
        h('p', { class: 'task-facts' }, this.queue, this.clockLine, this.recording)),
      this.offer,
      this.controls,
      this.error,
      this.picker.element,
      this.note,
      this.supervisorNote,
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
    const recording = task.recording ?? 'off';
    this.recording.hidden = recording === 'off';
    this.recording.dataset.recording = recording;
    setText(this.recording, recording === 'paused' ? 'Recording paused' : recording === 'on' ? 'Recording' : '');
    const supervisor = (task.supervisors ?? []).find((entry) => entry.state === 'connected');
    this.supervisorNote.hidden = !supervisor;
    this.supervisorNote.dataset.supervisor = supervisor?.mode ?? '';
    const words = supervisor ? MONITOR_WORDS[supervisor.mode] : null;
    setText(this.supervisorNote, words ? (mine?.role === 'owner' ? words.agentNote : words.othersNote) : '');
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
