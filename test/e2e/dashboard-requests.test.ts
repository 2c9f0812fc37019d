import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { zeroDefenceCounts } from '../../packages/runtime/src/vocabulary.ts';
import type { Browser, Page } from 'playwright-core';
import type { CallRecord } from '../../packages/runtime/src/logstore/call-record.ts';
import { createLogStore, type LogStore } from '../../packages/runtime/src/index.ts';
import {
  AUTH,
  USER,
  assertClean,
  callRecord,
  registerInstance,
  launchChromium,
  openPage,
  startDashboardProcess,
  storeWorkspace,
  withStore,
  type DashboardProcess,
  type PageWatch,
} from '../helpers/dashboard.ts';

// The requests, request, live tail and instances pages of `grpcforge dashboard`, and their API (requests filters,
// the tail's server-sent events), on a real process over a store filled with known calls, in Debian's Chromium.

let storeUrl: string;
let dashboard: DashboardProcess;
let base: string;
let token: string;
let browser: Browser | undefined;
/** Every page's requests and errors, checked by the last test. */
const watch: PageWatch = { requested: [], problems: [] };
const requestIds: string[] = [];
const startTimes: number[] = [];

/** A call of `index` (its request id a UUIDv7 of its start time). */
function call(
  startedAt: number,
  index: number,
  [service, method, statusCode, durationMs, principal]: readonly [string, string, number, number, string | null],
): CallRecord {
  return callRecord(index, {
    startedAt,
    service,
    method,
    statusCode,
    durationMs,
    principal,
    peer: `127.0.0.1:${String(50_000 + index)}`,
    errorMessage: statusCode === 0 ? null : `failed ${String(index)}`,
    // What the error's details said, for call 2 only.
    errorReason: index === 2 ? 'USER_NOT_FOUND' : null,
    violationField: index === 2 ? 'user_id' : null,
  });
}

/**
 * Six calls, oldest first: 0 OK, 1 OK ci, 2 NOT_FOUND ops (reason USER_NOT_FOUND, field user_id), 3 OK ci slow,
 * 4 INTERNAL, 5 UNAUTHENTICATED.
 */
const PLAN = [
  [AUTH, 'Login', 0, 2, null],
  [AUTH, 'Login', 0, 4, 'apikey:ci'],
  [AUTH, 'Login', 5, 6, 'apikey:ops'],
  [USER, 'GetUser', 0, 250, 'apikey:ci'],
  [USER, 'GetUser', 13, 10, null],
  [AUTH, 'Login', 16, 1, null],
] as const;

/** Records calls into the dashboard's store file from this process, as a running `serve` would. */
async function record(...calls: CallRecord[]): Promise<void> {
  await withStore(storeUrl, (store) => {
    for (const one of calls) store.logs.record(one);
  });
}

let extra = 100;
/** A new call, started now, recorded into the store. */
async function recordNew(): Promise<string> {
  const one = call(Date.now(), extra++, [AUTH, 'Logout', 0, 3, 'apikey:late']);
  await record(one);
  return one.requestId;
}

interface Log {
  id: number;
  requestId: string;
  status: string;
  principal: string | null;
  durationMs: number;
}

