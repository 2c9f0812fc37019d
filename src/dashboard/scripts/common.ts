import { DASHBOARD_WINDOWS } from '../api.js';

/** Each window's length in ms, for the pages' rates (overview, methods). */
const WINDOW_MS = Object.fromEntries(Object.entries(DASHBOARD_WINDOWS).map(([name, { windowMs }]) => [name, windowMs]));

/**
 * `/assets/common.js`, loaded first on every page. The first page opened takes the token from the URL fragment (the
 * browser never sends a fragment), takes it out of the address bar and trades it once, by `POST /api/v1/session`, for
 * the session cookie (HttpOnly: no script reads it) and the CSRF cookie; the token is then forgotten. Every later
 * fetch and EventSource rides on the cookie, in this tab and in new ones; POSTs add the CSRF token as a header.
 * Exposes `window.dashboard` to the page scripts; values reach the page with textContent only. `csrfCookie` is the
 * name of the CSRF cookie this dashboard sets.
 */
export const commonScript = (csrfCookie: string): string => `'use strict';
(() => {
  const fragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fragment) history.replaceState(null, '', location.pathname + location.search);
  /** Each window's length in ms. */
  const WINDOW_MS = ${JSON.stringify(WINDOW_MS)};
  const $ = (id) => document.getElementById(id);
  const say = (text) => {
    $('message').textContent = text;
    $('message').hidden = !text;
  };
  const csrfToken = () => {
    // The server's name for it (its bound port), not the address's port: behind a proxy they differ.
    const name = ${JSON.stringify(csrfCookie + '=')};
    const entry = document.cookie.split('; ').find((cookie) => cookie.startsWith(name));
    return entry ? decodeURIComponent(entry.slice(name.length)) : '';
  };
  /** Settles once the session cookie is there (or could not be had: the API then says why). */
  const ready = fragment
    ? fetch('/api/v1/session', {
        method: 'POST',
        headers: { authorization: 'Bearer ' + fragment, 'content-type': 'application/json' },
        body: '{}',
      }).then(
        (response) => response.ok || say('the token in the address is not this dashboard\u2019s: open the address grpcforge dashboard printed'),
        () => undefined,
      )
    : Promise.resolve();

  async function api(path, body) {
    await ready;
    const headers = {};
    const init = { headers };
    if (body !== undefined) {
      init.method = 'POST';
      headers['content-type'] = 'application/json';
      headers['x-csrf-token'] = csrfToken();
      init.body = JSON.stringify(body);
    }
    const response = await fetch('/api/v1/' + path, init);
    const reply = await response.json();
    if (response.status === 401) say('open the address grpcforge dashboard printed, with its #token=\u2026');
    if (!response.ok) throw Object.assign(new Error(reply.error || response.statusText), { status: response.status });
    return reply;
  }

  /** POST \`body\` as JSON to an API path (the writes: API keys). */
  const post = (path, body) => api(path, body);

  /** Appends a cell with \`value\` as text (null as an en dash); returns it. */
  function cell(row, value) {
    const td = document.createElement('td');
    td.textContent = value === null || value === undefined ? '–' : String(value);
    row.append(td);
    return td;
  }

  /** A link to one request's page, its id as text. */
  function requestLink(requestId) {
    const link = document.createElement('a');
    link.href = '/requests/' + encodeURIComponent(requestId);
    link.textContent = requestId;
    link.className = 'request-id';
    return link;
  }

  /** The columns of the calls tables (requests, live tail). */
  function callRow(log) {
    const row = document.createElement('tr');
    row.dataset.id = String(log.id);
    cell(row, log.startedAt);
    cell(row, log.service + '/' + log.method);
    const status = cell(row, log.status);
    if (log.statusCode !== 0) status.className = 'error';
    cell(row, log.durationMs.toFixed(2));
    cell(row, log.principal);
    cell(row, log.peer);
    const id = document.createElement('td');
    id.append(requestLink(log.requestId));
    row.append(id);
    return row;
  }

  /**
   * Every bucket of a timeline answer's window, oldest first, empty ones included (the API sends only buckets with
   * calls): [{ start (ms), bucket (or undefined) }], one per point of a chart.
   */
  function buckets(timeline) {
    const byStart = new Map(timeline.timeline.map((bucket) => [Date.parse(bucket.start), bucket]));
    const step = timeline.bucketMs;
    const all = [];
    for (let start = Math.floor(Date.parse(timeline.since) / step) * step; start <= Date.now(); start += step) {
      all.push({ start, bucket: byStart.get(start) });
    }
    return all;
  }

  /** A time as every page shows it: in UTC, and saying so ("2025-01-02 13:04:05 UTC"), whatever the browser's zone. */
  const utc = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';

  /**
   * uPlot options for charts over time, in UTC like the rest of the page: \`tzDate\` (ticks on UTC minutes, hours,
   * days), the x series' legend value and the x axis, labelled "UTC", whose tick labels ("13:05", or "01-02" for days)
   * are also kept in \`data-x-ticks\` of \`element\`, space-separated.
   */
  function utcTime(element) {
    return {
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
      series: { value: (chart, seconds) => (seconds === null || seconds === undefined ? '–' : utc(seconds * 1000)) },
      axis: {
        label: 'time (UTC)',
        values: (chart, splits, axis, space, increment) => {
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

  /** "1h 2m", "3m 4s", "5s" */
  function age(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }

  window.dashboard = { ready, WINDOW_MS, $, say, api, post, cell, callRow, requestLink, buckets, age, utc, utcTime };
})();
`;
