// The call controls the desktop knows, in the order the control bar shows them. Which of them
// appear is decided only by the task's allowedActions (the core's rules), never here.

/**
 * name: the command path (also the button's data-action); key: the Alt+Shift shortcut;
 * picker: asks for a destination first; dialog: opens the Wrap Up Reasons dialog.
 * Controls that share a key are never allowed at the same time.
 */
export const ACTIONS = [
  { name: 'accept', label: 'Accept', key: 'A', tone: 'go', help: 'Answer the incoming call' },
  { name: 'consult/accept', label: 'Accept consult', key: 'A', tone: 'go', help: 'Answer the consult request' },
  { name: 'hold', label: 'Hold', key: 'H', help: 'Put the customer on hold' },
  { name: 'resume', label: 'Resume', key: 'R', help: 'Take the customer off hold' },
  { name: 'consult', label: 'Consult…', key: 'C', picker: 'consult', help: 'Consult an agent, a queue or a number' },
  { name: 'consult/conference', label: 'Conference', key: 'F', tone: 'go', help: 'Bring the consulted party and the customer together' },
  { name: 'consult/transfer', label: 'Transfer', key: 'T', help: 'Hand the call to the consulted party' },
  { name: 'transfer', label: 'Transfer…', key: 'T', picker: 'transfer', help: 'Blind transfer to an agent, a queue or a number' },
  { name: 'conference/transfer', label: 'Transfer', key: 'T', help: 'Hand the conference to the other agent and leave' },
  { name: 'consult/end', label: 'End consult', key: 'Q', help: 'End the consult' },
  { name: 'conference/exit', label: 'Exit conference', key: 'X', tone: 'stop', help: 'Leave the conference; the call goes on without you' },
  { name: 'conference/end', label: 'End conference', key: 'E', tone: 'stop', help: 'End the conference for everyone' },
  { name: 'end', label: 'End call', key: 'E', tone: 'stop', help: 'End the call' },
  { name: 'recording/pause', label: 'Pause recording', key: 'P', help: 'Stop recording for a while (a card number, say): the recording keeps the time as silence' },
  { name: 'recording/resume', label: 'Resume recording', key: 'P', help: 'Record the call again' },
  { name: 'wrapup', label: 'Wrap up…', key: 'W', dialog: true, help: 'Apply a wrap-up reason' },
];

const byName = new Map(ACTIONS.map((action) => [action.name, action]));

/** The definition of a control; one the server offers but this page does not know yet still gets a plain button. */
export function actionFor(name) {
  return byName.get(name) ?? { name, label: name, help: `Send "${name}"` };
}

export function shortcutOf(action) {
  return action.key ? `Alt+Shift+${action.key}` : null;
}

/** The label as the viewer should read it: "End consult" means "Decline" to a ringing consultee. */
export function labelFor(name, me) {
  if (name === 'consult/end' && me && me.role === 'consulted') {
    return me.state === 'ringing' ? 'Decline consult' : 'Leave consult';
  }
  return actionFor(name).label;
}
