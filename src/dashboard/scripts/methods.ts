/** `/assets/methods.js`: the methods table from `GET /api/v1/methods`, every 10 s, sorted in the page. */
export const METHODS_SCRIPT = `'use strict';
(() => {
  const { WINDOW_MS, $, say, api, cell } = window.dashboard;
  const ms = (value) => value.toFixed(2);
  let rows = [];
  // Busiest first, as the API sends them.
  let sort = { key: 'calls', descending: true };

  /** One row's values: numbers for the numeric columns (what they sort by), text for the others. */
  function values(method, windowMs) {
    const errorCodes = method.byStatus.filter((entry) => entry.statusCode !== 0);
    return {
      method: method.service + '/' + method.method,
      calls: method.calls,
      errors: method.errors,
      codes: errorCodes.map((entry) => entry.status + ' ' + entry.calls).join(', '),
      codesCount: errorCodes.length,
      p50: method.p50Ms,
      p95: method.p95Ms,
      p99: method.p99Ms,
      requestBytes: method.requestBytes,
      responseBytes: method.responseBytes,
      impact: method.p95Ms * (method.calls / (windowMs / 1000)),
    };
  }

  function compare(a, b) {
    const key = sort.key === 'codes' ? 'codesCount' : sort.key;
    const order = typeof a[key] === 'number' ? a[key] - b[key] : String(a[key]).localeCompare(String(b[key]));
    return (sort.descending ? -order : order) || a.method.localeCompare(b.method);
  }

  function show() {
    const body = $('methods').tBodies[0];
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
    for (const th of $('methods').tHead.rows[0].cells) {
      if (th.dataset.sort === sort.key) th.setAttribute('aria-sort', sort.descending ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    }
    const label = $('methods').querySelector('th[data-sort="' + sort.key + '"]').textContent;
    $('sorted-by').textContent = 'sorted by ' + label + (sort.descending ? ' ↓' : ' ↑');
  }

  async function load() {
    const selected = $('window').value;
    try {
      const reply = await api('methods?window=' + encodeURIComponent(selected));
      say('');
      $('since').textContent = 'since ' + reply.since;
      rows = reply.methods.map((method) => values(method, WINDOW_MS[selected]));
      show();
    } catch (error) {
      say('cannot load the methods: ' + error.message);
    }
  }

  $('methods').tHead.addEventListener('click', (event) => {
    const th = event.target.closest('th[data-sort]');
    if (!th) return;
    const key = th.dataset.sort;
    // A new column starts with the largest (or, for names, A to Z) first; the same column reverses.
    sort = sort.key === key ? { key, descending: !sort.descending } : { key, descending: key !== 'method' };
    show();
  });
  $('window').addEventListener('change', load);
  void load();
  setInterval(load, 10000);
})();
`;
