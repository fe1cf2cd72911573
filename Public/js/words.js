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
export const STATION_WORDS = { desktop: 'Desktop', phone: 'Phone' };

/** What each station means for an offer, said under the Station control. */
export const STATION_HINTS = {
  desktop: 'Calls ring here: answer them with Accept.',
  phone: 'Calls ring your SIP phone: answer them there.',
};

/** The idle reasons the system gives on its own (not in the center's idle code list). */
export const SYSTEM_IDLE_WORDS = { rona: 'Ring no answer', phoneLost: 'Phone not registered' };

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
};
