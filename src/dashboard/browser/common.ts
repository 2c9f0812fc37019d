import type UPlot from 'uplot';
import type {
  ApiErrorJson,
  DashboardPageConfigJson,
  RequestLogJson,
  TimelineBucketJson,
  TimelineJson,
} from '@grpcforge/runtime/vocabulary';

/**
 * `/assets/common.js`, imported by every page's module. The first page opened takes the token from the URL fragment
 * (the browser never sends a fragment), takes it out of the address bar and trades it once, by `POST
 * /api/v1/session`, for the session cookie (HttpOnly: no script reads it) and the CSRF cookie; the token is then
 * forgotten. Every later fetch and EventSource rides on the cookie, in this tab and in new ones; POSTs add the CSRF
 * token as a header. Values reach the page with textContent only.
 */

/**
 * The element with this id, checked to be a `type` (an `HTMLElement` unless told).
 * @throws Error when the page has no such element, or it is another kind: a page and its module disagree.
 */
export function $(id: string): HTMLElement;
export function $<T extends Element>(id: string, type: abstract new () => T): T;
export function $(id: string, type: abstract new () => Element = HTMLElement): Element {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return element;
}

/** The page's settings (`<script type="application/json" id="dashboard-config">`, written by the server). */
const config = JSON.parse($('dashboard-config').textContent) as DashboardPageConfigJson;

/** Each window's length by name, in ms. */
const WINDOW_MS = config.windowMs;

/** A window's length by its name, in ms. */
export const windowMsOf = (window: string): number => WINDOW_MS[window] ?? 0;

/** Shows `text` in the page's message bar (hides it when empty). */
export function say(text: string): void {
  const message = $('message');
  message.textContent = text;
  message.hidden = !text;
}

/** The message of something thrown. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const fragment = new URLSearchParams(location.hash.slice(1)).get('token');
if (fragment) history.replaceState(null, '', location.pathname + location.search);

function csrfToken(): string {
  // The server's name for it (its bound port), not the address's port: behind a proxy they differ.
  const name = `${config.csrfCookie}=`;
  const entry = document.cookie.split('; ').find((cookie) => cookie.startsWith(name));
  return entry ? decodeURIComponent(entry.slice(name.length)) : '';
}

/** Settles once the session cookie is there (or could not be had: the API then says why). */
export const ready: Promise<unknown> = fragment
  ? fetch('/api/v1/session', {
      method: 'POST',
      headers: { authorization: `Bearer ${fragment}`, 'content-type': 'application/json' },
      body: '{}',
    }).then(
      (response) =>
        response.ok || say('the token in the address is not this dashboard\u2019s: open the address grpcforge dashboard printed'),
      () => undefined,
    )
  : Promise.resolve();

/** An API error: its message, and the HTTP status. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * GETs `/api/v1/PATH`, or POSTs `body` as JSON to it (with the CSRF token), and returns the answer as `T`, the
 * JSON shape of that path.
 * @throws ApiError with the API's message for an answer that is not 2xx.
 */
export async function api<T>(path: string, body?: unknown): Promise<T> {
  await ready;
  const init: RequestInit =
    body === undefined
      ? {}
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken() },
          body: JSON.stringify(body),
        };
  const response = await fetch(`/api/v1/${path}`, init);
  const reply = (await response.json()) as unknown;
  if (response.status === 401) say('open the address grpcforge dashboard printed, with its #token=\u2026');
  if (!response.ok) throw new ApiError((reply as Partial<ApiErrorJson>).error || response.statusText, response.status);
  return reply as T;
}

/** What a table cell shows: null and undefined as an en dash. */
export type CellValue = string | number | null | undefined;

/** Appends a cell with `value` as text (null as an en dash); returns it. */
export function cell(row: HTMLTableRowElement, value: CellValue): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = value === null || value === undefined ? '–' : String(value);
  row.append(td);
  return td;
}

/** The body of table `#id`. */
export const tableBody = (id: string): HTMLTableSectionElement => {
  const body = $(id, HTMLTableElement).tBodies[0];
  if (!body) throw new Error(`table #${id} has no body`);
  return body;
};

/** A link to one request's page, its id as text. */
function requestLink(requestId: string): HTMLAnchorElement {
  const link = document.createElement('a');
  link.href = `/requests/${encodeURIComponent(requestId)}`;
  link.textContent = requestId;
  link.className = 'request-id';
  return link;
}

