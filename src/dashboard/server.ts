import { hostPort } from '@grpcforge/runtime/admin';
import { etag } from 'hono/etag';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { LogStore } from '@grpcforge/runtime';
import type { DashboardPageConfigJson } from '@grpcforge/runtime/vocabulary';
import {
  DASHBOARD_WINDOWS,
  DashboardRequestError,
  createDashboardApi,
  readJsonBody,
  type DashboardShapes,
  type DashboardWindow,
} from './api.js';
import { renderInstancesPage } from './pages/instances.js';
import { renderCatalogPage } from './pages/catalog.js';
import { renderExplorerPage } from './pages/explorer.js';
import { renderKeysPage } from './pages/keys.js';
import { DASHBOARD_CSS, withPageConfig } from './pages/layout.js';
import { renderMethodsPage } from './pages/methods.js';
import { renderOverviewPage } from './pages/overview.js';
import { renderRequestPage, renderRequestsPage } from './pages/requests.js';
import { renderMapPage } from './pages/map.js';
import { renderTailPage } from './pages/tail.js';
import { renderTimelinePage } from './pages/timeline.js';
import { registerCatalogRoutes } from './explorer-routes.js';
import { loadBrowserModules } from './browser-modules.js';
import { accessControl, cookieNames, type HostRule } from './access.js';
import { callsAfter } from './tail.js';
import type { DashboardWorkspace } from './workspace.js';

/** Options of {@link createDashboardApp}. */
export interface DashboardAppOptions {
  /** The log store to read; the dashboard writes only API keys (created and revoked on the keys page). */
  readonly store: LogStore;
  readonly shapes: DashboardShapes;
  /** Every `/api/v1/…` request must send `Authorization: Bearer <token>`, or the session cookie a page got for it. */
  readonly token: string;
  /** The addresses a request's Host header may name. */
  readonly hosts: HostRule;
  /** The window the overview shows first. */
  readonly defaultWindow: DashboardWindow;
  /** The services of `grpcforge.yaml` (and what the contracts say of them), for the catalog, explorer and map. */
  readonly workspace: DashboardWorkspace;
}

