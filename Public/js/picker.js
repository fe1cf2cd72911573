// Where a consult or a blind transfer goes: an agent (with their live state), a queue or a number.
import { actionFor } from './actions.js';
import { api, describeError } from './api.js';
import { h, replaceChildren, setText } from './dom.js';
import { AGENT_STATE_WORDS, idleWords } from './words.js';

/** Where a consult or a blind transfer goes: an agent (with their live state), a queue or a number. */
export class DestinationPicker {
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