/** The columns of the calls tables (requests, live tail). */
export function callRow(log: RequestLogJson): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.dataset.id = String(log.id);
  cell(row, log.startedAt);
  // A call to a method not served is stored under its bucket (`<service>/_unknown`); the path it asked for shows on hover.
  const method = cell(row, `${log.service}/${log.method}`);
  if (log.rawPath !== null) method.title = log.rawPath;
  const status = cell(row, log.status);
  if (log.statusCode !== 0) status.className = 'error';
  cell(row, errorReasonText(log));
  cell(row, log.durationMs.toFixed(2));
  cell(row, log.principal);
  cell(row, log.peer);
  const id = document.createElement('td');
  id.append(requestLink(log.requestId));
  row.append(id);
  return row;
}

/**
 * What a failed call's details said, for its `reason` cell: `USER_NOT_FOUND`, `field username`, or both; null (an
 * en dash) when they said neither.
 */
export function errorReasonText(log: Pick<RequestLogJson, 'errorReason' | 'violationField'>): string | null {
  const said = [
    ...(log.errorReason === null ? [] : [log.errorReason]),
    ...(log.violationField === null ? [] : [`field ${log.violationField}`]),
  ];
  return said.length > 0 ? said.join(', ') : null;
}

/** `status calls, …` of a `byStatus` list. */
export const statusCounts = (byStatus: readonly { status: string; calls: number }[]): string =>
  byStatus.map((entry) => `${entry.status} ${entry.calls}`).join(', ');

/** One point of a chart over a timeline: a bucket's start (ms) and the bucket, undefined when it had no call. */
export interface TimelinePoint {
  readonly start: number;
  readonly bucket: TimelineBucketJson | undefined;
}

/**
 * Every bucket of a timeline answer's window, oldest first, empty ones included (the API sends only buckets with
 * calls): one per point of a chart.
 */
export function buckets(timeline: TimelineJson): TimelinePoint[] {
  const byStart = new Map(timeline.timeline.map((bucket) => [Date.parse(bucket.start), bucket]));
  const step = timeline.bucketMs;
  const all: TimelinePoint[] = [];
  for (let start = Math.floor(Date.parse(timeline.since) / step) * step; start <= Date.now(); start += step) {
    all.push({ start, bucket: byStart.get(start) });
  }
  return all;
}

/** A time as every page shows it: in UTC, and saying so ("2025-01-02 13:04:05 UTC"), whatever the browser's zone. */
export const utc = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** The UTC pieces of a chart's options over time: see {@link utcTime}. */
export interface UtcTime {
  readonly tzDate: (seconds: number) => Date;
  readonly series: UPlot.Series;
  readonly axis: UPlot.Axis;
}

/**
 * uPlot options for charts over time, in UTC like the rest of the page: `tzDate` (ticks on UTC minutes, hours,
 * days), the x series' legend value and the x axis, labelled "UTC", whose tick labels ("13:05", or "01-02" for days)
 * are also kept in `data-x-ticks` of `element`, space-separated.
 */
export function utcTime(element: HTMLElement): UtcTime {
  return {
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
    series: {
      value: (_chart: UPlot, seconds: number | null | undefined) =>
        seconds === null || seconds === undefined ? '–' : utc(seconds * 1000),
    },
    axis: {
      label: 'time (UTC)',
      values: (_chart: UPlot, splits: number[], _axis: number, _space: number, increment: number) => {
        const labels = splits.map((seconds) => {
          const iso = new Date(seconds * 1000).toISOString();
          return increment >= 86400 ? iso.slice(5, 10) : iso.slice(11, 16);
        });
        element.dataset.xTicks = labels.join(' ');
        return labels;
      },
    },
  };
}

/** Chart width for the page: the body's, within 320 to 1100 px. */
export const chartWidth = (): number => Math.max(320, Math.min(1100, document.body.clientWidth - 48));

/** "1h 2m", "3m 4s", "5s" */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** Runs `load` now, then every 10 s, and when `trigger` (the page's window selector, a checkbox) changes. */
export function reloadEvery10s(load: () => Promise<void>, trigger: HTMLElement): void {
  trigger.addEventListener('change', () => void load());
  void load();
  setInterval(() => void load(), 10_000);
}
