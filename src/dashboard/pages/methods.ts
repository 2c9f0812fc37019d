import { UNKNOWN_BUCKET, UNKNOWN_BUCKET_NOTE } from '@grpcforge/runtime/vocabulary';
import type { DashboardWindow } from '../api.js';
import { emptyNote, emptyTable, renderPage } from './layout.js';
import { windowSelector } from './overview.js';

/** The sortable columns of the methods table: the key the script sorts by, and the header's label. */
export const METHOD_COLUMNS = [
  ['method', 'method'],
  ['calls', 'calls'],
  ['errors', 'errors'],
  ['codes', 'error codes'],
  ['p50', 'p50 ms'],
  ['p95', 'p95 ms'],
  ['p99', 'p99 ms'],
  ['requestBytes', 'request bytes'],
  ['responseBytes', 'response bytes'],
  ['impact', 'impact'],
] as const;

/**
 * The HTML of `/methods`: one row per method for a window chosen in the page, sorted by a clicked column; below it,
 * the window's errors per method, status and reason.
 */
export function renderMethodsPage(defaultWindow: DashboardWindow): string {
  const head = METHOD_COLUMNS.map(
    ([key, label]) => `<th data-sort="${key}"><button type="button" class="sort">${label}</button></th>`,
  ).join('');
  return renderPage({
    title: 'Methods',
    nav: 'methods',
    header: `${windowSelector(defaultWindow)}\n<span id="sorted-by" class="muted"></span>`,
    main: `<table id="methods">
<thead><tr>${head}</tr></thead>
<tbody></tbody>
</table>
${emptyNote('no call in this window')}
<p class="muted">impact = p95 ms × calls per second over the window: where time is spent. Bytes are the window's
totals. Click a column to sort by it (again to reverse).</p>
<p class="muted"><code>&lt;service&gt;/${UNKNOWN_BUCKET}</code>, <code>${UNKNOWN_BUCKET}/${UNKNOWN_BUCKET}</code>: ${UNKNOWN_BUCKET_NOTE}, one row
per served service and one for every other; the paths they asked for are on the requests page.</p>
<h2>Errors by reason</h2>
${emptyTable('errors-by-reason', ['method', 'status', 'reason', 'calls'])}
<p id="errors-empty" class="muted" hidden>no failed call in this window</p>
<p class="muted">Failed calls per method, status and the reason of their <code>ErrorInfo</code> detail, the largest
first; – : errors whose details named no reason. A row opens those calls on the requests page.</p>`,
    module: '/assets/methods.js',
  });
}
