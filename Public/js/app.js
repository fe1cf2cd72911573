// The page's entry point: sign-in and sign-out, then the agent's desktop or the supervisor's
// view, fed by one TaskStore that Sync keeps in step with the server (REST, then the stream).
// The token lives in sessionStorage, so a reload keeps this tab signed in and each tab signs in
// on its own.
import { api, describeError, onUnauthorized, setToken } from './api.js';
import { AgentDesktop } from './desktop.js';
import { $, setText } from './dom.js';
import { SimulatorPanel } from './simulator.js';
import { SupervisorView } from './supervisor.js';
import { TaskStore } from './store.js';
import { Sync } from './sync.js';
import { startTicker } from './time.js';

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

/** Forgets this tab's token (the server keeps the agent signed in to the center) and starts over. */
function signOut(notice) {
  const session = savedSession();
  sessionStorage.removeItem(SESSION);
  if (session) sessionStorage.removeItem(`switchboard.seq.${session.token}`);
  if (notice) sessionStorage.setItem(NOTICE, notice);
  window.location.reload();
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

async function enter(session, health) {
  setToken(session.token);
  onUnauthorized(() => signOut('Your session has ended (the server may have restarted). Please sign in again.'));
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
  const view = agent
    ? new AgentDesktop({ agentId: session.user, store, names, queueNames, idleCodes, wrapUpCodes, announce })
    : new SupervisorView({ store, names, queueNames, idleCodes, wrapUpCodes });
  if (health.simulator) new SimulatorPanel({ store, queues, agents, me: agent ? session.user : null });

  const connection = $('#connection');
  const sync = new Sync(session.token, store, {
    onMe: (me) => view.showMe(me),
    onAgent: (agentView) => view.onAgent(agentView),
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
