import { emptyNote, renderPage } from './layout.js';

/**
 * The HTML of `/catalog`: every proto service of the workspace, from `GET /api/v1/catalog` (a section per service,
 * filled by the page script: its comment, who serves and consumes it, and its methods with their kinds, comments
 * and request and response templates, each with a *try it* link to the explorer).
 */
export function renderCatalogPage(): string {
  return renderPage({
    title: 'Service catalog',
    nav: 'catalog',
    header: '<span class="muted">the services of grpcforge.yaml, from the contracts</span>',
    main: `<div id="catalog"></div>
${emptyNote('no service: grpcforge.yaml serves and consumes none')}`,
    module: '/assets/catalog.js',
  });
}
