// Keeps the store in step with the server: each time the stream is ready (the server has
// subscribed this connection and replayed what it missed) or says `resync`, the user's tasks and
// own state (and whatever else the view keeps, e.g. the supervisor's agents) are fetched afresh,
// and live messages are held back until that fetch is in, then applied on top. No poll backs
// this up: the stream (resumed with ?since=, or `resync` when too far behind) misses nothing.
import { api } from './api.js';
import { EventStream } from './stream.js';

export class Sync {
  /**
   * store: the TaskStore. handlers: onMe(me), onAgent(agentView), onStatus(state),
   * onError(error) when a refresh failed (it is retried), refetch() (optional): the view's
   * own fetches for each refresh, a promise that applies them (messages are held until it is in),
   * onNotice(message) (optional): a notice for the user ({notice: 'setIdleBySupervisor', by, …}),
   * and onSessionEnded(message): the server ended this session ({reason, by?}) and closes the stream.
   */
  constructor(token, store, handlers) {
    this.store = store;
    this.handlers = handlers;
    this.held = null; // messages waiting for the refresh in flight
    this.again = false; // another refresh was asked for while one was in flight
    this.retry = null;
    this.streamState = 'connecting';
    this.stream = new EventStream(token, {
      onOpen: () => {},
      // Fetched after the server's subscription, never before it: no change falls in between.
      onReady: () => this.refresh(),
      onMessage: (message) => this.receive(message),
      onStatus: (state) => {
        this.streamState = state;
        handlers.onStatus(state);
      },
      // The server refused the stream: asking who we are tells a stale token (401 signs out).
      onRefused: () => api.me().catch(() => {}),
    });
  }

  start() {
    this.stream.start();
  }

  stop() {
    clearTimeout(this.retry);
    this.stream.stop();
  }

  async refresh() {
    if (this.held) {
      this.again = true; // the fetch in flight may predate what asked for this one
      return;
    }
    clearTimeout(this.retry);
    this.held = [];
    const mark = this.store.mark();
    try {
      const [me, tasks] = await Promise.all([api.me(), api.tasks(), this.handlers.refetch?.()]);
      this.handlers.onMe(me);
      this.store.reset(tasks, mark);
      this.handlers.onStatus(this.streamState);
    } catch (error) {
      this.handlers.onError?.(error);
      this.retry = setTimeout(() => this.refresh(), 2000);
    } finally {
      const held = this.held;
      this.held = null;
      for (const message of held) this.handle(message);
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    }
  }

  receive(message) {
    if (message.type === 'sessionEnded') {
      // Not held back behind a refresh: nothing after it matters, and the stream is closing.
      this.stop();
      this.handlers.onSessionEnded?.(message);
      return;
    }
    if (this.held) this.held.push(message);
    else this.handle(message);
  }

  handle(message) {
    switch (message.type) {
      case 'task':
        if (message.task) this.store.apply(message.task);
        else if (message.taskId) this.confirmGone(message.taskId);
        break;
      case 'taskRemoved':
        if (typeof message.version === 'number') this.store.removeAt(message.taskId, message.version);
        else this.confirmGone(message.taskId);
        break;
      case 'agent':
        if (message.agent) this.handlers.onAgent(message.agent);
        break;
      case 'resync':
        this.refresh();
        break;
      case 'notice':
        this.handlers.onNotice?.(message);
        break;
      case 'alert':
        this.handlers.onAlert?.(message);
        break;
      default:
        break; // a newer server may send more kinds; nothing here depends on them
    }
  }

  /**
   * A "task" message without a snapshot (or a removal without a version) cannot be ordered against
   * what a fetch showed. Asking for the task settles it: gone (404), or here it is.
   */
  async confirmGone(id) {
    if (!id) return;
    try {
      this.store.apply(await api.task(id));
    } catch {
      this.store.remove(id);
    }
  }
}
