import type { ErrorReasonCountJson, ErrorsByReasonJson, MethodStatsJson, MethodsJson } from '@grpcforge/runtime/vocabulary';
import { $, api, cell, messageOf, reloadEvery10s, say, statusCounts, tableBody, windowMsOf } from './common.js';

/**
 * `/assets/methods.js`: the methods table from `GET /api/v1/methods`, every 10 s, sorted in the page; the errors by
 * reason from `GET /api/v1/errors`, each row a link to its calls on the requests page.
 */

const ms = (value: number) => value.toFixed(2);

/** One row's values: numbers for the numeric columns (what they sort by), text for the others. */
interface MethodRow {
  readonly method: string;
  readonly calls: number;
  readonly errors: number;
  readonly codes: string;
  readonly codesCount: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly impact: number;
}

/** A column the table sorts by (the `data-sort` of its header); `codes` sorts by how many error codes. */
type SortKey = Exclude<keyof MethodRow, 'codesCount'>;

let rows: MethodRow[] = [];
// Busiest first, as the API sends them.
let sort: { key: SortKey; descending: boolean } = { key: 'calls', descending: true };

function values(method: MethodStatsJson, windowMs: number): MethodRow {
  const errorCodes = method.byStatus.filter((entry) => entry.statusCode !== 0);
  return {
    method: `${method.service}/${method.method}`,
    calls: method.calls,
    errors: method.errors,
    codes: statusCounts(errorCodes),
    codesCount: errorCodes.length,
    p50: method.p50Ms,
    p95: method.p95Ms,
    p99: method.p99Ms,
    requestBytes: method.requestBytes,
    responseBytes: method.responseBytes,
    impact: method.p95Ms * (method.calls / (windowMs / 1000)),
  };
}

function compare(a: MethodRow, b: MethodRow) {
  const key = sort.key === 'codes' ? 'codesCount' : sort.key;
  const [left, right] = [a[key], b[key]];
  const order = typeof left === 'number' && typeof right === 'number' ? left - right : String(left).localeCompare(String(right));
  return (sort.descending ? -order : order) || a.method.localeCompare(b.method);
}

const table = $('methods', HTMLTableElement);

function show() {
  const body = tableBody('methods');
  body.replaceChildren();
  for (const value of [...rows].sort(compare)) {
    const row = document.createElement('tr');
    row.dataset.method = value.method;
    cell(row, value.method);
    cell(row, String(value.calls));
    const errors = cell(row, String(value.errors));
    if (value.errors > 0) errors.className = 'error';
    cell(row, value.codes || '–');
    cell(row, ms(value.p50));
    cell(row, ms(value.p95));
    cell(row, ms(value.p99));
    cell(row, String(value.requestBytes));
    cell(row, String(value.responseBytes));
    cell(row, value.impact.toFixed(3));
    body.append(row);
  }
  $('empty').hidden = rows.length > 0;
  for (const th of table.tHead?.rows[0]?.cells ?? []) {
    if (th.dataset.sort === sort.key) th.setAttribute('aria-sort', sort.descending ? 'descending' : 'ascending');
    else th.removeAttribute('aria-sort');
  }
  const label = table.querySelector(`th[data-sort="${sort.key}"]`)?.textContent ?? sort.key;
  $('sorted-by').textContent = `sorted by ${label}${sort.descending ? ' ↓' : ' ↑'}`;
}

/** The requests page with the calls of one group: its method, status, errors only, over the window. */
function callsOf(group: ErrorReasonCountJson, window: string): string {
  const query = new URLSearchParams({
    service: group.service,
    method: group.method,
    code: group.status,
    errorsOnly: 'true',
    since: window,
  });
  return `/requests?${query.toString()}`;
}

function showErrors(groups: readonly ErrorReasonCountJson[], window: string) {
  const body = tableBody('errors-by-reason');
  body.replaceChildren(
    ...groups.map((group) => {
      const row = document.createElement('tr');
      row.dataset.method = `${group.service}/${group.method}`;
      const method = document.createElement('td');
      const link = document.createElement('a');
      link.href = callsOf(group, window);
      link.textContent = `${group.service}/${group.method}`;
      method.append(link);
      row.append(method);
      cell(row, group.status).className = 'error';
      const reason = cell(row, group.reason);
      if (group.reason === null) reason.title = 'the errors named no reason (no ErrorInfo detail)';
      cell(row, String(group.calls));
      return row;
    }),
  );
  $('errors-empty').hidden = groups.length > 0;
}

async function load() {
  const selected = $('window', HTMLSelectElement).value;
  try {
    const window = encodeURIComponent(selected);
    const [reply, errors] = await Promise.all([
      api<MethodsJson>(`methods?window=${window}`),
      api<ErrorsByReasonJson>(`errors?window=${window}`),
    ]);
    say('');
    $('since').textContent = `since ${reply.since}`;
    rows = reply.methods.map((method) => values(method, windowMsOf(selected)));
    show();
    showErrors(errors.errorsByReason, selected);
  } catch (error) {
    say(`cannot load the methods: ${messageOf(error)}`);
  }
}

table.tHead?.addEventListener('click', (event) => {
  const th = event.target instanceof Element ? event.target.closest<HTMLElement>('th[data-sort]') : null;
  if (!th) return;
  const key = th.dataset.sort as SortKey;
  // A new column starts with the largest (or, for names, A to Z) first; the same column reverses.
  sort = sort.key === key ? { key, descending: !sort.descending } : { key, descending: key !== 'method' };
  show();
});
reloadEvery10s(load, $('window'));
