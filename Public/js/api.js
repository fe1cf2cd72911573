// The REST client: bearer token, JSON in and out, the server's {"error": {code, message}} turned
// into an ApiError, and commands sent with an Idempotency-Key so a retry is never applied twice.
import { noteServerDate } from './time.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status; // 0 when the server could not be reached
    this.code = code;
  }
}

let token = null;
let unauthorized = () => {};

export function setToken(value) {
  token = value;
}

/**
 * Called with the ApiError when the server refuses our token (401): its code says why —
 * sessionExpired, signedOut, signedOutBySupervisor (the message names them), or unauthorized.
 */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

/** A random key per click: retries of that click share it, a new click gets a new one. */
export function newIdempotencyKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes); // unlike randomUUID, also available on plain-http hosts
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

const pause = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * One request. `retries` resends after a network failure only: safe for reads, and for commands
 * because they carry the same Idempotency-Key each time.
 */
export async function request(method, path, body, { idempotencyKey, retries = 0 } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  const payload = body === undefined ? undefined : JSON.stringify(body);

  for (let attempt = 0; ; attempt += 1) {
    let response;
    try {
      // A server that stops answering counts as unreachable rather than leaving the click hanging.
      response = await fetch(path, { method, headers, cache: 'no-store', body: payload, signal: AbortSignal.timeout(15_000) });
    } catch {
      if (attempt < retries) {
        await pause(400 * 2 ** attempt);
        continue;
      }
      throw new ApiError(0, 'network', 'the server could not be reached — check the connection and try again');
    }
    noteServerDate(response.headers.get('Date'));
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (response.ok) return data;
    const error = data && data.error ? data.error : {};
    const failure = new ApiError(
      response.status,
      error.code ?? `http${response.status}`,
      error.message ?? `the server answered ${response.status} ${response.statusText}`.trim(),
    );
    if (response.status === 401 && token) unauthorized(failure);
    throw failure;
  }
}

/**
 * An SDP offer, WHIP-style (RFC 9725): POST (or PUT, to renegotiate) as application/sdp; the
 * answer's SDP and the session's Location back. Refusals are ApiErrors like any other.
 */
export async function offerSDP(method, path, offer) {
  const headers = { 'Content-Type': 'application/sdp', Accept: 'application/sdp' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: offer, cache: 'no-store', signal: AbortSignal.timeout(15_000) });
  } catch {
    throw new ApiError(0, 'network', 'the server could not be reached — check the connection and try again');
  }
  const text = await response.text();
  if (response.ok) return { answer: text, location: response.headers.get('Location') };
  let error = {};
  try {
    error = JSON.parse(text).error ?? {};
  } catch {
    error = {};
  }
  const failure = new ApiError(response.status, error.code ?? `http${response.status}`,
    error.message ?? `the server answered ${response.status}`);
  if (response.status === 401 && token) unauthorized(failure);
  throw failure;
}

const get = (path) => request('GET', path, undefined, { retries: 2 });
const segment = encodeURIComponent;

