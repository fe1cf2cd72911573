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
