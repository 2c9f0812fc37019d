import { DASHBOARD_WINDOWS, type DashboardWindow } from '../api.js';
import { emptyTable, escapeHtml, renderPage } from './layout.js';

/** The window selector of the overview and methods pages (`#window`, then `#since`), `defaultWindow` selected. */
export function windowSelector(defaultWindow: DashboardWindow): string {
  const options = Object.keys(DASHBOARD_WINDOWS)
    .map(
      (window) =>
        `<option value="${escapeHtml(window)}"${window === defaultWindow ? ' selected' : ''}>${escapeHtml(window)}</option>`,
    )
    .join('');
  return `<label>window <select id="window">${options}</select></label>\n<span id="since"></span>`;
}

/** The HTML of `/`: totals, the timeline chart (uPlot) and a table per service, for a window chosen in the page. */
export function renderOverviewPage(defaultWindow: DashboardWindow): string {
  return renderPage({
    title: 'Overview',
    nav: 'overview',
    header: windowSelector(defaultWindow),
    main: `<section id="totals" aria-label="totals">
<div class="stat"><span class="label">calls</span><span class="value" id="total-calls">–</span></div>
<div class="stat"><span class="label">errors</span><span class="value" id="total-errors">–</span></div>
<div class="stat"><span class="label">success</span><span class="value" id="total-success">–</span></div>
<div class="stat"><span class="label">p50 ms</span><span class="value" id="total-p50">–</span></div>
<div class="stat"><span class="label">p95 ms</span><span class="value" id="total-p95">–</span></div>
<div class="stat"><span class="label">p99 ms</span><span class="value" id="total-p99">–</span></div>
</section>
<section aria-label="timeline"><h2>timeline</h2><div id="chart"></div></section>
<section aria-label="services">
<h2>services</h2>
${emptyTable('services', ['service', 'calls', 'rate /s', 'error rate', 'p50 ms', 'p95 ms', 'p99 ms', 'status codes'])}
</section>`,
    styles: ['/assets/uPlot.min.css'],
    scripts: ['/assets/uPlot.iife.min.js'],
    module: '/assets/overview.js',
  });
}
