import type { DashboardWindow } from '../api.js';
import { emptyNote, emptyTable, renderPage } from './layout.js';
import { windowSelector } from './overview.js';

/**
 * The HTML of `/map`: the services of `grpcforge.yaml` as nodes and their `consumes:` entries as edges (an SVG the
 * page script draws), each with the window's calls, rate, error rate and p95; the same numbers as tables.
 */
export function renderMapPage(defaultWindow: DashboardWindow): string {
  return renderPage({
    title: 'Service map',
    nav: 'map',
    header: windowSelector(defaultWindow),
    main: `<svg id="map" role="img" aria-label="service map" xmlns="http://www.w3.org/2000/svg"></svg>
${emptyNote('grpcforge.yaml declares no services')}
<p class="muted">An edge counts every call the provider recorded for that proto service, from any caller.</p>
<section aria-label="services"><h2>services</h2>
${emptyTable('nodes', ['service', 'serves', 'calls', 'rate /s', 'error rate', 'p95 ms'])}</section>
<section aria-label="consumes"><h2>consumes</h2>
${emptyTable('edges', ['from', 'to', 'proto service', 'calls', 'rate /s', 'error rate', 'p95 ms'])}</section>`,
    module: '/assets/map.js',
  });
}
