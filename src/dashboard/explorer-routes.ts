import type { Hono } from 'hono';
import type { LogStore } from '@grpcforge/runtime';
import type { CatalogJson, ExplorerCallJson, ExplorerTargetsJson, StoreJsonVersion } from '@grpcforge/runtime/vocabulary';
import { DashboardRequestError, readJsonBody } from './api.js';
import { explorerCallRequest, explorerCommands, explorerTargets } from './explorer.js';
import type { DashboardWorkspace } from './workspace.js';

/** What the catalog and explorer routes need. */
export interface CatalogRoutesOptions {
  readonly store: LogStore;
  readonly workspace: DashboardWorkspace;
  /** The `version` of every answer (the dashboard's JSON version). */
  readonly version: StoreJsonVersion;
}

/**
 * Registers `GET /api/v1/catalog`, `GET /api/v1/explorer/targets` and `POST /api/v1/explorer/call` on the app. Call
 * it after the token, CSRF and JSON-body middleware of `/api/*`: hono runs middleware in the order it was added.
 */
export function registerCatalogRoutes(app: Hono, { store, workspace, version }: CatalogRoutesOptions): void {
  const catalog = workspace.catalog ?? { problem: 'the dashboard was started without the workspace contracts' };
  // The catalog is computed once, at start-up: its answer is a constant.
  const catalogBody = catalog.services
    ? JSON.stringify({ version, services: catalog.services } satisfies CatalogJson)
    : undefined;

  app.get('/api/v1/catalog', (c) => {
    if (catalogBody === undefined) return c.json({ error: catalog.problem }, 503);
    return c.body(catalogBody, 200, { 'Content-Type': 'application/json' });
  });

  app.get('/api/v1/explorer/targets', async (c) =>
    c.json({ version, targets: await explorerTargets(store, workspace) } satisfies ExplorerTargetsJson),
  );

  app.post('/api/v1/explorer/call', async (c) => {
    const explorer = workspace.explorer;
    if (!explorer) return c.json({ error: 'the explorer is not available in this dashboard' }, 503);
    const body = await readJsonBody(c.req.raw);
    const allowed = (await explorerTargets(store, workspace)).map((entry) => entry.target);
    const request = explorerCallRequest(body, allowed);
    const outcome = await explorer.call(request);
    if ('rejected' in outcome) throw new DashboardRequestError(400, outcome.rejected);
    return c.json({
      version,
      target: request.target,
      method: request.method,
      ...outcome,
      commands: explorerCommands(request, explorer.tls),
    } satisfies ExplorerCallJson);
  });
}
