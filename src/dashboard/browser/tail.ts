import type { RequestLogJson } from '@grpcforge/runtime/vocabulary';
import { $, callRow, ready, tableBody } from './common.js';

/**
 * `/assets/tail.js`: the live tail. An EventSource on `/api/v1/tail` (the session cookie goes with it); each
 * `call` event is one v2 log, shown newest first, at most 200 rows. Paused, calls wait (the last 200) and are shown
 * on Resume. On a dropped connection the browser reconnects with Last-Event-ID, and the server goes on from there.
 */

const MAX_ROWS = 200;
const body = tableBody('calls');
const waiting: RequestLogJson[] = [];
let paused = false;
let connection = 'connecting…';

function state() {
  $('tail-state').textContent = paused ? `paused, ${waiting.length} waiting` : connection;
}
function show(log: RequestLogJson) {
  body.prepend(callRow(log));
  while (body.rows.length > MAX_ROWS) body.lastElementChild?.remove();
}

$('pause').addEventListener('click', () => {
  paused = !paused;
  $('pause').textContent = paused ? 'Resume' : 'Pause';
  if (!paused) for (const log of waiting.splice(0)) show(log);
  state();
});
await ready;
const source = new EventSource('/api/v1/tail');
source.addEventListener('open', () => {
  connection = 'live';
  state();
});
source.addEventListener('call', (event) => {
  const log = JSON.parse((event as MessageEvent<string>).data) as RequestLogJson;
  if (paused) {
    waiting.push(log);
    if (waiting.length > MAX_ROWS) waiting.shift();
  } else {
    show(log);
  }
  state();
});
source.addEventListener('error', () => {
  connection = source.readyState === EventSource.CLOSED ? 'disconnected (reload the page)' : 'reconnecting…';
  state();
});
state();