export const api = {
  health: () => get('/health'),
  login: (username, password) => request('POST', '/v1/auth/login', { username, password }),
  /** Ends this tab's session: {signedOut, leftCenter}; 409 callInProgress / wrapUpOwed while the agent owes a call. */
  logout: () => request('POST', '/v1/auth/logout'),
  me: () => get('/v1/me'),
  setState: (state, idleCodeId) =>
    request('PUT', '/v1/me/state', idleCodeId ? { state, idleCodeId } : { state }),
  /**
   * Where offers are answered: 'desktop' (Accept), 'phone' (409 phoneNotRegistered until it
   * registers) or 'browser' (409 browserNotConnected until this browser's phone is connected).
   */
  setStation: (station) => request('PUT', '/v1/me/station', { station }),
  /** The browser's phone: a WebRTC session for the sign-in ({answer, location}); DELETE ends it. */
  openPhone: (offer) => offerSDP('POST', '/v1/me/webrtc', offer),
  closePhone: (location) => request('DELETE', location),

  tasks: () => get('/v1/tasks'),
  task: (id) => get(`/v1/tasks/${segment(id)}`),
  /** A call control, e.g. command(id, 'conference/end'); answers the task as we now see it. */
  command: (id, action, body) =>
    request('POST', `/v1/tasks/${segment(id)}/${action}`, body, {
      idempotencyKey: newIdempotencyKey(),
      retries: 2,
    }),

  /**
   * Supervisors: listen in on a call — mode 'monitor', 'coach' or 'barge'; station 'phone',
   * 'browser' or 'desktop' (no sound), or none: the browser's phone when connected, else the SIP
   * phone (409 noStation without either). On a call already, switches the mode on the same leg.
   */
  monitor: (id, mode, station) =>
    request('POST', `/v1/tasks/${segment(id)}/monitor`, station ? { mode, station } : { mode }, { retries: 0 }),
  stopMonitoring: (id) => request('POST', `/v1/tasks/${segment(id)}/monitor/end`),

  /** Supervisors: each queue's figures per interval ({rows}); query: from, to (ms), interval, queue. */
  queueReport: (query) => get(`/v1/reports/queues?${new URLSearchParams(query)}`),
  /** Supervisors: each agent's (or, by: 'team', each team's) figures per interval ({rows}). */
  agentReport: (query) => get(`/v1/reports/agents?${new URLSearchParams(query)}`),
  /** The same report as CSV text. */
  reportCSV: (kind, query) => fetchText(`/v1/reports/${kind}?${new URLSearchParams(query)}`, 'text/csv'),

  agents: () => get('/v1/agents'),
  /** Supervisors: who is signed in, [{user, role, displayName, sessions, desktops, signedInAt, lastSeenAt}]. */
  sessions: () => get('/v1/sessions'),
  /** Supervisors: signs the agent out of the center and ends their sessions (409 while they owe a call). */
  signOutAgent: (agentId) => request('POST', `/v1/agents/${segment(agentId)}/logout`),
  /** Supervisors: sets the agent idle with a reason (after their call, if they are on one). */
  setAgentIdle: (agentId, idleCodeId) =>
    request('PUT', `/v1/agents/${segment(agentId)}/state`, { state: 'idle', idleCodeId }),
  /** The agent's recent history, newest first: [{at, action, by?, byName?, detail?}]. */
  audit: (agentId, limit = 20) => get(`/v1/agents/${segment(agentId)}/audit?limit=${limit}`),
  queues: () => get('/v1/queues'),
  wrapUpCodes: () => get('/v1/wrapup-codes'),
  idleCodes: () => get('/v1/idle-codes'),
  wrapUpStats: () => get('/v1/stats/wrapups'),

  /**
   * One page of past interactions (over and wrapped up), newest first. query: from, to (ms since
   * 1970), queue, agent, wrapUpCode, before (the previous page's `next`), limit; empty ones are left out.
   */
  interactions: (query = {}) => {
    const parameters = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') parameters.set(name, String(value));
    }
    const text = parameters.toString();
    return get(`/v1/interactions${text ? `?${text}` : ''}`);
  },
  /** A call's timeline, [{at, event, detail}]; 404 historyNotKept once it is older than the retention. */
  history: (id) => get(`/v1/tasks/${segment(id)}/history`),

  /** A customer's call: from a number or a SIP address; empty: a withheld number. */
  simulateCall: (queueId, from) => request('POST', '/v1/sim/calls', from ? { queueId, from } : { queueId, withheld: true }),
  simulateCustomerHangUp: (taskId) => request('POST', `/v1/sim/calls/${segment(taskId)}/hangup`),
  simulateAgentHangUp: (agentId) => request('POST', `/v1/sim/agents/${segment(agentId)}/hangup`),
};

/** A GET whose answer is text (a CSV report), with the session's token; refusals are ApiErrors. */
export async function fetchText(path, accept) {
  const headers = { Accept: accept };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { headers, cache: 'no-store', signal: AbortSignal.timeout(15_000) });
  } catch {
    throw new ApiError(0, 'network', 'the server could not be reached — check the connection and try again');
  }
  const text = await response.text();
  if (response.ok) return text;
  let error = {};
  try {
    error = JSON.parse(text).error ?? {};
  } catch {
    error = {};
  }
  throw new ApiError(response.status, error.code ?? `http${response.status}`, error.message ?? `the server answered ${response.status}`);
}

/** Where an <audio> element plays a call's recording (with the session's token: it sends no headers). */
export function recordingURL(id) {
  return `/v1/interactions/${encodeURIComponent(id)}/recording?token=${encodeURIComponent(token ?? '')}`;
}

/** A refusal in words: the server explains every refusal; its code is kept for support. */
export function describeError(error) {
  if (!(error instanceof ApiError)) return String(error?.message ?? error);
  return error.code && error.message ? `${error.message} (${error.code})` : error.message || error.code;
}
