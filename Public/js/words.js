// The words the page uses for the server's states, in one place for every view.

export const STATUS_WORDS = {
  queued: 'In queue',
  offered: 'Incoming call',
  connected: 'Connected',
  held: 'Customer on hold',
  consulting: 'Consulting',
  conferenced: 'Conference',
  wrapUpAssist: 'Customer left — wrap-up assist',
  ended: 'Call ended',
};

export const AGENT_STATE_WORDS = {
  loggedOut: 'Signed out',
  idle: 'Idle',
  available: 'Available',
  reserved: 'Reserved',
  engaged: 'On a call',
  wrapUp: 'Wrap-up',
};

/** The agent's station: where offers are answered. */
export const STATION_WORDS = { desktop: 'Desktop', phone: 'Phone', browser: 'Browser' };

/** What each station means for an offer, said under the Station control. */
export const STATION_HINTS = {
  desktop: 'Calls ring here: answer them with Accept.',
  phone: 'Calls ring your SIP phone: answer them there.',
  browser: 'Calls ring in this page: answer with Accept and talk through this browser (microphone and speakers).',
};

/** The browser phone's connection, in words. */
export const PHONE_WORDS = {
  off: 'Off',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  lost: 'Lost',
};

/** The idle reasons the system gives on its own (not in the center's idle code list). */
export const SYSTEM_IDLE_WORDS = {
  rona: 'Ring no answer',
  phoneLost: 'Phone not registered',
  browserLost: 'Browser phone disconnected', // the agent's browser station went away (tab closed, network lost)
  desktopClosed: 'Desktop disconnected', // the agent's desktops were all closed while they were Available
};

/** An idle reason's name: the center's own list first, then the system's reserved ones. */
export function idleWords(idleCodes, id) {
  if (!id) return null;
  return idleCodes.find((code) => code.id === id)?.name ?? SYSTEM_IDLE_WORDS[id] ?? id;
}

/** An agent's history (GET /v1/agents/{id}/audit): its actions in words. */
export const AUDIT_WORDS = {
  signedIn: 'Signed in',
  signedOut: 'Signed out',
  sessionExpired: 'Session expired',
  signedOutBySupervisor: 'Signed out by a supervisor',
  setIdleBySupervisor: 'Set idle by a supervisor',
  desktopDisconnected: 'Desktop disconnected (set idle)',
  monitorStarted: 'A supervisor listened in',
  monitorModeChanged: 'A supervisor changed how they listen',
  monitorEnded: 'A supervisor stopped listening',
};

/** A supervisor on a call: the button that starts each mode, and the mode in words. */
export const MONITOR_WORDS = {
  monitor: { action: 'Monitor', state: 'monitoring', agentNote: 'A supervisor is listening to this call', othersNote: 'A supervisor is listening to this call' },
  coach: { action: 'Coach', state: 'coaching', agentNote: 'A supervisor is coaching you (only you hear them)', othersNote: 'A supervisor is coaching the call\'s owner' },
  barge: { action: 'Barge', state: 'barged in', agentNote: 'A supervisor has joined the call', othersNote: 'A supervisor has joined the call' },
};

/**
 * What the sign-in form says when a session ended on its own or elsewhere, by the server's code
 * (a 401's error code, or a sessionEnded message's reason). `by`: the supervisor, when one did it.
 */
export function sessionEndedWords(code, by) {
  switch (code) {
    case 'sessionExpired': return 'Your session has ended. Sign in again.';
    case 'signedOut': return 'You have signed out.';
    case 'signedOutBySupervisor': return by ? `You were signed out by ${by}.` : 'You were signed out by a supervisor.';
    default: return 'Your session has ended (the server may have restarted). Please sign in again.';
  }
}

export const PARTY_STATE_WORDS = { ringing: 'Ringing', connected: 'Connected', held: 'On hold', left: 'Left' };

export const ROLE_WORDS = { customer: 'Customer', owner: 'Owner', consulted: 'Consulted', conferenced: 'Conference' };

/** A call's timeline (GET /v1/tasks/{id}/history): the event log's names, in words. */
export const EVENT_WORDS = {
  arrived: 'Call arrived',
  offered: 'Offered to an agent',
  offerTimedOut: 'Offer rang out',
  accepted: 'Accepted',
  customerHeld: 'Customer put on hold',
  customerResumed: 'Customer taken off hold',
  consultStarted: 'Consult started',
  consultOffered: 'Consult offered',
  consultOfferTimedOut: 'Consult offer rang out',
  consultAnswered: 'Consult answered',
  ringFailed: 'Ring failed',
  consultCancelled: 'Consult ended',
  consultedPartyLeft: 'Consulted party left',
  conferenceStarted: 'Conference started',
  consultTransferred: 'Transferred after a consult',
  conferenceTransferred: 'Conference handed over',
  conferenceExited: 'Left the conference',
  conferenceEnded: 'Conference ended',
  blindTransferred: 'Transferred (blind)',
  endedByOwner: 'Ended by the agent',
  customerLeft: 'Customer hung up',
  wrapUpApplied: 'Wrap-up applied',
  monitorStarted: 'A supervisor listened in',
  monitorAnswered: 'The supervisor\'s phone answered',
  monitorModeChanged: 'The supervisor changed how they listen',
  monitorEnded: 'The supervisor left',
  recordingPaused: 'Recording paused',
  recordingResumed: 'Recording resumed',
};

/** How to show who called: the server's wording ("Withheld number", "Alice (+15550100)", a number, an address). */
export function callerText(customer) {
  return customer?.label ?? customer?.number ?? 'Unknown caller';
}

/** The same for a past interaction's flat fields. */
export function pastCallerText(interaction) {
  return interaction.customerLabel ?? interaction.customerNumber ?? 'Unknown caller';
}
