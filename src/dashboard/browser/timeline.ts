import type UPlot from 'uplot';
import type { TimelineBucketJson, TimelineJson } from '@grpcforge/runtime/vocabulary';
import {
  $,
  api,
  buckets,
  cell,
  chartWidth,
  messageOf,
  reloadEvery10s,
  say,
  statusCounts,
  tableBody,
  utc,
  utcTime,
} from './common.js';

/**
 * `/assets/timeline.js`: the timeline page from `GET /api/v1/timeline`, every 10 s. One point per bucket of the
 * window (empty ones are zero calls and no latency). The calls chart stacks one series per status code seen in the
 * window, OK first; each series is drawn as bars of its running total, tallest first, so each code shows as its band.
 * The table lists the buckets with calls and folds each run of empty ones into one row. Times are in UTC.
 */

/** Colours of the status codes (by name); others cycle through the rest. */
const COLOURS: Readonly<Record<string, string>> = {
  OK: '#3c9a5f',
  CANCELLED: '#9aa0a6',
  UNKNOWN: '#7f5539',
  INVALID_ARGUMENT: '#e09f3e',
  DEADLINE_EXCEEDED: '#d8833b',
  NOT_FOUND: '#b08ee0',
  UNAUTHENTICATED: '#d83b3b',
  PERMISSION_DENIED: '#a4133c',
  RESOURCE_EXHAUSTED: '#5c677d',
  UNIMPLEMENTED: '#3b6fd8',
  INTERNAL: '#6a040f',
  UNAVAILABLE: '#ff6b6b',
};
const OTHER: readonly string[] = ['#2a9d8f', '#e76f51', '#264653', '#f4a261'];
const colour = (name: string, index: number): string => COLOURS[name] ?? OTHER[index % OTHER.length] ?? '#667';
const ms = (value: number | null | undefined) => (value === null || value === undefined ? null : value.toFixed(2));
const charts = new Map<string, UPlot>();

/** The series and axes of a chart, beside its x axis. */
interface ChartParts {
  readonly series: UPlot.Series[];
  readonly axes: UPlot.Axis[];
}

/** Draws chart `id`: `options.series` and `options.axes` without the x axis' own (UTC time, from common.js). */
function draw(id: string, options: ChartParts, data: UPlot.AlignedData) {
  charts.get(id)?.destroy();
  const time = utcTime($(id));
  const all = { ...options, tzDate: time.tzDate, series: [time.series, ...options.series], axes: [time.axis, ...options.axes] };
  charts.set(id, new uPlot({ width: chartWidth(), height: 240, scales: { x: { time: true } }, ...all }, data, $(id)));
  $(id).dataset.points = String(data[0].length);
}

/** A row of the table: a bucket with calls, or a run of empty ones from `start` to `end`. */
interface BucketRow {
  readonly start: number;
  end: number;
  readonly bucket: TimelineBucketJson | undefined;
}

function show(timeline: TimelineJson) {
  const all = buckets(timeline);
  const xs = all.map(({ start }) => start / 1000);
  // Status codes of the window, OK first, then by code.
  const codes = new Map<number, string>();
  for (const { bucket } of all) for (const entry of bucket ? bucket.byStatus : []) codes.set(entry.statusCode, entry.status);
  const order = [...codes.keys()].sort((a, b) => a - b);
  const countOf = (bucket: TimelineBucketJson | undefined, code: number) =>
    bucket?.byStatus.find((entry) => entry.statusCode === code)?.calls ?? 0;
  const running = xs.map(() => 0);
  const stacked = order.map((code) =>
    all.map(({ bucket }, index) => (running[index] = (running[index] ?? 0) + countOf(bucket, code))),
  );
  const bars = uPlot.paths.bars?.({ size: [0.8, 40] });
  const series = order.map((code, index): UPlot.Series => {
    const name = codes.get(code) ?? String(code);
    return {
      label: name,
      fill: colour(name, index),
      stroke: colour(name, index),
      ...(bars ? { paths: bars } : {}),
      points: { show: false },
    };
  });
  // Tallest first: each smaller running total is drawn over the one before it.
  draw('calls-chart', { series: series.reverse(), axes: [{ label: 'calls' }] }, [xs, ...stacked.reverse()]);
  const latency = (key: 'p50Ms' | 'p95Ms' | 'p99Ms') => all.map(({ bucket }) => (bucket ? bucket[key] : null));
  draw(
    'latency-chart',
    {
      series: [
        { label: 'p50', stroke: '#3b6fd8', width: 2, spanGaps: true },
        { label: 'p95', stroke: '#8a5cd8', width: 2, spanGaps: true },
        { label: 'p99', stroke: '#d83b3b', width: 2, spanGaps: true },
      ],
      axes: [{ label: 'ms' }],
    },
    [xs, latency('p50Ms'), latency('p95Ms'), latency('p99Ms')],
  );
  $('bucket-size').textContent = `${timeline.bucketMs / 60000} min each, since ${utc(Date.parse(timeline.since))}`;
  // The table: one row per bucket with calls, newest first; a run of empty buckets is one row, "no calls".
  const body = tableBody('buckets');
  body.replaceChildren();
  const rows: BucketRow[] = [];
  for (const { start, bucket } of all) {
    const last = rows.at(-1);
    if (!bucket && last && !last.bucket) last.end = start;
    else rows.push({ start, end: start, bucket });
  }
  for (const { start, end, bucket } of rows.reverse()) {
    const row = document.createElement('tr');
    if (!bucket) {
      row.className = 'empty';
      // The end's date only when it differs: "2025-01-02 13:05:00 UTC – 13:57:00 UTC".
      const until = utc(end).slice(0, 10) === utc(start).slice(0, 10) ? utc(end).slice(11) : utc(end);
      cell(row, start === end ? utc(start) : `${utc(start)} – ${until}`);
      for (let column = 0; column < 5; column++) cell(row, null);
      cell(row, `no calls${start === end ? '' : ` (${(end - start) / timeline.bucketMs + 1} buckets)`}`);
      body.append(row);
      continue;
    }
    cell(row, utc(start));
    cell(row, bucket.calls);
    cell(row, bucket.errors);
    cell(row, ms(bucket.p50Ms));
    cell(row, ms(bucket.p95Ms));
    cell(row, ms(bucket.p99Ms));
    cell(row, statusCounts(bucket.byStatus));
    body.append(row);
  }
}

async function load() {
  try {
    show(await api<TimelineJson>(`timeline?window=${encodeURIComponent($('window', HTMLSelectElement).value)}`));
    say('');
  } catch (error) {
    say(`cannot load the timeline: ${messageOf(error)}`);
  }
}

reloadEvery10s(load, $('window'));
