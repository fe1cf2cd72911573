// The Wrap Up Reasons dialog of the agent's desktop.
import { api, describeError } from './api.js';
import { $, h, replaceChildren, setText } from './dom.js';
import { entryOf, statusWords } from './taskcard.js';
import { callerText } from './words.js';

/**
 * The Wrap Up Reasons dialog: shown exactly while a call says wrapUpRequired (the agent owes the
 * wrap-up), never otherwise. Not modal: in wrap-up assist the agent may still be talking to the
 * other agent and needs the End control.
 */
export class WrapUpDialog {
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
