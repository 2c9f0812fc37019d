/** `/assets/overview.js`: fills the overview page from the API, every 10 s. Times are in UTC, as on every page. */
export const OVERVIEW_SCRIPT = `'use strict';
(() => {
  const { WINDOW_MS, $, say, api, cell, buckets, utc, utcTime } = window.dashboard;
  const ms = (value) => value.toFixed(2);
  const percent = (value) => (value * 100).toFixed(2) + '%';

  function showOverview(overview, windowMs) {
    $('since').textContent = 'since ' + utc(Date.parse(overview.since));
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
    const xs = [], calls = [], errors = [], p95 = [];
    for (const { start, bucket } of buckets(timeline)) {
      xs.push(start / 1000);
      calls.push(bucket ? bucket.calls : 0);
      errors.push(bucket ? bucket.errors : 0);
      p95.push(bucket ? bucket.p95Ms : null);
    }
    const time = utcTime($('chart'));
    const options = {
      width: Math.max(320, Math.min(1100, document.body.clientWidth - 48)),
      height: 260,
      tzDate: time.tzDate,
      scales: { x: { time: true }, ms: { auto: true } },
      series: [
        time.series,
        { label: 'calls', stroke: '#3b6fd8', width: 2 },
        { label: 'errors', stroke: '#d83b3b', width: 2 },
        { label: 'p95 ms', stroke: '#8a5cd8', width: 1, dash: [4, 4], scale: 'ms', spanGaps: true },
      ],
      axes: [time.axis, { label: 'calls' }, { side: 1, scale: 'ms', label: 'p95 ms', grid: { show: false } }],
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

  $('window').addEventListener('change', load);
  void load();
  setInterval(load, 10000);
})();
`;
