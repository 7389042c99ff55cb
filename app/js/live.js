// live.js: the dashboard's JS libraries behind a small API on `window.berthLive`, which the
// wasm calls (app/src/js.rs): a container's stats charts (uPlot, small multiples on one time
// axis, one hover cursor for all) and its terminal (xterm.js, sized to its box). Bundled by
// esbuild (scripts/build-site.sh) into target/site/live.js and live.css, embedded in berth,
// and loaded by the page only where a chart or a terminal is shown. The data (rates, units)
// is computed in Rust; this only draws.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { FitAddon } from '@xterm/addon-fit';

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// Decimal units for I/O (as docker prints NET I/O and BLOCK I/O), binary ones for memory.
function scaled(v, base, units) {
  if (v == null || !Number.isFinite(v)) return '—';
  let i = 0;
  let x = Math.abs(v);
  while (x >= base && i + 1 < units.length) {
    x /= base;
    i += 1;
  }
  const digits = x >= 100 || i === 0 ? 0 : x >= 10 ? 1 : 2;
  return `${(Math.sign(v) * x).toFixed(digits)} ${units[i]}`;
}
const FORMATS = {
  percent: (v) => (v == null ? '—' : `${v.toFixed(v >= 100 ? 0 : 1)}%`),
  bytes: (v) => scaled(v, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB']),
  rate: (v) => (v == null ? '—' : `${scaled(v, 1000, ['B', 'kB', 'MB', 'GB', 'TB'])}/s`),
  count: (v) => (v == null ? '—' : `${Math.round(v)}`),
};

// The charts, in order: their columns in the data (see `ChartColumns` in Rust) and units.
const CHARTS = [
  { key: 'cpu', title: 'CPU', unit: 'percent', series: [{ label: 'CPU', col: 'cpu', color: '--accent', fill: true }] },
  {
    key: 'memory', title: 'Memory', unit: 'bytes', series: [
      { label: 'Working set', col: 'memory', color: '--ok', fill: true },
      { label: 'Limit', col: 'limit', color: '--danger', dash: [6, 4] },
    ],
  },
  {
    key: 'network', title: 'Network', unit: 'rate', series: [
      { label: 'Received', col: 'rx', color: '--accent' },
      { label: 'Sent', col: 'tx', color: '--warn' },
    ],
  },
  {
    key: 'block', title: 'Block I/O', unit: 'rate', series: [
      { label: 'Read', col: 'read', color: '--accent' },
      { label: 'Written', col: 'write', color: '--warn' },
    ],
  },
  { key: 'pids', title: 'PIDs', unit: 'count', series: [{ label: 'PIDs', col: 'pids', color: '--muted' }] },
];

const HEIGHT = 150;
let chartGroups = 0;

/** Small multiples in `el`; `columns` is the JSON of the data. Returns a handle. */
function charts(el, columns) {
  chartGroups += 1;
  const sync = uPlot.sync(`berth-stats-${chartGroups}`);
  let data = JSON.parse(columns);
  let plots = [];

  const build = () => {
    for (const p of plots) p.destroy();
    el.replaceChildren();
    const text = css('--muted');
    const grid = css('--line');
    const width = Math.max(el.clientWidth, 200);
    plots = CHARTS.map((c) => {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.chart = c.key;
      const head = document.createElement('div');
      head.className = 'chart-title';
      head.textContent = c.title;
      box.append(head);
      el.append(box);
      const fmt = FORMATS[c.unit];
      const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui, sans-serif' };
      const opts = {
        width,
        height: HEIGHT,
        cursor: { sync: { key: sync.key }, drag: { x: false, y: false }, points: { size: 6 } },
        legend: { live: true },
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max * 1.1, c.unit === 'percent' ? 1 : c.unit === 'count' ? 2 : 1024)] } },
        axes: [
          { ...axis, space: 70 },
          { ...axis, size: 74, values: (u, splits) => splits.map(fmt) },
        ],
        series: [
          { value: (u, v) => (v == null ? '—' : new Date(v * 1000).toLocaleTimeString()) },
          ...c.series.map((s) => {
            const stroke = css(s.color);
            return {
              label: s.label,
              stroke,
              width: 1.5,
              dash: s.dash,
              fill: s.fill ? `${stroke}22` : undefined,
              points: { show: false },
              spanGaps: false,
              value: (u, v) => fmt(v),
            };
          }),
        ],
      };
      return new uPlot(opts, [data.t, ...c.series.map((s) => data[s.col])], box);
    });
  };

  const resize = () => {
    const width = Math.max(el.clientWidth, 200);
    for (const p of plots) p.setSize({ width, height: HEIGHT });
  };
  build();
  const observer = new ResizeObserver(resize);
  observer.observe(el);
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  const rebuild = () => build();
  scheme.addEventListener('change', rebuild);

  return {
    setData(json) {
      data = JSON.parse(json);
      plots.forEach((p, i) => p.setData([data.t, ...CHARTS[i].series.map((s) => data[s.col])]));
    },
    /** The points drawn (for tests and tools). */
    points() {
      return data.t.length;
    },
    destroy() {
      observer.disconnect();
      scheme.removeEventListener('change', rebuild);
      for (const p of plots) p.destroy();
      plots = [];
      el.replaceChildren();
    },
  };
}

const encoder = new TextEncoder();

/**
 * A terminal filling `el`: `onInput(bytes)` gets what the user types (UTF-8), `onResize(rows,
 * columns)` each new size (once at the start too). Returns a handle.
 */
function terminal(el, onInput, onResize) {
  // A terminal is dark in both schemes, as the log panel is.
  el.replaceChildren();
  const term = new Terminal({
    cursorBlink: true,
    convertEol: false,
    fontFamily: css('--mono') || 'monospace',
    fontSize: 13,
    scrollback: 5000,
    theme: { background: '#0d1117', foreground: '#e6edf3', cursor: '#e6edf3', selectionBackground: '#264f78' },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(el);
  let last = '';
  const refit = () => {
    if (!el.isConnected || el.clientWidth === 0) return;
    try {
      fit.fit();
    } catch {
      return;
    }
    const size = `${term.rows}x${term.cols}`;
    if (size !== last) {
      last = size;
      onResize(term.rows, term.cols);
    }
  };
  const input = term.onData((s) => onInput(encoder.encode(s)));
  const binary = term.onBinary((s) => onInput(Uint8Array.from(s, (ch) => ch.charCodeAt(0) & 0xff)));
  const observer = new ResizeObserver(() => refit());
  observer.observe(el);
  refit();
  return {
    rows: () => term.rows,
    columns: () => term.cols,
    /** `bytes` may be a view into the wasm's memory, which xterm.js would read later (it
     * parses on a later turn): copied first. */
    write(bytes) {
      term.write(new Uint8Array(bytes));
    },
    writeln(text) {
      term.writeln(text);
    },
    reset() {
      term.reset();
    },
    focus() {
      term.focus();
    },
    /** The visible text, one line each (for tests and tools). */
    text() {
      const buf = term.buffer.active;
      const lines = [];
      for (let i = 0; i < buf.length; i += 1) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
      return lines.join('\n');
    },
    destroy() {
      observer.disconnect();
      input.dispose();
      binary.dispose();
      term.dispose();
      el.replaceChildren();
    },
  };
}

window.berthLive = { charts, terminal };
