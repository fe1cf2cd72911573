// The customer's web call page (/call/{number}): one Call button. The browser calls the number over
// WebRTC (phone.js) and joins its queue as a phone caller would: music while waiting, then an agent.
import { ApiError, offerSDP } from './api.js';
import { $, setText } from './dom.js';
import { BrowserPhone } from './phone.js';

const number = decodeURIComponent(window.location.pathname.split('/').filter(Boolean).pop() ?? '');
const path = `/v1/webcalls/${encodeURIComponent(number)}`;

const WORDS = {
  idle: 'Ready to call.',
  connecting: 'Calling…',
  connected: 'Connected. Please hold for the next available person, or speak when you are answered.',
  reconnecting: 'The connection dropped: reconnecting…',
  ended: 'The call has ended. Thank you for calling.',
};

let phone = null;
let watching = null;

function show(state, error = '') {
  const line = $('#call-state');
  line.dataset.state = state;
  setText(line, WORDS[state] ?? state);
  setText($('#call-error'), error);
  const live = state !== 'idle' && state !== 'ended';
  $('#call-start').hidden = live;
  $('#call-end').hidden = !live;
  $('#call-mute').hidden = !live;
}

async function end(tellServer) {
  clearInterval(watching);
  watching = null;
  const current = phone;
  phone = null;
  if (current) await current.stop({ tellServer });
  show('ended');
}

async function call() {
  setText($('#call-error'), '');
  phone = new BrowserPhone({
    open: (offer) => offerSDP('POST', path, offer),
    resume: (location, offer) => offerSDP('PUT', location, offer),
    close: (location) => fetch(location, { method: 'DELETE', keepalive: true }),
    audio: $('#call-audio'),
  });
  window.switchboardPhone = phone; // the browser tests listen through it
  phone.addEventListener('state', (event) => {
    const { state, detail } = event.detail;
    if (state === 'lost' && !phone?.everConnected) {
      // Refused before it began (a closed or busy line, too many calls from here): say why.
      end(false).then(() => show('idle', `The call could not be placed: ${detail}.`));
    } else if (state === 'lost') {
      end(false).then(() => setText($('#call-error'), detail ? `The call was lost: ${detail}.` : ''));
    } else if (state !== 'off') {
      show(state);
    }
  });
  show('connecting');
  try {
    await phone.start();
  } catch (failure) {
    phone = null;
    show('idle', `The call could not start: ${failure.words ?? failure.message}.`);
    return;
  }
  // The server's word on the call (an agent ending it, say) every two seconds.
  watching = setInterval(async () => {
    if (!phone?.location) return;
    try {
      const response = await fetch(phone.location, { cache: 'no-store' });
      if (response.status === 404 || (response.ok && (await response.json()).state === 'ended')) end(false);
    } catch {
      // Unreachable for now: the phone reconnects on its own.
    }
  }, 2000);
}

/** A refusal in the server's words (a closed or full line, too many calls from here). */
function refusal(failure) {
  if (failure instanceof ApiError) return failure.message;
  return String(failure?.message ?? failure);
}

$('#call-start').addEventListener('click', () => call().catch((failure) => show('idle', refusal(failure))));
$('#call-end').addEventListener('click', () => end(true));
$('#call-mute').addEventListener('click', () => {
  if (!phone) return;
  phone.mute(!phone.muted);
  $('#call-mute').setAttribute('aria-pressed', String(phone.muted));
  setText($('#call-mute'), phone.muted ? 'Unmute' : 'Mute');
});
// Leaving the page hangs up (the server would otherwise wait for the connection to time out).
window.addEventListener('pagehide', () => {
  if (phone?.location) fetch(phone.location, { method: 'DELETE', keepalive: true }).catch(() => {});
});
setText($('#call-title'), `Call ${number}`);
show('idle');