async function get(path: string, auth: string | null = `Bearer ${token}`) {
  const response = await fetch(`${base}${path}`, {
    headers: auth === null ? {} : { authorization: auth },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as { logs: Log[]; error: string } };
}

/** The request ids a requests query returns, newest first. */
async function idsOf(query: string): Promise<string[]> {
  const { status, body } = await get(`/api/v1/requests?${query}`);
  assert.equal(status, 200, `${query}: ${body.error}`);
  return body.logs.map((log) => log.requestId);
}

const ids = (...indexes: number[]) => indexes.map((index) => requestIds[index]!);

async function newPage(): Promise<Page> {
  assert.ok(browser);
  return (await openPage(browser, watch)).page;
}

const rowIds = (page: Page) => page.locator('#calls tbody tr td:last-child').allTextContents();

/** Waits (up to 10 s) until the calls table shows exactly these request ids. */
async function rowsAre(page: Page, expected: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  let shown = await rowIds(page);
  while (!isDeepStrictEqual(shown, expected) && Date.now() < deadline) {
    await sleep(100);
    shown = await rowIds(page);
  }
  assert.deepEqual(shown, expected);
}

describe('grpcforge dashboard: requests, live tail, instances', { timeout: 150_000 }, () => {
  before(async () => {
    let ws: string;
    ({ ws, storeUrl } = await storeWorkspace());
    const now = Date.now();
    const calls = PLAN.map((entry, index) => call(now - 120_000 + index * 1000, index, entry));
    requestIds.push(...calls.map((one) => one.requestId));
    startTimes.push(...calls.map((one) => one.startedAt));
    await record(...calls);
    await withStore(storeUrl, async (store) => {
      await registerInstance(store, 'instance-old', {
        address: '127.0.0.1:50051',
        pid: 4242,
        startedAt: now - 300_000,
        services: [AUTH],
      });
      await registerInstance(store, 'instance-stopped', {
        service: 'user',
        address: '127.0.0.1:50052',
        pid: 4343,
        startedAt: now - 200_000,
        services: [USER],
      });
      await store.instances.heartbeat('instance-stopped', 'stopped');
    });
    dashboard = await startDashboardProcess(ws);
    ({ base, token } = dashboard);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    dashboard.stop();
  });

  test('requests API: errorsOnly, principal, minDurationMs and since filters', async () => {
    assert.deepEqual(await idsOf('errorsOnly=true'), ids(5, 4, 2));
    assert.deepEqual(await idsOf('errorsOnly=false'), ids(5, 4, 3, 2, 1, 0));
    assert.deepEqual(await idsOf('principal=apikey:ci'), ids(3, 1));
    assert.deepEqual(await idsOf('minDurationMs=100'), ids(3));
    assert.deepEqual(await idsOf('minDurationMs=5.5&errorsOnly=true'), ids(4, 2));
    assert.deepEqual(await idsOf(`service=${AUTH}&errorsOnly=1&principal=apikey:ops`), ids(2));
    assert.deepEqual(await idsOf('since=15m&limit=2'), ids(5, 4));
    assert.deepEqual(await idsOf(`since=${new Date(Date.now() + 60_000).toISOString()}`), []);
    for (const [query, message] of [
      ['errorsOnly=maybe', /^errorsOnly: expected true or false, got "maybe"$/],
      ['minDurationMs=-1', /^minDurationMs: /],
      ['minDurationMs=fast', /^minDurationMs: /],
      ['since=2h', /^since: "2h" is neither a window/],
    ] as const) {
      const { status, body } = await get(`/api/v1/requests?${query}`);
      assert.equal(status, 400, query);
      assert.match(body.error, message, query);
    }
  });

  test('tail: 401 without the token (a ?token= is not one); with it the last calls, then a call recorded later', async () => {
    for (const [path, auth] of [
      ['/api/v1/tail', null],
      [`/api/v1/tail?token=${token}`, null],
      ['/api/v1/tail', `Bearer ${token}x`],
    ] as const) {
      const { status, body } = await get(path, auth);
      assert.equal(status, 401, path);
      assert.match(body.error, /token/);
    }

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 20_000);
    try {
      const response = await fetch(`${base}/api/v1/tail`, {
        headers: { authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.ok(response.body);
      const decoder = new TextDecoder();
      const events: { event: string; id: string; data: string }[] = [];
      let buffer = '';
      let late: string | undefined;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const fields = Object.fromEntries(
            buffer
              .slice(0, end)
              .split('\n')
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
          ) as { event: string; id: string; data: string };
          buffer = buffer.slice(end + 2);
          if (fields.event === 'call') events.push(fields);
        }
        if (events.length === PLAN.length && late === undefined) late = await recordNew();
        if (events.length === PLAN.length + 1) break;
      }
      // Oldest first (the page prepends), ids in order, v2 logs; then the late call.
      const logs = events.map((event) => JSON.parse(event.data) as Log);
      assert.deepEqual(
        logs.map((log) => log.requestId),
        [...ids(0, 1, 2, 3, 4, 5), late],
      );
      assert.deepEqual(
        events.map((event) => Number(event.id)),
        logs.map((log) => log.id),
      );
      assert.equal(logs[2]?.status, 'NOT_FOUND');
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  });

  test('the tail stops reading the store once its client has gone', async () => {
    const { startDashboard } = await import('../../src/dashboard/server.ts');
    const shapes = await import('../../src/cli/output/store-json.ts');
    const store = await createLogStore({ url: 'sqlite::memory:' });
    // The real store, its reads counted.
    let lists = 0;
    const logs: LogStore['logs'] = Object.create(store.logs) as LogStore['logs'];
    logs.list = (...args) => (lists++, store.logs.list(...args));
    const dashboard = await startDashboard({
      store: { ...store, logs },
      shapes: { version: 2, requestLog: shapes.requestLogJson } as never,
      defaultWindow: '1h',
      workspace: { services: [] },
      token: 'secret',
    });
    try {
      const controller = new AbortController();
      const response = await fetch(`http://127.0.0.1:${String(dashboard.port)}/api/v1/tail`, {
        headers: { authorization: 'Bearer secret' },
        signal: controller.signal,
      });
      assert.ok(response.body);
      await response.body.getReader().read();
      await sleep(1500);
      controller.abort();
      const open = lists;
      assert.ok(open >= 2, `read ${String(open)} times in 1.5 s`);
      await sleep(2500);
      assert.equal(lists, open, 'no read after the client went away');
    } finally {
      await dashboard.close();
      await store.close();
    }
  });

  test('errors API: the failed calls by method, status and reason, one method with service and method', async () => {
    const errors = async (query: string) => {
      const response = await fetch(`${base}/api/v1/errors?${query}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      });
      return { status: response.status, body: (await response.json()) as { errorsByReason: unknown[]; error: string } };
    };
    const all = await errors('window=1h');
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.errorsByReason, [
      { service: AUTH, method: 'Login', statusCode: 5, status: 'NOT_FOUND', reason: 'USER_NOT_FOUND', calls: 1 },
      { service: AUTH, method: 'Login', statusCode: 16, status: 'UNAUTHENTICATED', reason: null, calls: 1 },
      { service: USER, method: 'GetUser', statusCode: 13, status: 'INTERNAL', reason: null, calls: 1 },
    ]);
    const one = await errors(`window=1h&service=${USER}&method=GetUser`);
    assert.deepEqual(
      one.body.errorsByReason.map((group) => (group as { method: string }).method),
      ['GetUser'],
    );
    const refused = await errors('window=2h');
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /^window: "2h" is not a window/);
  });

  test("the requests page shows an error's reason; the methods page groups errors by reason and opens their calls", async () => {
    const page = await newPage();
    await page.goto(`${base}/requests?errorsOnly=true#token=${token}`);
    await rowsAre(page, ids(5, 4, 2));
    const failed = page.locator('#calls tbody tr', { hasText: requestIds[2]! }).locator('td');
    assert.equal(await failed.nth(3).textContent(), 'USER_NOT_FOUND, field user_id');

    await page.goto(`${base}/methods`);
    await page.selectOption('#window', '1h');
    const rows = page.locator('#errors-by-reason tbody tr');
    await rows.nth(2).waitFor();
    const cells = async (index: number) => rows.nth(index).locator('td').allTextContents();
    assert.deepEqual(await cells(0), [`${AUTH}/Login`, 'NOT_FOUND', 'USER_NOT_FOUND', '1']);
    assert.deepEqual(await cells(1), [`${AUTH}/Login`, 'UNAUTHENTICATED', '–', '1']);
    assert.deepEqual(await cells(2), [`${USER}/GetUser`, 'INTERNAL', '–', '1']);
    assert.ok(await page.isHidden('#errors-empty'));
    // A group opens its calls: that method, that status, errors only, over the window.
    await Promise.all([page.waitForURL('**/requests?**'), rows.nth(0).locator('a').click()]);
    await rowsAre(page, ids(2));
    assert.equal(await page.inputValue('select[name="code"]'), 'NOT_FOUND');
  });

  test('the requests page lists the calls, filters by status, pages, and opens one request', async () => {
    const page = await newPage();
    await page.goto(`${base}/requests#token=${token}`);
    await page.locator('#calls tbody tr').nth(5).waitFor();
    const all = await rowIds(page);
    assert.deepEqual(all.slice(-6), ids(5, 4, 3, 2, 1, 0));
    const row = page.locator('#calls tbody tr', { hasText: requestIds[3]! });
    assert.deepEqual(await row.locator('td').allTextContents(), [
      new Date(startTimes[3]!).toISOString(),
      `${USER}/GetUser`,
      'OK',
      '–',
      '250.00',
      'apikey:ci',
      '127.0.0.1:50003',
      requestIds[3],
    ]);

    // Filter by status: only the NOT_FOUND call.
    await page.selectOption('select[name="code"]', 'NOT_FOUND');
    await Promise.all([page.waitForResponse((r) => r.url().includes('code=NOT_FOUND')), page.click('button[type="submit"]')]);
    await rowsAre(page, ids(2));
    assert.match(page.url(), /\/requests\?code=NOT_FOUND$/);

    // Quick views.
    await page.click('#view-errors');
    await rowsAre(page, ids(5, 4, 2));
    await page.click('#view-slow');
    await rowsAre(page, ids(3));

    // Pages of 3 through nextBefore, from filters in the address.
    await page.goto(`${base}/requests?limit=3&service=${AUTH}&method=Login`);
    await rowsAre(page, ids(5, 2, 1));
    assert.equal(await page.inputValue('input[name="method"]'), 'Login');
    await page.click('#next-page');
    await page.locator('#page-info', { hasText: 'page 2' }).waitFor();
    assert.deepEqual(await rowIds(page), ids(0));
    assert.ok(await page.isDisabled('#next-page'));
    await page.click('#first-page');
    await page.locator('#page-info', { hasText: 'page 1' }).waitFor();
    assert.deepEqual(await rowIds(page), ids(5, 2, 1));

    // One request: every stored column.
    await page.goto(`${base}/requests?principal=apikey:ops`);
    await page.locator('#calls tbody tr').first().waitFor();
    await Promise.all([page.waitForURL(`**/requests/${requestIds[2]!}`), page.click('a.request-id')]);
    await page.locator('dd[data-column="requestId"]').waitFor();
    const column = (name: string) => page.textContent(`dd[data-column="${name}"]`);
    assert.equal(await column('requestId'), requestIds[2]);
    assert.equal(await column('service'), AUTH);
    assert.equal(await column('method'), 'Login');
    assert.equal(await column('status'), 'NOT_FOUND');
    assert.equal(await column('statusCode'), '5');
    assert.equal(await column('durationMs'), '6');
    assert.equal(await column('principal'), 'apikey:ops');
    assert.equal(await column('apiKeyId'), '–');
    assert.equal(await column('peer'), '127.0.0.1:50002');
    assert.equal(await column('errorMessage'), 'failed 2');
    assert.equal(await column('traceId'), '–');
    assert.equal(await column('rawPath'), '–');
    assert.equal(await column('errorReason'), 'USER_NOT_FOUND');
    assert.equal(await column('violationField'), 'user_id');
    assert.equal(await page.locator('dl#columns dt').count(), 21);
    assert.equal(await page.textContent('h1'), `Request ${requestIds[2]!}`);
    await page.close();
  });

  test('the live tail shows the last calls, then new ones as they are recorded; Pause holds them', async () => {
    const page = await newPage();
    // From the overview through the nav bar: the session cookie goes with every page.
    await page.goto(`${base}/#token=${token}`);
    await page.click('nav a[href="/tail"]');
    await page.waitForURL('**/tail');
    await page.locator('#tail-state', { hasText: 'live' }).waitFor();
    await page
      .locator('#calls tbody tr')
      .nth(PLAN.length - 1)
      .waitFor();
    const before = await rowIds(page);
    assert.deepEqual(before.slice(before.length - PLAN.length), ids(5, 4, 3, 2, 1, 0));

    const late = await recordNew();
    await page.locator('#calls tbody tr').first().filter({ hasText: late }).waitFor({ timeout: 8000 });

    await page.click('#pause');
    assert.equal(await page.textContent('#pause'), 'Resume');
    const held = await recordNew();
    await page.locator('#tail-state', { hasText: 'paused, 1 waiting' }).waitFor({ timeout: 8000 });
    assert.equal(await page.locator('#calls tbody tr', { hasText: held }).count(), 0);
    await page.click('#pause');
    assert.equal(await page.textContent('#pause'), 'Pause');
    await page.locator('#calls tbody tr').first().filter({ hasText: held }).waitFor({ timeout: 3000 });
    await page.close();
  });

  test('the instances page shows the running instances’ state, services and counters; a box shows the stopped ones', async () => {
    await withStore(storeUrl, async (store) => {
      await registerInstance(store, 'instance-live', {
        address: '127.0.0.1:50053',
        pid: 4444,
        startedAt: Date.now() - 65_000,
        services: [AUTH, USER],
      });
      await store.instances.heartbeat('instance-live', undefined, {
        ...zeroDefenceCounts(),
        handshakeTimeouts: 20,
        tlsHandshakeFailures: 1,
      });
    });
    const page = await newPage();
    // A new tab: the token from the address once, then through the nav bar.
    await page.goto(`${base}/requests#token=${token}`);
    await page.click('nav a[href="/instances"]');
    await page.locator('#instances tbody tr').nth(1).waitFor();
    const cells = async (id: string) => page.locator(`#instances tbody tr[data-id="${id}"] td`).allTextContents();
    const live = await cells('instance-live');
    assert.deepEqual(live.slice(0, 6), ['instance-live', 'auth', 'serving', '127.0.0.1:50053', '4444', 'ci']);
    assert.match(live[6]!, /^1m \d+s$/, 'uptime');
    assert.match(live[7]!, /^\d+s$/, 'heartbeat age');
    assert.equal(live[8], '0', 'restarts');
    assert.equal(live[9], `${AUTH}, ${USER}`);
    assert.equal(live[12], '0');
    assert.equal(live[13], '20 handshake timeouts, 1 TLS handshake failures', 'the defences that acted');
    const old = await cells('instance-old');
    assert.deepEqual([old[2], old[9]], ['unresponsive', AUTH]);
    assert.match(old[7]!, /^\d+m \d+s$/);
    assert.equal(await page.locator('#instances tbody tr').count(), 2, 'the stopped instance is hidden');
    assert.equal(await page.textContent('#hidden-note'), '1 stopped instance hidden');
    await page.check('#show-stopped');
    await page.locator('#instances tbody tr[data-id="instance-stopped"]').waitFor();
    const stopped = await cells('instance-stopped');
    assert.deepEqual([stopped[2], stopped[9], stopped[13]], ['stopped', USER, '-']);
    assert.match(stopped[6]!, /^ran /);
    assert.equal(await page.textContent('#hidden-note'), '');
    await page.close();
  });

  test('no page logged an error or asked another origin for anything', () => {
    assertClean(base, watch);
    assert.doesNotMatch(dashboard.stderr(), new RegExp(token));
  });
});
