import assert from 'node:assert/strict';
import { request } from 'node:http';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { launchChromium, startDashboardProcess, storeWorkspace, type DashboardProcess } from '../helpers/dashboard.ts';

// Who may use `grpcforge dashboard`: the Host header (DNS rebinding), the token traded for an HttpOnly SameSite=Strict
// session cookie, the CSRF token on POSTs that ride on the cookie, the Origin of a POST; and --open.

let ws: string;
let dashboard: DashboardProcess;
let port: number;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP/1.1 request to the dashboard with exactly these headers (fetch would not let a test set Host). */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers, timeout: 10_000 }, (incoming) => {
      let text = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (text += chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: text }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const hostHeader = () => `127.0.0.1:${String(port)}`;
const json = { 'content-type': 'application/json' };

/** The cookies a session answer sets, by name: `name=value` and its attributes. */
function cookiesOf(answer: Answer): Map<string, string> {
  const set = answer.headers['set-cookie'] ?? [];
  return new Map((Array.isArray(set) ? set : [set]).map((line) => [line.slice(0, line.indexOf('=')), line]));
}

/** The `Cookie` header a browser would send back, and the CSRF value, from a session answer. */
async function startSession(): Promise<{ cookie: string; csrf: string }> {
  const answer = await send(
    'POST',
    '/api/v1/session',
    { host: hostHeader(), authorization: `Bearer ${dashboard.token}`, ...json },
    '{}',
  );
  assert.equal(answer.status, 200, answer.body);
  const cookies = [...cookiesOf(answer).values()].map((line) => line.split(';')[0]!);
  const csrf = cookies.find((pair) => pair.startsWith(`grpcforge_csrf_${String(port)}=`))!.split('=')[1]!;
  return { cookie: cookies.join('; '), csrf };
}

describe('grpcforge dashboard: access', { timeout: 120_000 }, () => {
  before(async () => {
    ({ ws } = await storeWorkspace());
    dashboard = await startDashboardProcess(ws);
    port = Number(new URL(dashboard.base).port);
  });
  after(() => dashboard.stop());

  test('a Host header that does not name the dashboard is refused with 403, on pages and on the API', async () => {
    const bearer = { authorization: `Bearer ${dashboard.token}` };
    for (const host of [
      'evil.example',
      `evil.example:${String(port)}`,
      `127.0.0.1:${String(port + 1)}`,
      `10.0.0.1:${String(port)}`,
    ]) {
      for (const path of ['/', '/api/v1/overview']) {
        const answer = await send('GET', path, { host, ...bearer });
        assert.equal(answer.status, 403, `${host} ${path}`);
        assert.match(answer.body, /Host header .* does not name this dashboard/);
      }
    }
    // The bound address and, on loopback, its aliases.
    for (const host of [hostHeader(), `localhost:${String(port)}`, `[::1]:${String(port)}`]) {
      assert.equal((await send('GET', '/api/v1/overview', { host, ...bearer })).status, 200, host);
    }
  });

  test('the token buys an HttpOnly SameSite=Strict session cookie; the API answers the cookie, not a made-up one', async () => {
    const refused = await send('POST', '/api/v1/session', { host: hostHeader(), authorization: 'Bearer wrong', ...json }, '{}');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['set-cookie'], undefined);

    const answer = await send(
      'POST',
      '/api/v1/session',
      { host: hostHeader(), authorization: `Bearer ${dashboard.token}`, ...json },
      '{}',
    );
    const cookies = cookiesOf(answer);
    const session = cookies.get(`grpcforge_session_${String(port)}`);
    const csrf = cookies.get(`grpcforge_csrf_${String(port)}`);
    assert.ok(session && csrf, [...cookies.keys()].join(', '));
    assert.match(session, /; HttpOnly/);
    assert.match(session, /; SameSite=Strict/);
    assert.match(session, /; Path=\//);
    assert.doesNotMatch(csrf, /HttpOnly/);
    assert.match(csrf, /; SameSite=Strict/);
    // Neither is the token.
    assert.ok(!session.includes(dashboard.token) && !csrf.includes(dashboard.token));

    const { cookie } = await startSession();
    assert.equal((await send('GET', '/api/v1/overview', { host: hostHeader(), cookie })).status, 200);
    const forged = cookie.replace(/(grpcforge_session_\d+=)[^;]+/, '$1AAAA');
    assert.equal((await send('GET', '/api/v1/overview', { host: hostHeader(), cookie: forged })).status, 401);
    // Another port's cookie name is not this dashboard's.
    const elsewhere = cookie.replaceAll(`_${String(port)}=`, `_${String(port + 1)}=`);
    assert.equal((await send('GET', '/api/v1/overview', { host: hostHeader(), cookie: elsewhere })).status, 401);
  });

  test('a POST on the cookie needs the CSRF token; a POST from another origin is refused', async () => {
    const { cookie, csrf } = await startSession();
    const body = JSON.stringify({ name: 'csrf-check' });
    const base = { host: hostHeader(), cookie, ...json };
    const missing = await send('POST', '/api/v1/keys', base, body);
    assert.equal(missing.status, 403);
    assert.match(missing.body, /CSRF/);
    assert.equal((await send('POST', '/api/v1/keys', { ...base, 'x-csrf-token': 'wrong' }, body)).status, 403);
    const foreign = await send('POST', '/api/v1/keys', { ...base, 'x-csrf-token': csrf, origin: 'http://evil.example' }, body);
    assert.equal(foreign.status, 403);
    assert.match(foreign.body, /Origin/);
    // None of the refusals created the key.
    const created = await send('POST', '/api/v1/keys', { ...base, 'x-csrf-token': csrf, origin: `http://${hostHeader()}` }, body);
    assert.equal(created.status, 201, created.body);
    // With the bearer token (curl, scripts) no CSRF token is needed: a browser cannot forge that header.
    const scripted = await send(
      'POST',
      '/api/v1/keys',
      { host: hostHeader(), authorization: `Bearer ${dashboard.token}`, ...json },
      JSON.stringify({ name: 'scripted' }),
    );
    assert.equal(scripted.status, 201, scripted.body);
  });

  test('in Chromium the token leaves the address and is kept nowhere a script reads; a new tab rides on the cookie', async () => {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(`${dashboard.base}/#token=${dashboard.token}`);
      await page.locator('#total-calls', { hasText: /^0$/ }).waitFor();
      assert.ok(!page.url().includes(dashboard.token));
      const stored = await page.evaluate<string>('JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie])');
      assert.ok(!stored.includes(dashboard.token), stored);
      const cookies = await context.cookies();
      const session = cookies.find((cookie) => cookie.name === `grpcforge_session_${String(port)}`);
      assert.ok(session, cookies.map((cookie) => cookie.name).join(', '));
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Strict');
      assert.ok(!(await page.content()).includes(dashboard.token));
      // A second tab of the same browser profile, opened without the token.
      const second = await context.newPage();
      second.setDefaultTimeout(15_000);
      await second.goto(`${dashboard.base}/keys`);
      await second.locator('#keys tbody tr[data-name="csrf-check"]').waitFor();
    } finally {
      await browser.close();
    }
  });

  test('--open hands the address to $BROWSER; --allow-host adds a name the Host header may use', async () => {
    const seen = join(ws, 'opened.txt');
    const fakeBrowser = join(ws, 'browser.sh');
    await writeFile(fakeBrowser, `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`);
    await chmod(fakeBrowser, 0o755);
    const opened = await startDashboardProcess(ws, ['--open', '--allow-host', 'dash.internal'], {
      BROWSER: fakeBrowser,
      DISPLAY: '',
      WAYLAND_DISPLAY: '',
    });
    try {
      let url = '';
      for (let waited = 0; url === '' && waited < 10_000; waited += 100) {
        await sleep(100);
        url = await readFile(seen, 'utf8').catch(() => '');
      }
      assert.equal(url, `${opened.base}/#token=${opened.token}`);
      const otherPort = Number(new URL(opened.base).port);
      const statusFor = (host: string, path = '/') =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          request({ host: '127.0.0.1', port: otherPort, path, headers: { host } }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
            .on('error', reject)
            .end();
        });
      // The extra name with the port, behind a proxy on 443, or with none (a proxy's default port); other names not.
      for (const host of [`dash.internal:${String(otherPort)}`, 'dash.internal:443', 'dash.internal', 'DASH.internal']) {
        assert.equal((await statusFor(host)).status, 200, host);
      }
      assert.equal((await statusFor('other.internal')).status, 403);
      // The pages read the CSRF cookie by the server's name for it (its bound port), not by the address's port.
      const page = await statusFor('dash.internal', '/');
      assert.ok(page.body.includes(`"csrfCookie":"grpcforge_csrf_${String(otherPort)}"`), 'the page names the CSRF cookie');
      assert.equal((await statusFor('dash.internal', '/assets/common.js')).status, 200);
    } finally {
      opened.stop();
      await opened.exited;
    }
  });
});
