import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  AUTH,
  USER,
  assertClean,
  plannedCalls,
  launchChromium,
  openPage,
  startDashboardProcess,
  storeWorkspace,
  thisMinute,
  withStore,
  type DashboardProcess,
} from '../helpers/dashboard.ts';

// `grpcforge dashboard` as a real process: the methods page (sorting), and the API keys API and page, its first
// writes (create, revoke), checked against the store file itself with apiKeys.verify.

let dbUrl: string;
let dashboard: DashboardProcess;
let base: string;
let token: string;

/** Six calls two minutes ago: Login ×3 (one NOT_FOUND), Logout ×2, GetUser ×1 (INTERNAL). */
const PLAN = [
  [AUTH, 'Login', 0],
  [AUTH, 'Login', 0],
  [AUTH, 'Login', 5],
  [AUTH, 'Logout', 0],
  [AUTH, 'Logout', 0],
  [USER, 'GetUser', 13],
] as const;

interface Key {
  id: string;
  name: string;
  prefix: string;
  roles: string[];
  state: string;
  key?: unknown;
}
interface Reply<T = { error: string }> {
  status: number;
  body: T;
}

/** A request to the API with the token (unless `auth` is null); POSTs send `body` as JSON unless `type` says otherwise. */
async function call(
  path: string,
  { body, type = 'application/json', auth = `Bearer ${token}` }: { body?: string; type?: string; auth?: string | null } = {},
): Promise<Reply<unknown>> {
  const headers: Record<string, string> = auth === null ? {} : { authorization: auth };
  if (body !== undefined) headers['content-type'] = type;
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}

const listKeys = async () => ((await call('/api/v1/keys')) as Reply<{ version: number; keys: Key[] }>).body;

/** verify() on the store file the dashboard serves, through a connection of this test. */
const verify = (key: string) => withStore(dbUrl, (store) => store.apiKeys.verify(key), false);

const methodOrder = (page: Page) => page.locator('#methods tbody tr td:first-child').allTextContents();

