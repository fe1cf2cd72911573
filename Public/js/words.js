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
