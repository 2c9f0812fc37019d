import type { DashboardPageConfigJson } from '@grpcforge/runtime/vocabulary';

/**
 * The shell every page shares: a static HTML document with no data in it, the nav bar, and the page's module
 * (`/assets/NAME.js`, built from `src/dashboard/browser/NAME.ts`; it imports `/assets/common.js`: the token, the API
 * and the helpers every page uses). No script logic is written here.
 */

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * An empty table for a page script to fill: `columns` (plain labels) as its header row, an empty body.
 * `className` `text` aligns every column left.
 */
export function emptyTable(id: string, columns: readonly string[], className?: string): string {
  const head = columns.map((column) => `<th>${escapeHtml(column)}</th>`).join('');
  const classes = className === undefined ? '' : ` class="${className}"`;
  return `<table id="${id}"${classes}>\n<thead><tr>${head}</tr></thead>\n<tbody></tbody>\n</table>`;
}

/** The note (`#empty`) a page script shows when its table has no rows. */
export const emptyNote = (text: string): string => `<p id="empty" class="muted" hidden>${escapeHtml(text)}</p>`;

/** Where {@link withPageConfig} puts the page's settings. */
const PAGE_CONFIG_SLOT = '<!-- dashboard-config -->';

/** The pages of the nav bar, in its order. */
const NAV = [
  { id: 'overview', href: '/', label: 'Overview' },
  { id: 'timeline', href: '/timeline', label: 'Timeline' },
  { id: 'methods', href: '/methods', label: 'Methods' },
  { id: 'requests', href: '/requests', label: 'Requests' },
  { id: 'tail', href: '/tail', label: 'Live tail' },
  { id: 'instances', href: '/instances', label: 'Instances' },
  { id: 'keys', href: '/keys', label: 'API keys' },
  { id: 'catalog', href: '/catalog', label: 'Catalog' },
  { id: 'explorer', href: '/explorer', label: 'Explorer' },
  { id: 'map', href: '/map', label: 'Service map' },
] as const;

/** A page of the nav bar. */
export type NavPage = (typeof NAV)[number]['id'];

export interface PageShell {
  readonly title: string;
  /** The nav entry shown as the current page. */
  readonly nav: NavPage;
  /** Trusted HTML (built by the page modules, no data in it). */
  readonly header?: string;
  readonly main: string;
  /** Extra stylesheets, before the shared one. */
  readonly styles?: readonly string[];
  /** Classic scripts the module relies on (uPlot's browser build, which defines the global `uPlot`). */
  readonly scripts?: readonly string[];
  /** The page's module, `/assets/NAME.js`: run after the document is parsed and the classic scripts ran. */
  readonly module: string;
}

/** The HTML of one page. */
export function renderPage({ title, nav, header = '', main, styles = [], scripts = [], module }: PageShell): string {
  const links = NAV.map(
    ({ id, href, label }) => `<a href="${href}"${id === nav ? ' aria-current="page"' : ''}>${escapeHtml(label)}</a>`,
  ).join('');
  const css = [...styles, '/assets/dashboard.css'].map((href) => `<link rel="stylesheet" href="${href}">`).join('\n');
  const js = [...scripts.map((src) => `<script src="${src}"></script>`), `<script type="module" src="${module}"></script>`].join(
    '\n',
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · grpcforge dashboard</title>
${css}
${PAGE_CONFIG_SLOT}
</head>
<body>
<nav id="nav"><strong>grpcforge</strong>${links}</nav>
<header>
<h1>${escapeHtml(title)}</h1>
${header}
</header>
<p id="message" hidden></p>
<main>
${main}
</main>
${js}
</body>
</html>
`;
}

/**
 * The page with its settings for the modules, as JSON in `<script type="application/json" id="dashboard-config">`
 * (data, not code: the CSP's `script-src 'self'` does not apply to it). `<` is escaped so no value ends the element.
 */
export function withPageConfig(html: string, config: DashboardPageConfigJson): string {
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return html.replace(PAGE_CONFIG_SLOT, () => `<script type="application/json" id="dashboard-config">${json}</script>`);
}

/** The stylesheet of every page. */
export const DASHBOARD_CSS = `body { font: 14px system-ui, sans-serif; margin: 0 24px 24px; color: #1d2330; }
nav { display: flex; gap: 16px; align-items: baseline; padding: 10px 0; border-bottom: 1px solid #dde; }
nav a { color: #3b6fd8; text-decoration: none; }
nav a[aria-current="page"] { color: #1d2330; font-weight: 600; }
header { display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin: 24px 0 8px; }
#since, .muted { color: #667; }
#message { background: #fff3cd; padding: 8px 12px; }
#totals { display: flex; gap: 12px; flex-wrap: wrap; }
.stat { border: 1px solid #dde; border-radius: 6px; padding: 8px 14px; min-width: 90px; }
.stat .label { display: block; color: #667; font-size: 12px; }
.stat .value { font-size: 22px; font-variant-numeric: tabular-nums; }
form.filters { display: flex; gap: 10px; flex-wrap: wrap; align-items: end; margin-bottom: 12px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: #667; gap: 2px; }
.views, .pager { display: flex; gap: 8px; margin: 8px 0; align-items: baseline; }
table { border-collapse: collapse; }
th, td { text-align: right; padding: 4px 10px; border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child, th:last-child, td:last-child { text-align: left; }
table.text th, table.text td { text-align: left; }
td.error { color: #b02020; }
th button.sort { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th[aria-sort] button.sort { color: #3b6fd8; }
form.create { display: flex; gap: 10px; flex-wrap: wrap; align-items: end; margin-bottom: 12px; }
form.create label { display: flex; flex-direction: column; font-size: 12px; color: #667; gap: 2px; }
#new-key { border: 1px solid #9c6; background: #f3fbe9; padding: 8px 12px; }
#new-key code { font-size: 13px; user-select: all; word-break: break-all; }
td.state-revoked, td.state-expired { color: #b02020; }
dl.columns { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
#map text { font: 12px system-ui, sans-serif; fill: #1d2330; }
#map .node-name { font-weight: 600; font-size: 13px; } #map .node-serves, #map .edge-service { fill: #667; }
dl.columns dt { color: #667; } dl.columns dd { margin: 0; font-variant-numeric: tabular-nums; }
form.explorer .row { display: flex; gap: 10px; flex-wrap: wrap; align-items: end; margin-bottom: 8px; }
form.explorer label { display: flex; flex-direction: column; font-size: 12px; color: #667; gap: 2px; margin-bottom: 8px; }
form.explorer textarea, pre { font: 13px ui-monospace, monospace; }
pre { background: #f6f7f9; padding: 8px 12px; white-space: pre-wrap; word-break: break-all; margin: 4px 0; }
.comment { white-space: pre-wrap; }
.deprecated { color: #b02020; font-size: 12px; }
dd.ok { color: #2a7a2a; } dd.error { color: #b02020; }
details.template summary { cursor: pointer; color: #3b6fd8; }
dd.details { white-space: pre-wrap; } #violations p.error { color: #b02020; margin: 4px 0; }
`;
