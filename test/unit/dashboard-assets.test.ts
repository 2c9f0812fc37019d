import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createLogStore } from '../../packages/runtime/src/logstore/create-log-store.ts';
import type { LogStore } from '../../packages/runtime/src/index.ts';
import { dashboardShapes } from '../../src/cli/output/store-json.ts';
import { createDashboardApp } from '../../src/dashboard/server.ts';
import { repoRoot } from '../helpers/workspace.ts';

// The dashboard's pages and their browser modules (src/dashboard/browser/*.ts), served by the app built from the
// sources, as tests and benches run it: each module is transpiled at start-up (the built CLI serves
// dist/dashboard/browser/*.js; the e2e tests drive that one in Chromium).

const PORT = 4321;
let store: LogStore;
let app: Hono;

const get = (path: string, headers: Record<string, string> = {}) =>
  app.fetch(
    new Request(`http://127.0.0.1:${String(PORT)}${path}`, { headers: { host: `127.0.0.1:${String(PORT)}`, ...headers } }),
  );

describe('dashboard assets', () => {
  before(async () => {
    store = await createLogStore({ url: ':memory:', writer: true });
    app = await createDashboardApp({
      store,
      shapes: dashboardShapes(),
      token: 'test-token',
      hosts: { host: '127.0.0.1', port: () => PORT },
      defaultWindow: '1h',
      workspace: { services: [] },
    });
  });
  after(() => store.close());

  test('every browser module is served as JavaScript, revalidated by its ETag, with no type left in it', async () => {
    const sources = (await readdir(join(repoRoot, 'src/dashboard/browser'))).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.d.ts'),
    );
    assert.ok(sources.includes('common.ts') && sources.includes('overview.ts'), sources.join(', '));
    for (const file of sources) {
      const path = `/assets/${file.replace(/\.ts$/, '.js')}`;
      const response = await get(path);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8', path);
      assert.equal(response.headers.get('cache-control'), 'no-cache', path);
      const body = await response.text();
      assert.doesNotMatch(body, /^import type |: HTMLElement\b|<T extends/m, path);
      const tag = response.headers.get('etag');
      assert.ok(tag, path);
      assert.equal((await get(path, { 'if-none-match': tag })).status, 304, path);
    }
  });

  test('a page loads its module as a module script, its settings as JSON data, and is never stored', async () => {
    const response = await get('/');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    const html = await response.text();
    assert.match(
      html,
      /<script src="\/assets\/uPlot\.iife\.min\.js"><\/script>\n<script type="module" src="\/assets\/overview\.js">/,
    );
    const config = /<script type="application\/json" id="dashboard-config">(.*?)<\/script>/.exec(html)?.[1];
    assert.deepEqual(JSON.parse(config ?? 'null'), {
      csrfCookie: `grpcforge_csrf_${String(PORT)}`,
      windowMs: { '15m': 900_000, '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000 },
    });
    // No script logic in the page: only the module, uPlot's build and the data block.
    assert.deepEqual(
      [...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1]),
      [
        ' type="application/json" id="dashboard-config"',
        ' src="/assets/uPlot.iife.min.js"',
        ' type="module" src="/assets/overview.js"',
      ],
    );
  });
});
