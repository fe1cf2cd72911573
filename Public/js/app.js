// The page's entry point: sign-in and sign-out, then the agent's desktop or the supervisor's
// view, fed by one TaskStore that Sync keeps in step with the server (REST, then the stream).
// The token lives in sessionStorage, so a reload keeps this tab signed in and each tab signs in
// on its own. A session that ends without this tab's Sign out (it ran out, a supervisor signed the
// agent out, another path ended it) brings the sign-in form back saying why: the server tells it
// on the stream (sessionEnded) or in a 401's code.
import { api, describeError, onUnauthorized, setToken } from './api.js';
import { AgentDesktop } from './desktop.js';
import { $, setText } from './dom.js';
import { BrowserStation } from './phonepanel.js';
import { SimulatorPanel } from './simulator.js';
import { SupervisorView } from './supervisor.js';
import { TaskStore } from './store.js';
import { Sync } from './sync.js';
import { startTicker } from './time.js';
import { sessionEndedWords } from './words.js';

const SESSION = 'switchboard.session';
const NOTICE = 'switchboard.notice';

const CONNECTION_WORDS = { connecting: 'Connecting…', live: 'Live', offline: 'Offline — reconnecting' };

function savedSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION) ?? 'null');
    return session && session.token ? session : null;
  } catch {
    return null;
  }
}

let leaving = false;
/** While this tab's Sign out is on its way: its own end, told by the stream or a 401, waits for the answer. */
let signingOut = false;
let endedMeanwhile = null;

/** Forgets this tab's token and starts over at the sign-in form, which says `notice`. */
function leave(notice) {
  if (leaving) return; // several refusals can arrive at once; the first says why
  leaving = true;
  const session = savedSession();
  sessionStorage.removeItem(SESSION);
  if (session) sessionStorage.removeItem(`switchboard.seq.${session.token}`);
  if (notice) sessionStorage.setItem(NOTICE, notice);
  window.location.reload();
}

/** "supervisor 1 signed you out" → "Supervisor 1 signed you out." */
function sentence(text) {
  const words = String(text ?? '').trim();
  if (!words) return '';
  return `${words[0].toUpperCase()}${words.slice(1)}${/[.!?]$/.test(words) ? '' : '.'}`;
}

/**
 * Why a 401 sent us back: its code in words. For a supervisor's sign-out only the message names
 * them ("you were signed out by Supervisor 1: sign in again"): their name is taken from it when it
 * reads that way, else the message is shown as the server wrote it.
 */
function refusalNotice(failure) {
  if (failure.code === 'signedOutBySupervisor' && failure.message) {
    const named = /^you were signed out by (.+?)(?::[^:]*)?$/i.exec(failure.message.trim());
    return named ? sessionEndedWords(failure.code, named[1]) : sentence(failure.message);
  }
  return sessionEndedWords(failure.code);
}

/**
 * The Sign out button: the server ends this tab's session (and takes the agent out of the center
 * when it was their last). Refused while the agent has a call or owes a wrap-up: the server's
 * words say so beside the page's top, and the agent stays signed in.
 */
async function signOut() {
  const button = $('#sign-out');
  const error = $('#sign-out-error');
  setText(error, '');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  signingOut = true;
  endedMeanwhile = null;
  try {
    const answer = await api.logout();
    // The agent's other desktops (tabs) keep them in the center: say so, so nobody is surprised.
    const stays = answer && answer.leftCenter === false && document.body.dataset.role === 'agent';
    leave(stays ? 'You have signed out. Your other open desktops keep you signed in to the center.' : 'You have signed out.');
  } catch (failure) {
    // The session ended anyway (the answer was lost on the way): say so as the server did.
    if (endedMeanwhile) {
      leave(endedMeanwhile);
      return;
    }
    // A 401: the session had already ended, and onUnauthorized is taking us to the sign-in form.
    if (failure.status === 401) return;
    setText(error, failure.status === 409
      ? `You are still signed in: ${describeError(failure)}`
      : `Sign out failed: ${describeError(failure)}`);
  } finally {
    signingOut = false;
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/**
 * The session ended without this tab asking (or as it asked): back to the sign-in form with the
 * words for `code`. Our own Sign out's end waits for its answer, which says more.
 */
function sessionEnded(code, notice) {
  if (signingOut && code === 'signedOut') {
    endedMeanwhile = notice;
    return;
  }
  leave(notice);
}

function announce(text) {
  const region = $('#announcer');
  region.textContent = '';
  // A fresh text node each time, so the same words twice are still read out.
  setTimeout(() => { region.textContent = text; }, 50);
}

function showLogin(health) {
  const view = $('#login-view');
  view.hidden = false;
  const notice = sessionStorage.getItem(NOTICE);
  sessionStorage.removeItem(NOTICE);
  $('#login-notice').hidden = !notice;
  $('#login-hint').hidden = !health.simulator; // the demo's users are worth a hint; a real center's are not
  setText($('#login-notice'), notice ?? '');
  $('#login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = $('#login-username').value.trim();
    const password = $('#login-password').value;
    const error = $('#login-error');
    if (!username || !password) {
      setText(error, 'Enter your user name and password.');
      return;
    }
    setText(error, '');
    $('#login-submit').disabled = true;
    try {
      const answer = await api.login(username, password);
      const session = { token: answer.token, user: answer.agentId, role: answer.role };
      sessionStorage.setItem(SESSION, JSON.stringify(session));
      view.hidden = true;
      await enter(session, health);
    } catch (failure) {
      setText(error, `Sign in failed: ${describeError(failure)}`);
      $('#login-password').select();
    } finally {
      $('#login-submit').disabled = false;
    }
  });
  $('#login-username').focus();
}

/** What every view needs to name things: agents, queues and the two code lists. */
async function loadDirectory() {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const [agents, queues, wrapUpCodes, idleCodes] = await Promise.all([
        api.agents(), api.queues(), api.wrapUpCodes(), api.idleCodes(),
      ]);
      setText($('#boot'), '');
      return { agents, queues, wrapUpCodes, idleCodes };
    } catch (failure) {
      if (failure.status === 401) throw failure; // signing out already
      $('#boot').hidden = false;
      setText($('#boot'), `Cannot reach the server (${describeError(failure)}); trying again…`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 1000 * 2 ** attempt)));
    }
  }
}

