// Two small SVG charts for the supervisor, drawn from scratch: a step line chart (calls waiting
// per queue over time) and a horizontal bar chart (wrap-up reasons today). Both draw into an
// <svg viewBox="0 0 480 220"> and describe their data in a <desc> for screen readers.

const WIDTH = 480;
const HEIGHT = 220;

/** The SVG namespace, taken from the page's own <svg> elements (the page names no URL at all). */
let namespace = null;

function s(tag, attributes = {}, text) {
  const element = document.createElementNS(namespace, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  if (text !== undefined) element.textContent = String(text);
  return element;
}

/** A round upper bound for a count axis, and the step between its gridlines. */
function countAxis(largest) {
  const top = Math.max(2, Math.ceil(largest));
  const step = top <= 5 ? 1 : Math.ceil(top / 5);
  return { top: Math.ceil(top / step) * step, step };
}

/**
 * series: [{id, name, points: [{t, value}]}] sampled over time; from/to: the time window (ms);
 * timeLabel(ms) → axis text. Counts change in steps, so each line is drawn as a step line.
 */
export function drawLineChart(svg, { series, from, to, timeLabel }) {
  namespace = svg.namespaceURI;
  const margin = { left: 34, right: 14, top: 12, bottom: 52 };
  const plotWidth = WIDTH - margin.left - margin.right;
  const plotHeight = HEIGHT - margin.top - margin.bottom;
  const largest = Math.max(0, ...series.flatMap((line) => line.points.map((point) => point.value)));
  const { top, step } = countAxis(largest);
  const x = (t) => margin.left + ((t - from) / Math.max(1, to - from)) * plotWidth;
  const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;

  const parts = [];
  const summary = series.map((line) => `${line.name}: ${line.points.at(-1)?.value ?? 0} waiting now`).join('; ');
  parts.push(s('desc', {}, `Calls waiting per queue over the last minutes. ${summary}.`));

  for (let value = 0; value <= top; value += step) {
    parts.push(s('line', { class: 'grid', x1: margin.left, x2: WIDTH - margin.right, y1: y(value), y2: y(value) }));
    parts.push(s('text', { class: 'axis-label', x: margin.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, value));
  }
  for (const [t, anchor] of [[from, 'start'], [(from + to) / 2, 'middle'], [to, 'end']]) {
    parts.push(s('text', { class: 'axis-label', x: x(t), y: HEIGHT - margin.bottom + 16, 'text-anchor': anchor }, timeLabel(t)));
  }

  series.forEach((line, index) => {
    const points = line.points.filter((point) => point.t >= from);
    if (points.length === 0) return;
    let path = `M${x(points[0].t).toFixed(1)},${y(points[0].value).toFixed(1)}`;
    for (let i = 1; i < points.length; i += 1) {
      path += ` H${x(points[i].t).toFixed(1)} V${y(points[i].value).toFixed(1)}`;
    }
    path += ` H${x(to).toFixed(1)}`;
    parts.push(s('path', { class: `series series-${index % 6}`, d: path, 'data-series': line.id }));
  });

  // The legend, under the plot: a swatch, the queue and its count now.
  let legendX = margin.left;
  series.forEach((line, index) => {
    const now = line.points.at(-1)?.value ?? 0;
    const label = `${line.name} (${now})`;
    parts.push(s('rect', { class: `swatch series-${index % 6}`, x: legendX, y: HEIGHT - 22, width: 12, height: 12, rx: 2 }));
    parts.push(s('text', { class: 'legend-label', x: legendX + 17, y: HEIGHT - 12, 'data-series': line.id, 'data-value': now }, label));
    legendX += 30 + label.length * 7;
  });

  svg.replaceChildren(...parts);
}

/**
 * bars: [{id, label, value, text?}] (text: the value as shown, e.g. "85 %"); every bar is drawn, a
 * zero one as a hairline. about: what the chart shows, for screen readers.
 */
export function drawBarChart(svg, bars, { emptyText = 'Nothing yet today.', about = 'Wrap-up reasons applied today.' } = {}) {
  namespace = svg.namespaceURI;
  const margin = { left: 140, right: 40, top: 10, bottom: 10 };
  const plotWidth = WIDTH - margin.left - margin.right;
  const rowHeight = Math.min(40, (HEIGHT - margin.top - margin.bottom) / Math.max(1, bars.length));
  const largest = Math.max(1, ...bars.map((bar) => bar.value));
  const parts = [];
  const summary = bars.map((bar) => `${bar.label}: ${bar.text ?? bar.value}`).join('; ');
  parts.push(s('desc', {}, `${about} ${summary || emptyText}`));

  bars.forEach((bar, index) => {
    const top = margin.top + index * rowHeight;
    const width = Math.max(1, (bar.value / largest) * plotWidth);
    parts.push(s('text', { class: 'axis-label bar-label', x: margin.left - 8, y: top + rowHeight / 2 + 4, 'text-anchor': 'end' }, bar.label));
    parts.push(s('rect', {
      class: `bar series-${index % 6}`, x: margin.left, y: top + rowHeight * 0.18, width, height: rowHeight * 0.64, rx: 3,
      'data-code': bar.id, 'data-value': bar.value,
    }));
    parts.push(s('text', { class: 'bar-value', x: margin.left + width + 6, y: top + rowHeight / 2 + 4 }, bar.text ?? bar.value));
  });
  if (bars.every((bar) => bar.value === 0)) {
    parts.push(s('text', { class: 'chart-empty', x: WIDTH / 2 + margin.left / 2, y: HEIGHT - 12, 'text-anchor': 'middle' }, emptyText));
  }
  svg.replaceChildren(...parts);
}
