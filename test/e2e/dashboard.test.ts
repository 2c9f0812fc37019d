import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  AUTH,
  USER,
  assertClean,
  plannedCalls,
  registerInstance,
  launchChromium,
  openPage,
  startDashboardProcess,
  storeWorkspace,
  thisMinute,
  withStore,
  type DashboardProcess,
} from '../helpers/dashboard.ts';
import { runCli } from '../helpers/workspace.ts';

// `grpcforge dashboard` as a real process over a store filled with known calls: the JSON API (token, shapes, numbers,
// bad parameters), the overview page in Debian's Chromium (through playwright-core), and SIGTERM.

let ws: string;
let dashboard: DashboardProcess;
let base: string;
let token: string;
const requestIds: string[] = [];

/** Five calls two minutes ago: Login OK, OK, NOT_FOUND; GetUser OK, INTERNAL. */
const PLAN = [
  [AUTH, 'Login', 0],
  [AUTH, 'Login', 0],
  [AUTH, 'Login', 5],
  [USER, 'GetUser', 0],
  [USER, 'GetUser', 13],
] as const;

// The parts of the v2 shapes these tests read.
interface Totals {
  calls: number;
  ok: number;
  errors: number;
  byStatus: { statusCode: number; status: string; calls: number }[];
}
interface Log {
  id: number;
  requestId: string;
  method: string;
  statusCode: number;
  status: string;
  principal: string | null;
}
interface Windowed {
  version: number;
  window: string;
  since: string;
}
type Overview = Windowed & { totals: Totals; services: (Totals & { service: string })[] };
type Methods = Windowed & { methods: (Totals & { service: string; method: string })[] };
type Timeline = Windowed & { bucketMs: number; timeline: (Totals & { start: string })[] };
interface Requests {
  version: number;
  logs: Log[];
  nextBefore: number | null;
}
interface Instances {
  version: number;
  instances: { id: string; address: string; services: string[]; restarts: number }[];
  hidden: number;
}

interface Reply<T = { error: string }> {
  status: number;
  headers: Headers;
  body: T;
}

