import { Status } from 'nice-grpc';
import { DASHBOARD_WINDOWS } from '../api.js';
import { emptyNote, emptyTable, escapeHtml, renderPage } from './layout.js';

/** The calls table (`#calls`) of the requests and live tail pages, filled by `callRow` of common.js. */
export const CALLS_TABLE = emptyTable(
  'calls',
  ['time', 'method', 'status', 'reason', 'ms', 'principal', 'peer', 'request id'],
  'text',
);

const option = (value: string, label = value) => `<option value="${escapeHtml(value)}">${escapeHtml(label)}</option>`;

/** The HTML of `/requests`: filters, quick views (recent errors, slow calls) and a page of calls. */
export function renderRequestsPage(): string {
  const codes = Object.values(Status)
    .filter((value): value is Status => typeof value === 'number')
    .map((code) => option(Status[code], `${Status[code]} (${String(code)})`))
    .join('');
  const windows = Object.keys(DASHBOARD_WINDOWS)
    .map((window) => option(window, `last ${window}`))
    .join('');
  return renderPage({
    title: 'Requests',
    nav: 'requests',
    main: `<form id="filters" class="filters">
<label>service <input name="service" placeholder="auth.v1.AuthService"></label>
<label>method <input name="method" placeholder="Login"></label>
<label>status <select name="code">${option('', 'any')}${codes}</select></label>
<label>principal <input name="principal" placeholder="apikey:ci-bot"></label>
<label>since <select name="since">${option('', 'any time')}${windows}</select></label>
<label>min ms <input name="minDurationMs" inputmode="decimal" size="6"></label>
<label><span>errors only</span><input type="checkbox" name="errorsOnly" value="true"></label>
<button type="submit">Apply</button>
</form>
<div class="views">quick views:
<button type="button" id="view-all">all calls</button>
<button type="button" id="view-errors">recent errors</button>
<button type="button" id="view-slow">slow calls</button>
<label class="muted">slow means ≥ <input id="slow-ms" value="100" inputmode="decimal" size="5"> ms</label>
</div>
${CALLS_TABLE}
${emptyNote('no stored call matches')}
<div class="pager"><button type="button" id="first-page">newest</button><button type="button" id="next-page" disabled>older →</button><span id="page-info" class="muted"></span></div>`,
    module: '/assets/requests.js',
  });
}

/** The HTML of `/requests/:id`: every stored column of one call (the script reads the id from the address). */
export function renderRequestPage(): string {
  return renderPage({
    title: 'Request',
    nav: 'requests',
    header: '<a href="/requests">← all requests</a>',
    main: '<dl id="columns" class="columns"></dl>',
    module: '/assets/request.js',
  });
}
