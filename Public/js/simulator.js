// The demo simulator panel, shown only when /health says the server runs its call simulator:
// a customer calls a queue, the customer of a call hangs up, an agent's phone hangs up.
import { api, describeError } from './api.js';
import { $, h, replaceChildren, setText } from './dom.js';
import { STATUS_WORDS, callerText } from './words.js';

export class SimulatorPanel {
  constructor({ store, queues, agents, me }) {
    this.store = store;
    this.queueNames = new Map(queues.map((queue) => [queue.id, queue.name]));
    replaceChildren($('#sim-queue'), queues.map((queue) => h('option', { value: queue.id }, queue.name)));
    replaceChildren($('#sim-agent'), agents.map((agent) => h('option', { value: agent.id }, agent.displayName)));
    if (me && agents.some((agent) => agent.id === me)) $('#sim-agent').value = me;

    $('#sim-call-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.act('Place call', async () => {
        const queue = $('#sim-queue').value;
        const { taskId } = await api.simulateCall(queue, $('#sim-from').value.trim());
        return `A customer is calling ${this.queueNames.get(queue) ?? queue} (call ${taskId}).`;
      });
    });
    $('[data-sim="customer-hangup"]').addEventListener('click', () => this.act('Customer hang-up', async () => {
      const id = $('#sim-task').value;
      if (!id) throw new Error('there is no call to hang up');
      await api.simulateCustomerHangUp(id);
      return 'The customer hung up.';
    }));
    $('[data-sim="agent-hangup"]').addEventListener('click', () => this.act('Agent phone hang-up', async () => {
      const agent = $('#sim-agent').value;
      await api.simulateAgentHangUp(agent);
      return `${$('#sim-agent').selectedOptions[0]?.textContent ?? agent} hung up the phone.`;
    }));

    store.addEventListener('change', () => this.renderCalls());
    this.renderCalls();
    $('#sim-panel').hidden = false;
  }

  /** The calls the customer hang-up can pick from: those on this user's screen. */
  renderCalls() {
    const select = $('#sim-task');
    const chosen = select.value;
    const live = this.store.list().filter((task) => task.customer.state !== 'left');
    replaceChildren(select, live.map((task) =>
      h('option', { value: task.id }, `${callerText(task.customer)} · ${this.queueNames.get(task.queue) ?? task.queue} · ${STATUS_WORDS[task.status] ?? task.status}`)));
    if (live.some((task) => task.id === chosen)) select.value = chosen;
    $('[data-sim="customer-hangup"]').disabled = live.length === 0;
  }

  async act(label, work) {
    setText($('#sim-error'), '');
    setText($('#sim-status'), '');
    try {
      setText($('#sim-status'), await work());
    } catch (failure) {
      setText($('#sim-error'), `${label} failed: ${describeError(failure)}`);
    }
  }
}