/** GET an API path, with the token unless told otherwise; the body as parsed JSON, for the caller to type. */
async function get(path: string, auth: string | null = `Bearer ${token}`): Promise<Reply<unknown>> {
  const response = await fetch(`${base}${path}`, {
    headers: auth === null ? {} : { authorization: auth },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** A box in SVG user units. */
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What the map page drew: the SVG's size, node boxes and their texts, edge labels, and points 1 px apart on each edge. */
interface MapLayout {
  svg: { width: number; height: number };
  nodes: { rect: Box; texts: Box[] }[];
  labels: (Box & { text: string })[];
  paths: { points: { x: number; y: number }[]; end: { x: number; y: number } }[];
}

/** Reads the {@link MapLayout} in the page (a string: the test loader's helpers do not exist there). */
const MAP_LAYOUT = `(() => {
  const svg = document.querySelector('#map');
  const boxes = (elements) => [...elements].map((element) => {
    const { x, y, width, height } = element.getBBox();
    return { x, y, width, height, text: element.textContent };
  });
  return {
    svg: { width: svg.viewBox.baseVal.width, height: svg.viewBox.baseVal.height },
    nodes: [...svg.querySelectorAll('.node')].map((node) => ({ rect: boxes(node.querySelectorAll('rect'))[0], texts: boxes(node.querySelectorAll('text')) })),
    labels: boxes(svg.querySelectorAll('.edge text')),
    paths: [...svg.querySelectorAll('.edge path')].map((line) => {
      const length = line.getTotalLength();
      const points = Array.from({ length: Math.floor(length) + 1 }, (_, at) => line.getPointAtLength(at)).map(({ x, y }) => ({ x, y }));
      const end = line.getPointAtLength(length);
      return { points, end: { x: end.x, y: end.y } };
    }),
  };
})()`;

describe('grpcforge dashboard', { timeout: 120_000 }, () => {
  let storeUrl: string;
  before(async () => {
    ({ ws, storeUrl } = await storeWorkspace());
    const now = thisMinute();
    await withStore(storeUrl, async (store) => {
      for (const call of plannedCalls(PLAN, now, (index) => ({ principal: index === 2 ? 'apikey:ops' : null }))) {
        store.logs.record(call);
        requestIds.push(call.requestId);
      }
      await registerInstance(store, 'instance-1', {
        address: '127.0.0.1:50051',
        pid: 4242,
        startedAt: now - 300_000,
        services: [AUTH],
      });
    });
    dashboard = await startDashboardProcess(ws);
    ({ base, token } = dashboard);
  });

  after(() => dashboard.stop());

  test('the API refuses requests without the right token with 401 and a JSON error', async () => {
    for (const path of ['/api/v1/overview', '/api/v1/methods', '/api/v1/timeline', '/api/v1/requests', '/api/v1/instances']) {
      for (const auth of [null, 'Bearer wrong', `Basic ${token}`, token]) {
        const { status, body } = (await get(path, auth)) as Reply;
        assert.equal(status, 401, `${path} with ${String(auth)}`);
        assert.match(body.error, /token/);
      }
    }
    assert.equal((await get(`/api/v1/requests/${requestIds[0]!}`, null)).status, 401);
  });

  test('overview: the totals and per-service numbers, equal to stats --json for the same window', async () => {
    const { status, headers, body } = (await get('/api/v1/overview?window=1h')) as Reply<Overview>;
    assert.equal(status, 200);
    assert.match(headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(body.version, 2);
    assert.equal(body.window, '1h');
    assert.deepEqual([body.totals.calls, body.totals.ok, body.totals.errors], [5, 3, 2]);
    assert.deepEqual(
      body.services.map((service) => [service.service, service.calls, service.errors]),
      [
        [AUTH, 3, 1],
        [USER, 2, 1],
      ],
    );
    const stats = runCli(['stats', '--json', '--since', '1h'], ws);
    assert.equal(stats.code, 0, stats.stderr);
    const cli = JSON.parse(stats.stdout) as { since: string; totals: unknown };
    assert.deepEqual(body.totals, cli.totals);
    // The API names the start of the minute the window counts from, as the rollups do.
    // (The minute may have turned between the two requests.)
    const cliMinute = Math.floor(Date.parse(cli.since) / 60_000) * 60_000;
    assert.ok([cliMinute, cliMinute - 60_000].includes(Date.parse(body.since)), `${body.since} vs ${cli.since}`);
    // Without window: the --since the command was started with.
    assert.equal(((await get('/api/v1/overview')) as Reply<Overview>).body.window, '1h');
  });

  test('methods: per method, with calls by status code', async () => {
    const { status, body } = (await get('/api/v1/methods?window=24h')) as Reply<Methods>;
    assert.equal(status, 200);
    assert.equal(body.version, 2);
    const login = body.methods.find((method) => method.method === 'Login');
    assert.ok(login);
    assert.equal(login.service, AUTH);
    assert.equal(login.calls, 3);
    assert.deepEqual(login.byStatus, [
      { statusCode: 0, status: 'OK', calls: 2 },
      { statusCode: 5, status: 'NOT_FOUND', calls: 1 },
    ]);
  });

  test('timeline: buckets that fit the window', async () => {
    for (const [window, bucketMs] of [
      ['15m', 60_000],
      ['1h', 60_000],
      ['6h', 300_000],
      ['24h', 3_600_000],
      ['7d', 21_600_000],
    ] as const) {
      const { status, body } = (await get(`/api/v1/timeline?window=${window}`)) as Reply<Timeline>;
      assert.equal(status, 200);
      assert.deepEqual([body.version, body.window, body.bucketMs], [2, window, bucketMs]);
      const total = body.timeline.reduce((sum, bucket) => sum + bucket.calls, 0);
      assert.equal(total, 5, window);
      for (const bucket of body.timeline) assert.equal(Date.parse(bucket.start) % bucketMs, 0);
    }
  });

  test('requests: filters, pages, one request, 404', async () => {
    const page1 = (await get('/api/v1/requests?limit=2')) as Reply<Requests>;
    assert.equal(page1.status, 200);
    assert.equal(page1.body.logs.length, 2);
    assert.equal(page1.body.nextBefore, page1.body.logs[1]?.id);
    const page2 = (await get(`/api/v1/requests?limit=10&before=${String(page1.body.nextBefore)}`)) as Reply<Requests>;
    assert.equal(page2.body.logs.length, 3);
    assert.equal(page2.body.nextBefore, null);
    const notFound = (await get(`/api/v1/requests?code=NOT_FOUND&service=${AUTH}`)) as Reply<Requests>;
    assert.deepEqual(
      notFound.body.logs.map((log) => [log.method, log.status, log.principal]),
      [['Login', 'NOT_FOUND', 'apikey:ops']],
    );
    assert.equal(((await get('/api/v1/requests?method=GetUser&code=13')) as Reply<Requests>).body.logs.length, 1);
    const one = (await get(`/api/v1/requests/${requestIds[2]!}`)) as Reply<{ version: number; log: Log }>;
    assert.equal(one.status, 200);
    assert.deepEqual([one.body.version, one.body.log.requestId, one.body.log.statusCode], [2, requestIds[2], 5]);
    const missing = (await get('/api/v1/requests/0190a1b2-0000-7000-8000-000000000000')) as Reply;
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /no stored call has request id/);
  });

  test('instances: as status --json, the running ones with earlier runs folded; all=true adds the stopped ones', async () => {
    await withStore(storeUrl, async (store) => {
      // An earlier run of instance-1 on its address (folded into it), and a stopped server elsewhere (hidden).
      for (const [id, address, startedAt] of [
        ['instance-0', '127.0.0.1:50051', Date.now() - 600_000],
        ['instance-gone', '127.0.0.1:50099', Date.now() - 500_000],
      ] as const) {
        await registerInstance(store, id, { address, pid: 4141, startedAt, services: [AUTH] });
        await store.instances.heartbeat(id, 'stopped');
      }
    });
    const { status, body } = (await get('/api/v1/instances')) as Reply<Instances>;
    assert.equal(status, 200);
    assert.deepEqual(
      body.instances.map((instance) => [instance.id, instance.address, instance.services, instance.restarts]),
      [['instance-1', '127.0.0.1:50051', [AUTH], 1]],
    );
    assert.equal(body.hidden, 1);
    const all = (await get('/api/v1/instances?all=true')) as Reply<Instances>;
    assert.deepEqual(
      all.body.instances.map((instance) => [instance.id, instance.restarts]),
      [
        ['instance-1', 1],
        ['instance-gone', 0],
      ],
    );
    assert.equal(all.body.hidden, 0);
  });

  test('bad query values are 400 with a message naming the parameter', async () => {
    for (const [path, message] of [
      ['/api/v1/overview?window=2h', /^window: "2h" is not a window \(expected one of 15m, 1h, 6h, 24h, 7d\)$/],
      ['/api/v1/timeline?window=', /^window: /],
      ['/api/v1/methods?window=1d', /^window: /],
      ['/api/v1/requests?code=NOPE', /^code: "NOPE" is not a gRPC status/],
      ['/api/v1/requests?limit=0', /^limit: /],
      ['/api/v1/requests?before=x', /^before: /],
      ['/api/v1/instances?all=yes', /^all: expected true or false, got "yes"$/],
    ] as const) {
      const { status, body } = (await get(path)) as Reply;
      assert.equal(status, 400, path);
      assert.match(body.error, message, path);
    }
  });

  test('the page in Chromium shows the totals and draws the timeline, with nothing from outside', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const { page, ...watch } = await openPage(browser);
      await page.goto(`${base}/#token=${token}`);
      await page.locator('#total-calls', { hasText: /^5$/ }).waitFor();
      assert.equal(await page.textContent('#total-errors'), '2');
      await page.waitForSelector('.uplot canvas');
      assert.deepEqual(await page.locator('#services tbody tr td:first-child').allTextContents(), [AUTH, USER]);
      // Another window: the same calls (two minutes old), fetched again.
      await Promise.all([
        page.waitForResponse((response) => response.url().endsWith('/api/v1/timeline?window=15m')),
        page.selectOption('#window', '15m'),
      ]);
      await page.locator('.uplot canvas').waitFor();
      assert.equal(await page.textContent('#total-calls'), '5');
      assert.ok(!page.url().includes(token), 'the token is taken out of the address bar');
      assertClean(base, watch);
      assert.ok(watch.requested.some((url) => url.endsWith('/assets/uPlot.iife.min.js')));
    } finally {
      await browser?.close();
    }
  });

  test('the timeline page draws one point per bucket of the window, calls stacked by status code', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const { page, ...watch } = await openPage(browser);
      const { body } = (await get('/api/v1/timeline?window=1h')) as Reply<Timeline>;
      const bucketsUntil = (now: number) =>
        Math.floor((now - Math.floor(Date.parse(body.since) / body.bucketMs) * body.bucketMs) / body.bucketMs) + 1;
      const fewest = bucketsUntil(Date.now());
      await page.goto(`${base}/timeline#token=${token}`);
      await page.locator('#buckets tbody tr td', { hasText: 'NOT_FOUND 1' }).waitFor();
      const most = bucketsUntil(Date.now());
      const points = await Promise.all(['#calls-chart', '#latency-chart'].map((id) => page.getAttribute(id, 'data-points')));
      assert.equal(points[0], points[1]);
      const count = Number(points[0]);
      assert.ok(count >= fewest && count <= most, `${String(count)} points for ${String(fewest)}–${String(most)} buckets`);
      // The table: the one bucket with calls, and each run of empty buckets (before it, and since) folded into a row.
      const rows = await page.locator('#buckets tbody tr').allTextContents();
      assert.equal(rows.length, 3, rows.join('\n'));
      assert.match(rows[0]!, /no calls \(\d+ buckets\)$/);
      assert.match(rows[2]!, /no calls \(\d+ buckets\)$/);
      const busyStart = body.timeline[0]!.start;
      assert.ok(rows[1]!.startsWith(`${busyStart.slice(0, 19).replace('T', ' ')} UTC`), `${rows[1]!} for ${busyStart}`);
      // The bucket of the five calls, its codes as the API gives them; the stacked series, one per code.
      const busy = page.locator('#buckets tbody tr', { hasText: 'NOT_FOUND 1' }).locator('td');
      assert.deepEqual((await busy.allTextContents()).slice(1, 3), ['5', '2']);
      assert.equal(await busy.nth(6).textContent(), 'OK 3, NOT_FOUND 1, INTERNAL 1');
      const legend = await page.locator('#calls-chart .u-legend .u-series th').allTextContents();
      assert.deepEqual(
        legend.slice(1).map((label) => label.trim()),
        ['INTERNAL', 'NOT_FOUND', 'OK'],
      );
      assertClean(base, watch);
    } finally {
      await browser?.close();
    }
  });

  test('times are UTC everywhere, named so: the overview header, the chart axes and the timeline table', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      // A browser 5 h 30 min east of UTC: local axis labels would fall outside the hour the header names.
      const page = await browser.newPage({ timezoneId: 'Asia/Kolkata' });
      page.setDefaultTimeout(15_000);
      await page.goto(`${base}/#token=${token}`);
      await page.locator('#since', { hasText: 'UTC' }).waitFor();
      const header = (await page.textContent('#since')) ?? '';
      const match = /^since (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC$/.exec(header);
      assert.ok(match, header);
      const [, day = '', time = ''] = match;
      const since = Date.parse(`${day}T${time}Z`);
      await page.waitForSelector('#chart[data-x-ticks]');
      const ticks = ((await page.getAttribute('#chart', 'data-x-ticks')) ?? '').split(' ');
      assert.ok(ticks.length >= 2, ticks.join(' '));
      for (const tick of ticks) {
        assert.match(tick, /^\d\d:\d\d$/);
        let at = Date.parse(`${day}T${tick}:00Z`);
        if (at < since - 60_000) at += 86_400_000;
        assert.ok(at >= since - 60_000 && at <= Date.now() + 60_000, `tick ${tick} is not in the hour since ${header}`);
      }
      await page.goto(`${base}/timeline`);
      await page.locator('#bucket-size', { hasText: /since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/ }).waitFor();
      for (const start of await page.locator('#buckets tbody tr td:first-child').allTextContents()) {
        assert.match(start, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC( – [\d: -]+ UTC)?$/);
      }
      assert.match((await page.getAttribute('#calls-chart', 'data-x-ticks')) ?? '', /^\d\d:\d\d( \d\d:\d\d)+$/);
    } finally {
      await browser?.close();
    }
  });

  test('map: the services of grpcforge.yaml and their consumes edges, with the calls each provider recorded', async () => {
    interface MapItem extends Totals {
      p95Ms: number;
    }
    type ServiceMap = Windowed & {
      windowMs: number;
      nodes: (MapItem & { name: string; serves: string[]; external: boolean })[];
      edges: (MapItem & { from: string; to: string; service: string })[];
    };
    const { status, body } = (await get('/api/v1/map?window=1h')) as Reply<ServiceMap>;
    assert.equal(status, 200);
    assert.deepEqual(
      body.nodes.map((node) => [node.name, node.serves, node.external, node.calls, node.errors]),
      [
        ['auth', [AUTH], false, 3, 1],
        ['user', [USER], false, 2, 1],
        ['billing.v1.BillingService', ['billing.v1.BillingService'], true, 0, 0],
      ],
    );
    assert.deepEqual(
      body.edges.map((edge) => [edge.from, edge.to, edge.service, edge.calls, edge.errors]),
      [
        ['user', 'auth', AUTH, 3, 1],
        ['user', 'billing.v1.BillingService', 'billing.v1.BillingService', 0, 0],
      ],
    );
    const auth = (await get(`/api/v1/overview?window=1h`)) as Reply<Overview>;
    const authStats = auth.body.services.find((service) => service.service === AUTH) as unknown as MapItem;
    assert.equal(body.edges[0]?.p95Ms, authStats.p95Ms);

    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const { page, ...watch } = await openPage(browser);
      await page.goto(`${base}/map#token=${token}`);
      const edge = page.locator('#map [data-edge="user->auth"] .edge-figures');
      await edge.waitFor();
      assert.match((await edge.textContent()) ?? '', /^3 calls · [\d.]+\/s · 33\.3% errors · p95 [\d.]+ ms$/);
      assert.equal(await page.locator('#map .node').count(), 3);
      assert.match((await page.locator('#map [data-node="user"] .node-figures').textContent()) ?? '', /^2 calls /);
      // Every label lies inside the SVG (node texts inside their box), and no edge label touches an edge, an arrow
      // head, a node or another label.
      const layout = await page.evaluate<MapLayout>(MAP_LAYOUT);
      const inside = (inner: Box, outer: Box) =>
        inner.x >= outer.x &&
        inner.y >= outer.y &&
        inner.x + inner.width <= outer.x + outer.width &&
        inner.y + inner.height <= outer.y + outer.height;
      const overlap = (a: Box, b: Box) =>
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      const grow = (b: Box, by: number): Box => ({
        x: b.x - by,
        y: b.y - by,
        width: b.width + 2 * by,
        height: b.height + 2 * by,
      });
      const svgBox = { x: 0, y: 0, ...layout.svg };
      assert.equal(layout.labels.length, 4);
      for (const node of layout.nodes) {
        assert.ok(inside(node.rect, svgBox), 'node inside the SVG');
        for (const text of node.texts) assert.ok(inside(text, node.rect), `node text ${JSON.stringify(text)} inside its box`);
      }
      for (const [index, label] of layout.labels.entries()) {
        const text = label.text;
        assert.ok(inside(label, svgBox), `${text} inside the SVG`);
        // The stroke is 1.5 px wide; the arrow head 12 px long and wide, ending at the path's end.
        for (const { points, end } of layout.paths) {
          assert.ok(
            !points.some((point) => inside({ ...point, width: 0, height: 0 }, grow(label, 1))),
            `an edge crosses ${text}`,
          );
          assert.ok(!overlap(label, { x: end.x - 12, y: end.y - 6, width: 12, height: 12 }), `an arrow head touches ${text}`);
        }
        for (const node of layout.nodes) assert.ok(!overlap(label, node.rect), `${text} overlaps a node`);
        for (const other of layout.labels.slice(index + 1)) assert.ok(!overlap(label, other), `${text} overlaps ${other.text}`);
      }
      assertClean(base, watch);
    } finally {
      await browser?.close();
    }
  });

  test('a --since that is not a dashboard window exits 2 and says so', () => {
    const result = runCli(['dashboard', '--since', '2h'], ws);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--since: "2h" is not a dashboard window \(expected one of 15m, 1h, 6h, 24h, 7d\)/);
    assert.equal(result.stdout, '');
  });

  test('SIGTERM stops it with exit 0, after printing one line', async () => {
    dashboard.stop();
    const code = await Promise.race([dashboard.exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);
    assert.equal(code, 0, dashboard.stderr());
    assert.equal(dashboard.lines.length, 1);
  });
});
