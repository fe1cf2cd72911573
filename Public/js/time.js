// Time on the server's clock, durations in words, and one ticker for every running timer on the
// page: elements carry data-elapsed-from / data-remaining-to (ms since 1970) and are refreshed here.

/** Server clock minus this browser's clock, in ms, learnt from the Date header of answers. */
let offset = 0;

export function noteServerDate(header) {
  const server = Date.parse(header ?? '');
  if (Number.isNaN(server)) return;
  // The header counts whole seconds: only a gap well beyond that is a real clock difference.
  const estimate = server + 500 - Date.now();
  offset = Math.abs(estimate) > 2000 ? estimate : 0;
}

/** Now, on the server's clock (deadlines and `since` values come from the server). */
export function now() {
  return Date.now() + offset;
}

/** 65_000 → "1:05"; 3_725_000 → "1:02:05". Negative durations read as zero. */
export function formatDuration(milliseconds) {
  const total = Math.max(0, Math.floor(milliseconds / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** A countdown rounds up: "0:01" shows until the very end, never "0:00" early. */
export function formatRemaining(milliseconds) {
  return formatDuration(Math.ceil(Math.max(0, milliseconds) / 1000) * 1000);
}

/** Refreshes every timer element under `root`. */
export function tick(root = document) {
  const at = now();
  for (const element of root.querySelectorAll('[data-elapsed-from]')) {
    const elapsed = at - Number(element.dataset.elapsedFrom);
    const text = formatDuration(elapsed);
    if (element.textContent !== text) element.textContent = text;
    // A wait with thresholds turns amber, then red, as it grows.
    if (element.dataset.amberAfter !== undefined) {
      const level = elapsed >= Number(element.dataset.redAfter) ? 'red' : elapsed >= Number(element.dataset.amberAfter) ? 'amber' : 'ok';
      if (element.dataset.level !== level) element.dataset.level = level;
    }
  }
  for (const element of root.querySelectorAll('[data-remaining-to]')) {
    const text = formatRemaining(Number(element.dataset.remainingTo) - at);
    if (element.textContent !== text) element.textContent = text;
  }
}

let ticker = null;

/** Starts the page's one ticker (twice a second, so a displayed second never lags by much). */
export function startTicker() {
  if (ticker === null) ticker = setInterval(() => tick(), 500);
}

/** A 24-hour clock time for chart axes: "14:05:30". */
export function clockTime(milliseconds) {
  const date = new Date(milliseconds - offset);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

/** A date and time for past calls, on the same clock as clockTime: "2026-12-01 14:05:30". */
export function dateTime(milliseconds) {
  const date = new Date(milliseconds - offset);
  const day = [date.getFullYear(), date.getMonth() + 1, date.getDate()].map((part) => String(part).padStart(2, '0')).join('-');
  return `${day} ${clockTime(milliseconds)}`;
}

/** A moment read off this browser's clock (midnight of a date picked, say) on the server's clock. */
export function serverTime(localMilliseconds) {
  return localMilliseconds + offset;
}