describe('grpcforge dashboard: methods and API keys', { timeout: 120_000 }, () => {
  let browser: Browser | undefined;

  before(async () => {
    let ws: string;
    ({ ws, storeUrl: dbUrl } = await storeWorkspace());
    const now = thisMinute();
    await withStore(dbUrl, (store) => {
      for (const call of plannedCalls(PLAN, now)) store.logs.record(call);
    });
    dashboard = await startDashboardProcess(ws);
    ({ base, token } = dashboard);
  });

  after(async () => {
    await browser?.close();
    dashboard.stop();
    await Promise.race([dashboard.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  });

  const chromium = async () => (browser ??= await launchChromium());

  test('keys API: create shows the key once, list never; 409, 400, 401, 415; revoke; the key really verifies', async () => {
    const created = (await call('/api/v1/keys', {
      body: JSON.stringify({ name: 'ci-bot', roles: ['deployer'], expiresInDays: 30 }),
    })) as Reply<{ version: number; key: string; id: string; name: string; roles: string[]; expiresAt: string }>;
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.version, 2);
    assert.match(created.body.key, /^gfk_[0-9a-f]{12}_/);
    assert.deepEqual([created.body.name, created.body.roles], ['ci-bot', ['deployer']]);
    const expiresIn = Date.parse(created.body.expiresAt) - Date.now();
    assert.ok(expiresIn > 29 * 86_400_000 && expiresIn <= 30 * 86_400_000, created.body.expiresAt);

    const listed = await listKeys();
    assert.equal(listed.version, 2);
    const key = listed.keys.find((entry) => entry.id === created.body.id);
    assert.ok(key);
    assert.deepEqual([key.name, key.state, key.roles, key.prefix], ['ci-bot', 'active', ['deployer'], `gfk_${key.id}`]);
    assert.ok(!JSON.stringify(listed).includes(created.body.key), 'the list never holds the key');
    assert.equal(key.key, undefined);

    const verified = await verify(created.body.key);
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.equal(verified.record.id, created.body.id);

    const duplicate = (await call('/api/v1/keys', { body: '{"name":"ci-bot"}' })) as Reply;
    assert.equal(duplicate.status, 409);
    assert.match(duplicate.body.error, /"ci-bot" exists/);
    for (const [body, message] of [
      ['not json', /^body: not valid JSON/],
      ['[]', /^body: /],
      ['{}', /^name: /],
      ['{"name":""}', /^name: /],
      ['{"name":"x","roles":"admin"}', /^roles: /],
      ['{"name":"x","expiresInDays":0}', /^expiresInDays: /],
      ['{"name":"x","expiresInDays":"30"}', /^expiresInDays: /],
      ['{"name":"x","admin":true}', /^body: unknown field "admin"/],
    ] as const) {
      const reply = (await call('/api/v1/keys', { body })) as Reply;
      assert.equal(reply.status, 400, body);
      assert.match(reply.body.error, message, body);
    }
    for (const auth of [null, 'Bearer wrong']) {
      assert.equal((await call('/api/v1/keys', { auth })).status, 401);
      assert.equal((await call('/api/v1/keys', { auth, body: '{"name":"x"}' })).status, 401);
      assert.equal((await call(`/api/v1/keys/${created.body.id}/revoke`, { auth, body: '{}' })).status, 401);
    }
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const reply = (await call('/api/v1/keys', { body: '{"name":"x"}', type })) as Reply;
      assert.equal(reply.status, 415, type);
      assert.match(reply.body.error, /Content-Type: application\/json/);
      assert.equal((await call(`/api/v1/keys/${created.body.id}/revoke`, { body: '{}', type })).status, 415);
    }
    const oversize = (await call('/api/v1/keys', { body: JSON.stringify({ name: 'x', pad: 'p'.repeat(17 * 1024) }) })) as Reply;
    assert.equal(oversize.status, 413);
    assert.match(oversize.body.error, /larger than 16 KiB/);
    assert.ok(!(await listKeys()).keys.some((entry) => entry.name === 'x'), 'refused requests created nothing');

    const revoked = (await call(`/api/v1/keys/${created.body.id}/revoke`, { body: '{}' })) as Reply<{ key: Key }>;
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.key.state, 'revoked');
    assert.equal((await listKeys()).keys.find((entry) => entry.id === created.body.id)?.state, 'revoked');
    assert.deepEqual(await verify(created.body.key), { ok: false, reason: 'revoked' });
    // Again, an unknown id, or a name in place of the id: 404.
    for (const id of [created.body.id, '000000000000', 'ci-bot']) {
      const reply = (await call(`/api/v1/keys/${id}/revoke`, { body: '{}' })) as Reply;
      assert.equal(reply.status, 404, id);
      assert.match(reply.body.error, /no active API key/);
    }
  });

  test('the methods page lists the methods; clicking calls re-sorts them', async () => {
    const { page, ...watch } = await openPage(await chromium());
    await page.goto(`${base}/#token=${token}`);
    await page.locator('#total-calls', { hasText: /^6$/ }).waitFor();
    // Through the nav bar: the token stays with the tab.
    await page.click('nav a[href="/methods"]');
    await page.locator('#methods tbody tr').nth(2).waitFor();
    assert.deepEqual(await methodOrder(page), [`${AUTH}/Login`, `${AUTH}/Logout`, `${USER}/GetUser`]);
    assert.equal(await page.getAttribute('th[data-sort="calls"]', 'aria-sort'), 'descending');
    assert.match((await page.textContent('#sorted-by')) ?? '', /calls ↓/);
    const login = page.locator('#methods tbody tr').first().locator('td');
    assert.deepEqual((await login.allTextContents()).slice(1, 4), ['3', '1', 'NOT_FOUND 1']);
    assert.equal(await page.getAttribute('nav a[href="/methods"]', 'aria-current'), 'page');

    await page.click('th[data-sort="calls"] button');
    assert.deepEqual(await methodOrder(page), [`${USER}/GetUser`, `${AUTH}/Logout`, `${AUTH}/Login`]);
    assert.equal(await page.getAttribute('th[data-sort="calls"]', 'aria-sort'), 'ascending');
    await page.click('th[data-sort="errors"] button');
    assert.equal(await page.getAttribute('th[data-sort="calls"]', 'aria-sort'), null);
    assert.match((await page.textContent('#sorted-by')) ?? '', /errors ↓/);
    assert.equal((await methodOrder(page)).at(-1), `${AUTH}/Logout`);

    await Promise.all([
      page.waitForResponse((response) => response.url().endsWith('/api/v1/methods?window=15m')),
      page.selectOption('#window', '15m'),
    ]);
    assert.equal(await page.locator('#methods tbody tr').count(), 3);
    assertClean(base, watch);
    await page.close();
  });

  test('the keys page creates a key (shown once) and revokes it', async () => {
    const { page, ...watch } = await openPage(await chromium());
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${base}/#token=${token}`);
    await page.click('nav a[href="/keys"]');
    await page.locator('#keys tbody tr[data-name="ci-bot"]').waitFor();

    await page.fill('#create input[name="name"]', 'from-the-page');
    await page.fill('#create input[name="roles"]', 'reader, deployer');
    await page.click('#create button[type="submit"]');
    await page.locator('#keys tbody tr[data-name="from-the-page"]').waitFor();
    const key = (await page.textContent('#new-key-value')) ?? '';
    assert.match(key, /^gfk_[0-9a-f]{12}_/);
    assert.ok(await page.isVisible('#new-key'));
    assert.match((await page.textContent('#new-key')) ?? '', /will not be shown again/);
    const row = page.locator('#keys tbody tr[data-name="from-the-page"]');
    assert.equal(await row.locator('td.state').textContent(), 'active');
    assert.equal(await row.locator('td').nth(2).textContent(), 'deployer, reader');
    assert.ok(!((await page.textContent('#keys')) ?? '').includes(key), 'the table never shows the key');
    assert.ok((await verify(key)).ok);

    // A duplicate name: the error in the page, no key shown.
    await page.click('#new-key-done');
    assert.equal(await page.textContent('#new-key-value'), '');
    await page.fill('#create input[name="name"]', 'from-the-page');
    await page.click('#create button[type="submit"]');
    await page.locator('#message', { hasText: /exists/ }).waitFor();
    assert.ok(!(await page.isVisible('#new-key')));

    // Left and opened again: the key is gone from the page.
    await page.reload();
    await row.waitFor();
    assert.ok(!(await page.content()).includes(key));

    await row.locator('button.revoke').click();
    await row.locator('td.state', { hasText: /^revoked$/ }).waitFor();
    assert.equal(await row.locator('button.revoke').count(), 0);
    assert.deepEqual(await verify(key), { ok: false, reason: 'revoked' });
    assertClean(base, watch);
    await page.close();
  });
});
