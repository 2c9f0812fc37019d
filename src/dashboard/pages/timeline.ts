import type { DashboardWindow } from '../api.js';
import { emptyTable, renderPage } from './layout.js';
import { windowSelector } from './overview.js';

/**
 * The HTML of `/timeline`: calls per bucket stacked by status code, p50/p95/p99 latency per bucket (two uPlot
 * charts), and the same numbers as a table, for a window chosen in the page.
 */
export function renderTimelinePage(defaultWindow: DashboardWindow): string {
  return renderPage({
    title: 'Timeline',
    nav: 'timeline',
    header: windowSelector(defaultWindow),
    main: `<section aria-label="calls by status code"><h2>calls by status code</h2><div id="calls-chart" class="chart"></div></section>
<section aria-label="latency"><h2>latency (ms)</h2><div id="latency-chart" class="chart"></div></section>
<section aria-label="buckets">
<h2>buckets <span id="bucket-size" class="muted"></span></h2>
${emptyTable('buckets', ['start', 'calls', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'status codes'])}
</section>`,
    styles: ['/assets/uPlot.min.css'],
    scripts: ['/assets/uPlot.iife.min.js'],
    module: '/assets/timeline.js',
  });
}
