// The user's event stream over a WebSocket. The last message number (the log's) is kept in
// sessionStorage (per token), and every reconnect (after a drop, a reload, or to the other node of
// a pair) asks for what came from it on with ?since=, so no event is lost. Reconnects back off: 0.5 s, 1 s, 2 s … up to 10 s.

const longestPause = 10_000;

export class EventStream {
  /**
   * handlers: onMessage(message), onOpen(), onReady() once the server has subscribed the
   * connection (after its replay), onStatus('connecting' | 'live' | 'offline'),
   * onRefused() when the server would not even open the stream (the token may be stale).
   */
  constructor(token, handlers) {
    this.token = token;
    this.handlers = handlers;
    this.key = `switchboard.seq.${token}`;
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stopped = true;
    this.reconnectNow = () => this.restart();
  }

  get lastSeq() {
    const stored = sessionStorage.getItem(this.key);
    return stored === null ? null : Number(stored);
  }

  set lastSeq(value) {
    sessionStorage.setItem(this.key, String(value));
  }

  /** Whether the next connection resumes from a known message (else only new ones come). */
  get resumes() {
    return this.lastSeq !== null;
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.reconnectNow);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.reconnectNow);
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  /** Drops the connection and opens a new one at once (the browser says the network is back). */
  restart() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.attempt = 0;
    this.connect();
  }

  connect() {
    const url = new URL('/v1/notifications', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', this.token);
    if (this.resumes) url.searchParams.set('since', String(this.lastSeq));

    const socket = new WebSocket(url);
    this.socket = socket;
    let opened = false;
    this.handlers.onStatus('connecting');

    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.attempt = 0;
      this.handlers.onStatus('live');
      this.handlers.onOpen();
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // not ours to interpret
      }
      if (message.type === 'ready') {
        // The server has subscribed us and sent the replay: from here on nothing is missed.
        // Its number is where the log is; only a smaller one means another log (a server started
        // over on an empty store).
        const last = this.lastSeq;
        this.lastSeq = message.seq;
        if (last !== null && message.seq < last) this.handlers.onMessage({ type: 'resync' });
        this.handlers.onReady?.();
        return;
      }
      if (typeof message.seq === 'number') {
        const last = this.lastSeq;
        this.lastSeq = message.seq;
        // Numbers are the log's: they never go down, on any node of a pair or after a restart
        // (one command's messages share one). A smaller one means another log: fetch afresh.
        if (last !== null && message.seq < last) this.handlers.onMessage({ type: 'resync' });
      }
      this.handlers.onMessage(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      this.handlers.onStatus('offline');
      if (!opened) this.handlers.onRefused?.();
      const pause = Math.min(longestPause, 500 * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
      this.attempt += 1;
      this.timer = setTimeout(() => this.connect(), pause);
    };
  }
}
