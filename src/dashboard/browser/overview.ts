import type UPlot from 'uplot';
import type { OverviewJson, TimelineJson } from '@grpcforge/runtime/vocabulary';
import {
  $,
  api,
  buckets,
  cell,
  chartWidth,
  messageOf,
  reloadEvery10s,
  say,
  windowMsOf,
  statusCounts,
  tableBody,
  utc,
  utcTime,
} from './common.js';

/** `/assets/overview.js`: fills the overview page from the API, every 10 s. Times are in UTC, as on every page. */

const ms = (value: number) => value.toFixed(2);
const percent = (value: number) => `${(value * 100).toFixed(2)}%`;

function showOverview(overview: OverviewJson, windowMs: number) {
  $('since').textContent = `since ${utc(Date.parse(overview.since))}`;
  const totals = overview.totals;
  $('total-calls').textContent = String(totals.calls);
  $('total-errors').textContent = String(totals.errors);
  $('total-success').textContent = percent(totals.successRate);
  $('total-p50').textContent = ms(totals.p50Ms);
  $('total-p95').textContent = ms(totals.p95Ms);
  $('total-p99').textContent = ms(totals.p99Ms);
  const body = tableBody('services');
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
    cell(row, statusCounts(service.byStatus));
    body.append(row);
  }
}

let chart: UPlot | undefined;
function showTimeline(timeline: TimelineJson) {
  // One point per bucket of the window, empty buckets included.
  const xs: number[] = [];
  const calls: number[] = [];
  const errors: number[] = [];
  const p95: (number | null)[] = [];
  for (const { start, bucket } of buckets(timeline)) {
    xs.push(start / 1000);
    calls.push(bucket ? bucket.calls : 0);
    errors.push(bucket ? bucket.errors : 0);
    p95.push(bucket ? bucket.p95Ms : null);
  }
  const time = utcTime($('chart'));
  const options: UPlot.Options = {
    width: chartWidth(),
    height: 260,
    tzDate: time.tzDate,
    scales: { x: { time: true }, ms: { auto: true } },
    series: [
      time.series,
      { label: 'calls', stroke: '#3b6fd8', width: 2 },
      { label: 'errors', stroke: '#d83b3b', width: 2 },
      { label: 'p95 ms', stroke: '#8a5cd8', width: 1, dash: [4, 4], scale: 'ms', spanGaps: true },
    ],
    axes: [
      time.axis,
      { label: 'calls' },
      // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- uPlot.Side is an ambient const enum, which isolated modules cannot read; 1 is its Right
      { side: 1, scale: 'ms', label: 'p95 ms', grid: { show: false } },
    ],
  };
  chart?.destroy();
  chart = new uPlot(options, [xs, calls, errors, p95], $('chart'));
}

async function load() {
  const selected = $('window', HTMLSelectElement).value;
  try {
    const [overview, timeline] = await Promise.all([
      api<OverviewJson>(`overview?window=${encodeURIComponent(selected)}`),
      api<TimelineJson>(`timeline?window=${encodeURIComponent(selected)}`),
    ]);
    say('');
    showOverview(overview, windowMsOf(selected));
    showTimeline(timeline);
  } catch (error) {
    say(`cannot load the overview: ${messageOf(error)}`);
  }
}

reloadEvery10s(load, $('window'));
