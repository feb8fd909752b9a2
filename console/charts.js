// Live line charts on uPlot (served by the broker from its npm package at vendor/uPlot.esm.js).
// A chart keeps a rolling window of points; its <figure> carries the latest values in data-last
// and a text summary for screen readers, so the numbers are never only in the picture.
import { h } from './lib.js';

let uPlotLoading;
function loadUPlot() {
  uPlotLoading ??= import('../vendor/uPlot.esm.js').then((m) => m.default).catch(() => null);
  return uPlotLoading;
}

const PALETTE = ['--series-1', '--series-2', '--series-3', '--series-4', '--series-5', '--series-6', '--series-7', '--series-8'];

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * A chart in `parent`: `label` names it (figure caption and aria-label), `format` renders a y value.
 * Series are added on the fly by name: push(t, {name: value}). Keeps `windowPoints` points.
 */
export function liveChart(parent, { label, format = String, windowPoints = 120, id }) {
  const caption = h('figcaption', {}, label);
  const plotBox = h('div', { class: 'plot', role: 'img', 'aria-label': label });
  const summary = h('p', { class: 'chart-summary' });
  const figure = h('figure', { class: 'chart', id, 'data-points': '0' }, caption, plotBox, summary);
  parent.append(figure);

  const times = [];
  const series = new Map(); // name -> values aligned with times (null where unknown)
  let plot;
  let plotNames = '';
  let destroyed = false;
  let uPlot;
  const resize = new ResizeObserver(() => plot?.setSize(size()));
  resize.observe(plotBox);

  function size() {
    return { width: Math.max(200, plotBox.clientWidth), height: 200 };
  }

  function rebuild() {
    plot?.destroy();
    plot = undefined;
    if (!uPlot) return;
    const names = [...series.keys()];
    plotNames = names.join('\u0000');
    const axis = { stroke: cssVar('--fg-muted'), grid: { stroke: cssVar('--grid'), width: 1 }, ticks: { stroke: cssVar('--grid'), width: 1 } };
    plot = new uPlot(
      {
        ...size(),
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [axis, { ...axis, size: 70, values: (_u, ticks) => ticks.map(format) }],
        series: [{}, ...names.map((name, i) => ({ label: name, stroke: cssVar(PALETTE[i % PALETTE.length]), width: 2, value: (_u, v) => (v === null || v === undefined ? '–' : format(v)) }))],
      },
      [times.map((t) => t / 1000), ...names.map((n) => series.get(n))],
      plotBox,
    );
  }

  loadUPlot().then((u) => {
    if (destroyed) return;
    uPlot = u;
    if (!u) plotBox.replaceChildren(h('p', { class: 'empty' }, 'Charts are unavailable (uplot is not installed on the broker).'));
    else rebuild();
  });

  return {
    push(t, values) {
      times.push(t);
      for (const name of Object.keys(values)) {
        if (!series.has(name)) series.set(name, new Array(times.length - 1).fill(null));
      }
      for (const [name, arr] of series) arr.push(values[name] ?? null);
      while (times.length > windowPoints) {
        times.shift();
        for (const arr of series.values()) arr.shift();
      }
      // A series with no value left in the window (a deleted topic's partition) leaves the chart.
      for (const [name, arr] of series) if (arr.every((v) => v === null)) series.delete(name);
      figure.dataset.points = String(times.length);
      figure.dataset.last = JSON.stringify(values);
      summary.textContent = Object.entries(values)
        .map(([n, v]) => `${n}: ${v === null ? '–' : format(v)}`)
        .join('; ');
      if (!uPlot) return;
      if ([...series.keys()].join('\u0000') !== plotNames) rebuild();
      else plot?.setData([times.map((x) => x / 1000), ...[...series.values()]]);
    },
    destroy() {
      destroyed = true;
      resize.disconnect();
      plot?.destroy();
    },
  };
}