/** A supervisor listens in from this browser too: the browser phone's panel moves to their view. */
function supervisorPhone(user, announce) {
  $('#sv-phone-slot').append($('#phone-panel'));
  return new BrowserStation({ agentId: user, announce });
}

async function enter(session, health) {
  setToken(session.token);
  onUnauthorized((failure) => sessionEnded(failure.code, refusalNotice(failure)));
  const { agents, queues, wrapUpCodes, idleCodes } = await loadDirectory();
  const names = new Map(agents.map((agent) => [agent.id, agent.displayName]));
  const queueNames = new Map(queues.map((queue) => [queue.id, queue.name]));
  const agent = session.role === 'agent';

  $('#session-bar').hidden = false;
  setText($('#who'), `${names.get(session.user) ?? session.user} · ${agent ? 'Agent' : 'Supervisor'}`);
  $('#sign-out').addEventListener('click', () => signOut());
  document.body.dataset.role = session.role;
  if (!agent) document.title = 'Switchboard — Supervisor';

  const store = new TaskStore(agent ? session.user : null);
  if (agent) {
    // A refusal to sign out names the call or the wrap-up: once none is left, it no longer holds.
    store.addEventListener('change', () => {
      if (store.list().length === 0) setText($('#sign-out-error'), '');
    });
  }
  const view = agent
    ? new AgentDesktop({ agentId: session.user, store, names, queueNames, idleCodes, wrapUpCodes, announce })
    : new SupervisorView({ store, names, queueNames, idleCodes, wrapUpCodes, announce, me: session.user, phone: supervisorPhone(session.user, announce) });
  if (health.simulator) new SimulatorPanel({ store, queues, agents, me: agent ? session.user : null });

  const connection = $('#connection');
  const sync = new Sync(session.token, store, {
    onMe: (me) => view.showMe(me),
    onAgent: (agentView) => view.onAgent(agentView),
    onNotice: (message) => view.onNotice?.(message),
    onAlert: (message) => view.onAlert?.(message),
    onSessionEnded: (message) => sessionEnded(message.reason, sessionEndedWords(message.reason, message.by)),
    refetch: () => view.refetch?.(),
    onStatus: (state) => {
      connection.dataset.connection = state;
      setText(connection, CONNECTION_WORDS[state] ?? state);
    },
    onError: (failure) => {
      connection.dataset.connection = 'offline';
      setText(connection, `Out of date: ${describeError(failure)}`);
    },
  });
  sync.start();
  // A page left for another (same tab) can be kept in the browser's back-forward cache with its
  // stream still open: the server would count a desktop nobody sees, and keep offering it calls.
  // So the stream closes as the page is hidden, and resumes (?since=) if the page comes back.
  window.addEventListener('pagehide', () => sync.stop());
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) sync.start();
  });
}

async function boot() {
  startTicker();
  const health = await api.health().catch(() => ({ status: 'unknown', simulator: false }));
  $('#boot').hidden = true;
  const session = savedSession();
  if (!session) {
    showLogin(health);
    return;
  }
  try {
    await enter(session, health);
  } catch (failure) {
    // A 401 has already sent us back to the sign-in form; anything else is said on the page.
    if (failure.status !== 401) {
      $('#boot').hidden = false;
      setText($('#boot'), `The desktop could not start: ${describeError(failure)}`);
    }
  }
}

boot();