/** Only this origin, for scripts, styles, images and fetches; no frames, no inline code. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** uPlot's browser build and stylesheet, read from its package in node_modules. */
async function readUplotAssets() {
  const dist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  const [script, css] = await Promise.all([
    readFile(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    readFile(join(dist, 'uPlot.min.css'), 'utf8'),
  ]);
  return { script, css };
}

/** How often the live tail looks for new calls, in ms. */
const TAIL_EVERY_MS = 1000;

/** The hono app: the static page and its assets, and the token-protected JSON API. */
export async function createDashboardApp({
  store,
  shapes,
  token,
  hosts,
  defaultWindow,
  workspace,
}: DashboardAppOptions): Promise<Hono> {
  const api = createDashboardApi({ store, shapes, defaultWindow, workspace });
  const [uplot, browserModules] = await Promise.all([readUplotAssets(), loadBrowserModules()]);
  const access = accessControl({ hosts, token });
  const app = new Hono();

  app.use(async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    // Pages and the API are never stored; assets set their own (revalidated) policy.
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });
  app.onError((error, c) => {
    if (error instanceof DashboardRequestError) return c.json({ error: error.message }, error.status);
    process.stderr.write(`dashboard: ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}\n`);
    return c.json({ error: 'internal error (see the dashboard’s stderr)' }, 500);
  });
  app.notFound((c) => c.json({ error: `not found: ${c.req.path}` }, 404));
  app.use(access.hostCheck);

  // Pages and assets carry no data: they are served without the token. Each page is rendered once, at its first
  // request: it names the CSRF cookie, whose name carries the bound port, known once listening.
  const pageConfig = (): DashboardPageConfigJson => ({
    csrfCookie: cookieNames(hosts.port()).csrf,
    windowMs: Object.fromEntries(Object.entries(DASHBOARD_WINDOWS).map(([name, { windowMs }]) => [name, windowMs])),
  });
  for (const [path, render] of Object.entries({
    '/': () => renderOverviewPage(defaultWindow),
    '/timeline': () => renderTimelinePage(defaultWindow),
    '/map': () => renderMapPage(defaultWindow),
    '/requests': renderRequestsPage,
    '/requests/:requestId': renderRequestPage,
    '/tail': renderTailPage,
    '/instances': renderInstancesPage,
    '/methods': () => renderMethodsPage(defaultWindow),
    '/keys': renderKeysPage,
    '/catalog': renderCatalogPage,
    '/explorer': renderExplorerPage,
  })) {
    let html: string | undefined;
    app.get(path, (c) => c.html((html ??= withPageConfig(render(), pageConfig()))));
  }
  app.get('/favicon.ico', (c) => c.body(null, 204));
  // Assets are revalidated (their URLs carry no version: a new grpcforge serves new files under the same names).
  app.use('/assets/*', etag(), async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-cache');
  });
  const asset = (type: string, body: string) => () =>
    new Response(body, { headers: { 'Content-Type': `${type}; charset=utf-8` } });
  // The page modules and common.js, which they import (`./common.js`), as ES modules.
  for (const [name, script] of browserModules) {
    app.get(`/assets/${name}.js`, asset('text/javascript', script));
  }
  app.get('/assets/dashboard.css', asset('text/css', DASHBOARD_CSS));
  app.get('/assets/uPlot.iife.min.js', asset('text/javascript', uplot.script));
  app.get('/assets/uPlot.min.css', asset('text/css', uplot.css));

  // The API never answers without the token, or the cookie a page got for it (and a POST by cookie needs the CSRF
  // token too). EventSource sends cookies: the live tail needs nothing in its URL.
  app.use('/api/*', access.apiAuth);
  // Writes (POST) take JSON only: 415 for anything else, 400 for a body that is not JSON, 413 past 16 KiB.
  app.post(
    '/api/*',
    bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.json({ error: 'body: larger than 16 KiB' }, 413) }),
    async (c, next) => {
      const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') {
        return c.json({ error: 'unsupported content type: send Content-Type: application/json' }, 415);
      }
      await next();
    },
  );
  app.post('/api/v1/session', access.startSession);
  app.get('/api/v1/keys', async (c) => c.json(await api.keys()));
  app.post('/api/v1/keys', async (c) => c.json(await api.createKey(await readJsonBody(c.req.raw)), 201));
  app.post('/api/v1/keys/:id/revoke', async (c) => c.json(await api.revokeKey(c.req.param('id'))));
  registerCatalogRoutes(app, { store, workspace, version: shapes.version });
  app.get('/api/v1/overview', async (c) => c.json(await api.overview(c.req.query())));
  app.get('/api/v1/methods', async (c) => c.json(await api.methods(c.req.query())));
  app.get('/api/v1/timeline', async (c) => c.json(await api.timeline(c.req.query())));
  app.get('/api/v1/requests', async (c) => c.json(await api.requests(c.req.query())));
  app.get('/api/v1/requests/:requestId', async (c) => c.json(await api.request(c.req.param('requestId'))));
  app.get('/api/v1/instances', async (c) => c.json(await api.instances(c.req.query())));
  app.get('/api/v1/map', async (c) => c.json(await api.map(c.req.query())));
  app.get('/api/v1/errors', async (c) => c.json(await api.errors(c.req.query())));
  app.get('/api/v1/tail', (c) => {
    // A browser reconnecting sends the last id it got: go on from there; else start with the last calls.
    const lastEventId = c.req.header('last-event-id');
    let lastId = lastEventId && /^\d+$/.test(lastEventId) ? Number(lastEventId) : undefined;
    const signal = c.req.raw.signal;
    return streamSSE(
      c,
      async (stream) => {
        let wake: () => void = () => undefined;
        const stop = () => wake();
        stream.onAbort(stop);
        signal.addEventListener('abort', stop, { once: true });
        const open = () => !stream.aborted && !stream.closed && !signal.aborted;
        await stream.writeSSE({ event: 'ready', data: '{}', retry: 2000 });
        while (open()) {
          for (const log of await callsAfter(store.logs, lastId)) {
            await stream.writeSSE({ event: 'call', id: String(log.id), data: JSON.stringify(shapes.requestLog(log)) });
            lastId = log.id;
          }
          lastId ??= 0;
          if (!open()) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, TAIL_EVERY_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        signal.removeEventListener('abort', stop);
      },
      async (error) => {
        process.stderr.write(`dashboard: GET /api/v1/tail: ${error.stack ?? error.message}\n`);
        await Promise.resolve();
      },
    );
  });
  return app;
}

/** Options of {@link startDashboard}. */
export interface DashboardOptions extends Omit<DashboardAppOptions, 'token' | 'hosts'> {
  /** Address to bind. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** Names a Host header may use beside the bound address (a dashboard reached through a name). @defaultValue [] */
  readonly allowHosts?: readonly string[];
  /** Port; 0 picks a free one. @defaultValue 0 */
  readonly port?: number;
  /** The API token. @defaultValue 32 random bytes, base64url */
  readonly token?: string;
}

/** A running dashboard. */
export interface RunningDashboard {
  /** `http://HOST:PORT/#token=TOKEN`: the address to open. */
  readonly url: string;
  readonly token: string;
  readonly port: number;
  /** Stops listening and closes open connections (the store is the caller's). */
  close(): Promise<void>;
}

/**
 * Starts the dashboard's HTTP server.
 * @throws the listen error (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, ...) when the address cannot be bound.
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(32).toString('base64url');
  let port = -1;
  const hosts: HostRule = { host, port: () => port, extraNames: options.allowHosts ?? [] };
  const app = await createDashboardApp({ ...options, token, hosts });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${hostPort(host, port)}/#token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
