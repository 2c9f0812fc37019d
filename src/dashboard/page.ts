import { DASHBOARD_WINDOWS, type DashboardWindow } from './api.js';

/**
 * The overview page: a static HTML shell (no data in it) and a plain script that reads the token from the URL
 * fragment, calls the JSON API with it and fills the page with `textContent` only. No build step.
 */

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The HTML of `/`. */
export function renderOverviewPage(defaultWindow: DashboardWindow): string {
  const options = Object.keys(DASHBOARD_WINDOWS)
    .map(
      (window) =>
        `<option value="${escapeHtml(window)}"${window === defaultWindow ? ' selected' : ''}>${escapeHtml(window)}</option>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>grpcforge dashboard</title>
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/assets/dashboard.css">
</head>
<body>
<header>
<h1>grpcforge</h1>
<label>window <select id="window">${options}</select></label>
<span id="since"></span>
</header>
<p id="message" hidden></p>
<main>
<section id="totals" aria-label="totals">
<div class="stat"><span class="label">calls</span><span class="value" id="total-calls">–</span></div>
<div class="stat"><span class="label">errors</span><span class="value" id="total-errors">–</span></div>
<div class="stat"><span class="label">success</span><span class="value" id="total-success">–</span></div>
<div class="stat"><span class="label">p50 ms</span><span class="value" id="total-p50">–</span></div>
<div class="stat"><span class="label">p95 ms</span><span class="value" id="total-p95">–</span></div>
<div class="stat"><span class="label">p99 ms</span><span class="value" id="total-p99">–</span></div>
</section>
<section aria-label="timeline"><h2>timeline</h2><div id="chart"></div></section>
<section aria-label="services">
<h2>services</h2>
<table id="services">
<thead><tr><th>service</th><th>calls</th><th>rate /s</th><th>error rate</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>status codes</th></tr></thead>
<tbody></tbody>
</table>
</section>
</main>
<script src="/assets/uPlot.iife.min.js"></script>
<script src="/assets/dashboard.js"></script>
</body>
</html>
`;
}

/** The page's stylesheet. */
export const DASHBOARD_CSS = `body { font: 14px system-ui, sans-serif; margin: 0 24px 24px; color: #1d2330; }
header { display: flex; gap: 16px; align-items: baseline; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin: 24px 0 8px; }
#since { color: #667; }
#message { background: #fff3cd; padding: 8px 12px; }
#totals { display: flex; gap: 12px; flex-wrap: wrap; }
.stat { border: 1px solid #dde; border-radius: 6px; padding: 8px 14px; min-width: 90px; }
.stat .label { display: block; color: #667; font-size: 12px; }
.stat .value { font-size: 22px; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; }
th, td { text-align: right; padding: 4px 10px; border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child, th:last-child, td:last-child { text-align: left; }
`;

/** The page's script: plain browser JavaScript, served as `/assets/dashboard.js`. */
export const DASHBOARD_SCRIPT = `'use strict';
(() => {
  const fragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fragment) {
    sessionStorage.setItem('grpcforge-dashboard-token', fragment);
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = sessionStorage.getItem('grpcforge-dashboard-token');
  const $ = (id) => document.getElementById(id);
  const say = (text) => {
    $('message').textContent = text;
    $('message').hidden = !text;
  };
  const ms = (value) => value.toFixed(2);
  const percent = (value) => (value * 100).toFixed(2) + '%';

  async function api(path) {
    const response = await fetch('/api/v1/' + path, { headers: { authorization: 'Bearer ' + token } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  function cell(row, text) {
    const td = document.createElement('td');
    td.textContent = text;
    row.append(td);
  }

  function showOverview(overview, windowMs) {
    $('since').textContent = 'since ' + overview.since;
    const totals = overview.totals;
    $('total-calls').textContent = String(totals.calls);
    $('total-errors').textContent = String(totals.errors);
    $('total-success').textContent = percent(totals.successRate);
    $('total-p50').textContent = ms(totals.p50Ms);
    $('total-p95').textContent = ms(totals.p95Ms);
    $('total-p99').textContent = ms(totals.p99Ms);
    const body = $('services').tBodies[0];
    body.replaceChildren();
    for (const service of overview.services) {
      const row = document.createElement('tr');
      cell(row, service.service);
      cell(row, String(service.calls));
      cell(row, (service.calls / (windowMs / 1000)).toFixed(3));
      cell(row, percent(service.calls === 0 ? 0 : service.errors / service.calls));
      cell(row, ms(service.p50Ms));
      cell(row, ms(service.p95Ms));
      cell(row, ms(service.p99Ms));
      cell(row, service.byStatus.map((entry) => entry.status + ' ' + entry.calls).join(', '));
      body.append(row);
    }
  }

  let chart;
  function showTimeline(timeline) {
    // One point per bucket of the window, empty buckets included.
    const byStart = new Map(timeline.timeline.map((bucket) => [Date.parse(bucket.start), bucket]));
    const step = timeline.bucketMs;
    const first = Math.floor(Date.parse(timeline.since) / step) * step;
    const xs = [], calls = [], errors = [], p95 = [];
    for (let start = first; start <= Date.now(); start += step) {
      const bucket = byStart.get(start);
      xs.push(start / 1000);
      calls.push(bucket ? bucket.calls : 0);
      errors.push(bucket ? bucket.errors : 0);
      p95.push(bucket ? bucket.p95Ms : null);
    }
    const options = {
      width: Math.max(320, Math.min(1100, document.body.clientWidth - 48)),
      height: 260,
      scales: { x: { time: true }, ms: { auto: true } },
      series: [
        {},
        { label: 'calls', stroke: '#3b6fd8', width: 2 },
        { label: 'errors', stroke: '#d83b3b', width: 2 },
        { label: 'p95 ms', stroke: '#8a5cd8', width: 1, dash: [4, 4], scale: 'ms', spanGaps: true },
      ],
      axes: [{}, { label: 'calls' }, { side: 1, scale: 'ms', label: 'p95 ms', grid: { show: false } }],
    };
    if (chart) chart.destroy();
    chart = new uPlot(options, [xs, calls, errors, p95], $('chart'));
  }

  async function load() {
    const selected = $('window').value;
    try {
      const [overview, timeline] = await Promise.all([
        api('overview?window=' + encodeURIComponent(selected)),
        api('timeline?window=' + encodeURIComponent(selected)),
      ]);
      say('');
      showOverview(overview, WINDOW_MS[selected]);
      showTimeline(timeline);
    } catch (error) {
      say('cannot load the overview: ' + error.message);
    }
  }

  const WINDOW_MS = ${JSON.stringify(Object.fromEntries(Object.entries(DASHBOARD_WINDOWS).map(([name, { windowMs }]) => [name, windowMs])))};

  if (!token) {
    say('open the address grpcforge dashboard printed, with its #token=…');
    return;
  }
  $('window').addEventListener('change', load);
  void load();
  setInterval(load, 10000);
})();
`;
