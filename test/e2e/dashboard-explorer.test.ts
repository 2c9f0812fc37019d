import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  AUTH,
  USER,
  assertClean,
  launchChromium,
  openPage,
  startDashboardProcess,
  storeWorkspace,
  type DashboardProcess,
} from '../helpers/dashboard.ts';
import { linkWorkspace, runCli, startServe, tempDir, type ServeProcess } from '../helpers/workspace.ts';

// `grpcforge dashboard`'s service catalog and API explorer, over the example workspace with its auth service
// really serving: the JSON API (shapes, allowed targets, errors, streams) and both pages in Debian's Chromium, and
// the API key typed in the page never showing up in the page, its storage, an answer or the dashboard's stderr.

let ws: string;
let auth: ServeProcess;
let dashboard: DashboardProcess;
let base: string;
let token: string;

interface Reply<T = { error: string }> {
  status: number;
  body: T;
}
interface CatalogMethod {
  name: string;
  method: string;
  path: string;
  kind: string;
  comment: string;
  deprecated: boolean;
  idempotency: string;
  inputType: string;
  outputType: string;
  requestTemplate: unknown;
  responseTemplate: unknown;
}
interface CatalogService {
  service: string;
  file: string;
  comment: string;
  deprecated: boolean;
  servedBy: string[];
  consumedBy: string[];
  methods: CatalogMethod[];
}
interface Answer {
  version: number;
  target: string;
  method: string;
  status: string;
  statusCode: number;
  message: string;
  headers: Record<string, string[]>;
  trailers: Record<string, string[]>;
  durationMs: number;
  responses: Record<string, unknown>[];
  truncated: boolean;
  descriptors: string;
  commands: { grpcforge: string; bufCurl: string };
  details?: Record<string, unknown>;
  detailsText?: string[];
}

/** protovalidate's message for LoginRequest.username's `min_len: 3`. */
const TOO_SHORT = 'must be at least 3 characters';

/**
 * A stub of auth answering a declared error reason with details. A username too short never reaches the scenario:
 * the stub validates requests by the contract's rules first, as `serve` does.
 */
const DETAILS_SCENARIO = `service: auth.v1.AuthService
methods:
  Login:
    - match: { username: bob }
      error: { code: UNAUTHENTICATED, message: wrong username or password, reason: INVALID_CREDENTIALS, metadata: { username: bob } }
    - respond: { token: t1 }
`;

/** The API with the token; a body makes it a JSON POST. */
async function request<T = { error: string }>(path: string, body?: unknown, auth = true): Promise<Reply<T>> {
  const headers: Record<string, string> = auth ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}

const explorerCall = (body: Record<string, unknown>) => request<Answer>('/api/v1/explorer/call', body);

describe('grpcforge dashboard: service catalog and API explorer', { timeout: 120_000 }, () => {
  let browser: Browser | undefined;
  let adminKey: string;

  before(async () => {
    ws = join(await tempDir(), 'platform');
    assert.equal(runCli(['init', ws], process.cwd()).code, 0);
    await linkWorkspace(ws);
    assert.equal(runCli(['generate'], ws).code, 0);
    auth = await startServe(ws, 'auth');
    dashboard = await startDashboardProcess(ws);
    ({ base, token } = dashboard);
    const created = await request<{ key: string }>('/api/v1/keys', { name: 'ops', roles: ['admin'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    adminKey = created.body.key;
  });

  after(async () => {
    await browser?.close();
    dashboard.stop();
    await Promise.race([dashboard.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    await auth.stop();
  });

  test('GET /api/v1/catalog: the services of grpcforge.yaml, their methods, kinds, comments and templates', async () => {
    assert.equal((await request('/api/v1/catalog', undefined, false)).status, 401);
    const { status, body } = await request<{ version: number; services: CatalogService[] }>('/api/v1/catalog');
    assert.equal(status, 200);
    assert.equal(body.version, 2);
    assert.deepEqual(
      body.services.map((service) => [service.service, service.servedBy, service.consumedBy]),
      [
        [AUTH, ['auth'], ['user']],
        [USER, ['user'], []],
      ],
    );
    const authService = body.services[0]!;
    assert.equal(authService.file, 'auth/v1/auth.proto');
    assert.equal(authService.comment, 'AuthService issues session tokens and tells other services whom a token belongs to.');
    assert.deepEqual(
      authService.methods.map((method) => [method.method, method.kind, method.idempotency]),
      [
        [`${AUTH}/Login`, 'unary', 'unknown'],
        [`${AUTH}/ValidateToken`, 'unary', 'noSideEffects'],
        [`${AUTH}/ListSessions`, 'serverStreaming', 'unknown'],
      ],
    );
    assert.deepEqual(authService.methods[0], {
      name: 'Login',
      method: `${AUTH}/Login`,
      path: `/${AUTH}/Login`,
      kind: 'unary',
      comment: 'Login exchanges a username and a password for a session token.',
      deprecated: false,
      idempotency: 'unknown',
      inputType: 'auth.v1.LoginRequest',
      outputType: 'auth.v1.LoginResponse',
      requestTemplate: { username: '', password: '' },
      responseTemplate: { token: '', expireTime: '1970-01-01T00:00:00Z' },
    });
    const kinds = body.services[1]!.methods.map((method) => method.kind);
    assert.deepEqual(kinds, ['unary', 'serverStreaming', 'clientStreaming', 'bidiStreaming']);
  });

  test('GET /api/v1/explorer/targets: the serving instance first, then the listen addresses', async () => {
    const { status, body } = await request<{ version: number; targets: Record<string, unknown>[] }>('/api/v1/explorer/targets');
    assert.equal(status, 200);
    assert.equal(body.version, 2);
    assert.deepEqual(
      body.targets.map(({ target, from, service, services }) => ({ target, from, service, services })),
      [
        { target: auth.address, from: 'instance', service: 'auth', services: [AUTH] },
        { target: '127.0.0.1:50051', from: 'listen', service: 'auth', services: [AUTH] },
        { target: '127.0.0.1:50052', from: 'listen', service: 'user', services: [USER] },
      ],
    );
    assert.equal(typeof body.targets[0]!.instanceId, 'string');
  });

  test('POST /api/v1/explorer/call: OK with headers and commands; gRPC errors are answers; bad requests are 400', async () => {
    const login = await explorerCall({
      target: auth.address,
      method: `${AUTH}/Login`,
      requests: [{ username: 'ada', password: 'demo' }],
      metadata: { 'x-trace': 'explorer-test' },
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const answer = login.body;
    assert.deepEqual([answer.version, answer.status, answer.statusCode, answer.message], [2, 'OK', 0, '']);
    assert.deepEqual(
      [answer.target, answer.method, answer.descriptors, answer.truncated],
      [auth.address, `${AUTH}/Login`, 'reflection', false],
    );
    assert.equal(answer.responses.length, 1);
    assert.match(String(answer.responses[0]!.token), /^\S{16,}$/);
    assert.match(String(answer.responses[0]!.expireTime), /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(answer.headers['content-type'], ['application/grpc+proto']);
    assert.equal(typeof answer.trailers, 'object');
    assert.ok(answer.durationMs > 0 && answer.durationMs < 10_000, String(answer.durationMs));
    assert.equal(
      answer.commands.grpcforge,
      `grpcforge call ${auth.address} ${AUTH}/Login -d '{"username":"ada","password":"demo"}' -H 'x-trace: explorer-test'`,
    );
    assert.equal(
      answer.commands.bufCurl,
      `buf curl --protocol grpc --http2-prior-knowledge -H 'x-trace: explorer-test' -d '{"username":"ada","password":"demo"}' http://${auth.address}/${AUTH}/Login`,
    );

    // A wrong password: the handler's UNAUTHENTICATED, as an answer (200). JSON lines in a string work too.
    const refused = await explorerCall({
      target: auth.address,
      method: `${AUTH}/Login`,
      requests: '{"username":"ada","password":"x"}',
    });
    assert.equal(refused.status, 200);
    assert.deepEqual(
      [refused.body.status, refused.body.statusCode, refused.body.message],
      ['UNAUTHENTICATED', 16, 'wrong username or password'],
    );

    for (const [body, message] of [
      [
        { target: '127.0.0.1:1', method: `${AUTH}/Login` },
        `target: "127.0.0.1:1" is not a server of this workspace; the explorer calls only ${auth.address}, 127.0.0.1:50051, 127.0.0.1:50052`,
      ],
      [{ target: 'example.com:443', method: `${AUTH}/Login` }, /^target: "example\.com:443" is not a server of this workspace/],
      [{ target: auth.address, method: `${AUTH}/Logn` }, `${AUTH} has no method "Logn" (did you mean "${AUTH}/Login"?)`],
      [
        { target: auth.address, method: 'Login' },
        /^"Login" is not a fully-qualified method: expected pkg\.Service\/Method \(did you mean "auth\.v1\.AuthService\/Login"\?\)/,
      ],
      [
        { target: auth.address, method: `${AUTH}/Login`, requests: [{ user: 'ada' }] },
        /^request 1 does not fit auth\.v1\.LoginRequest: .*key "user" is unknown/,
      ],
      [{ target: auth.address, method: `${AUTH}/Login`, requests: [{}, {}] }, /takes one request message \(it is unary\), got 2/],
      [{ target: auth.address, method: `${AUTH}/Login`, requests: '{"a":1}\n{oops' }, /^requests: line 2 is not JSON/],
      [
        { target: auth.address, method: `${AUTH}/Login`, metadata: { authorization: 'Bearer x' } },
        /^metadata: send authorization as bearerToken/,
      ],
      [{ target: auth.address, method: `${AUTH}/Login`, deadlineMs: 0 }, /^deadlineMs: /],
      [{ target: auth.address, method: `${AUTH}/Login`, proxy: true }, 'body: unknown field "proxy"'],
    ] as const) {
      const reply = await request('/api/v1/explorer/call', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      if (typeof message === 'string') assert.equal(reply.body.error, message);
      else assert.match(reply.body.error, message);
    }
    assert.equal((await request('/api/v1/explorer/call', { target: auth.address, method: `${AUTH}/Login` }, false)).status, 401);
  });

  test('a server-streaming method answers every session; the API key is used, never echoed', async () => {
    for (const username of ['grace', 'linus']) {
      const reply = await explorerCall({
        target: auth.address,
        method: `${AUTH}/Login`,
        requests: [{ username, password: 'demo' }],
      });
      assert.equal(reply.body.status, 'OK');
    }
    const anonymous = await explorerCall({ target: auth.address, method: `${AUTH}/ListSessions` });
    assert.equal(anonymous.body.status, 'UNAUTHENTICATED');
    const listed = await explorerCall({
      target: auth.address,
      method: `${AUTH}/ListSessions`,
      apiKey: adminKey,
      deadlineMs: 5000,
    });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.status, 'OK', listed.body.message);
    const subjects = listed.body.responses.map((response) => (response.session as { subject: string }).subject);
    assert.ok(subjects.length >= 3, JSON.stringify(subjects));
    assert.ok(
      ['ada', 'grace', 'linus'].every((subject) => subjects.includes(subject)),
      JSON.stringify(subjects),
    );
    assert.ok(!JSON.stringify(listed.body).includes(adminKey), 'the answer never holds the key');
    assert.equal(
      listed.body.commands.grpcforge,
      `grpcforge call ${auth.address} ${AUTH}/ListSessions -d '{}' -H "x-api-key: $GRPCFORGE_API_KEY" --deadline 5000`,
    );
    assert.match(listed.body.commands.bufCurl, / -H "x-api-key: \$GRPCFORGE_API_KEY" -d '\{\}' http:/);
  });

  test('the catalog page lists the methods with their kinds and comments; try it opens the explorer', async () => {
    const { page, ...watch } = await openPage((browser ??= await launchChromium()));
    await page.goto(`${base}/catalog#token=${token}`);
    const section = page.locator(`section.service[data-service="${AUTH}"]`);
    await section.locator('tbody tr').nth(2).waitFor();
    assert.match((await section.textContent()) ?? '', /AuthService issues session tokens/);
    assert.match((await section.textContent()) ?? '', /served by auth · consumed by user/);
    const rows = section.locator('tbody tr');
    const row = async (index: number) => {
      const cells = rows.nth(index).locator('td');
      return [await cells.nth(0).textContent(), await cells.nth(1).textContent(), await cells.nth(3).textContent()];
    };
    assert.deepEqual(await row(0), ['Login', 'unary', 'Login exchanges a username and a password for a session token.']);
    assert.deepEqual(await row(1), [
      'ValidateToken',
      'unary',
      'ValidateToken tells whether a session token is valid, and whose it is.',
    ]);
    assert.deepEqual(await row(2), [
      'ListSessions',
      'server streaming',
      'ListSessions streams the active sessions, oldest first.',
    ]);
    const request = JSON.parse((await rows.nth(0).locator('details.template pre').first().textContent()) ?? '') as unknown;
    assert.deepEqual(request, { username: '', password: '' });
    assert.equal(await page.locator(`section.service[data-service="${USER}"] tbody tr`).count(), 4);
    assert.equal(await page.getAttribute('nav a[href="/catalog"]', 'aria-current'), 'page');

    await rows.nth(0).locator('a.try-it').click();
    await page.waitForURL(/\/explorer\?method=/);
    await page.locator('body[data-ready="true"]').waitFor();
    assert.equal(await page.inputValue('#method'), `${AUTH}/Login`);
    assert.equal(await page.inputValue('#target'), auth.address);
    assert.deepEqual(JSON.parse(await page.inputValue('#request')), { username: '', password: '' });
    assertClean(base, watch);
    await page.close();
  });

  test('the explorer page calls Login, then ListSessions without and with an API key it never keeps', async () => {
    const { page, ...watch } = await openPage((browser ??= await launchChromium()));
    await page.goto(`${base}/explorer#token=${token}`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.fill('#method', `${AUTH}/Login`);
    assert.equal(await page.inputValue('#target'), auth.address, 'the target that serves the method');
    assert.match((await page.textContent('#method-kind')) ?? '', /^unary: auth\.v1\.LoginRequest → auth\.v1\.LoginResponse$/);
    await page.fill('#request', '{"username":"margaret","password":"demo"}');
    await page.click('#send');
    await page.locator('#status', { hasText: /^OK \(0\)$/ }).waitFor();
    const responses = (await page.textContent('#responses')) ?? '';
    assert.equal(responses.split('\n').length, 1);
    assert.match((JSON.parse(responses) as { token: string }).token, /^\S{16,}$/);
    assert.match((await page.textContent('#headers')) ?? '', /^content-type: application\/grpc\+proto$/m);
    assert.match((await page.textContent('#duration')) ?? '', /^\d+\.\d\d ms$/);
    assert.match(
      (await page.textContent('#command-grpcforge')) ?? '',
      /^\$ grpcforge call 127\.0\.0\.1:\d+ auth\.v1\.AuthService\/Login -d '\{"username":"margaret","password":"demo"\}'$/,
    );
    assert.match((await page.textContent('#command-buf-curl')) ?? '', /^\$ buf curl --protocol grpc --http2-prior-knowledge -d /);

    // A method that needs a caller: UNAUTHENTICATED without a key.
    await page.fill('#method', `${AUTH}/ListSessions`);
    assert.equal(await page.inputValue('#request'), '{}', 'a new method, a new template');
    await page.click('#send');
    await page.locator('#status', { hasText: /^UNAUTHENTICATED \(16\)$/ }).waitFor();
    assert.equal(await page.textContent('#status-message'), 'no credentials');

    // With the admin key: OK, every session as a JSON line.
    assert.equal(await page.getAttribute('#api-key', 'type'), 'password');
    await page.fill('#api-key', adminKey);
    await page.click('#send');
    await page.locator('#status', { hasText: /^OK \(0\)$/ }).waitFor();
    const lines = ((await page.textContent('#responses')) ?? '').split('\n');
    assert.ok(lines.length >= 4, lines.join('\n'));
    assert.ok(lines.some((line) => line.includes('"subject":"margaret"')));
    assert.match((await page.textContent('#command-grpcforge')) ?? '', /-H "x-api-key: \$GRPCFORGE_API_KEY"/);

    // The key is nowhere but in its input: not the HTML, not storage, not the address, not the dashboard's stderr.
    assert.ok(!(await page.content()).includes(adminKey), 'the page HTML');
    const stored = await page.evaluate<string>(
      'JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie, location.href])',
    );
    assert.ok(!stored.includes(adminKey), 'storage, cookies and the address');
    assert.ok(!dashboard.stderr().includes(adminKey), 'the dashboard stderr');
    assert.ok(!dashboard.lines.join('\n').includes(adminKey), 'the dashboard stdout');

    // An unknown method: the error of grpcforge call, in the page.
    await page.fill('#method', `${AUTH}/Logn`);
    await page.click('#send');
    await page.locator('#message', { hasText: `${AUTH} has no method "Logn" (did you mean "${AUTH}/Login"?)` }).waitFor();
    assert.ok(await page.isHidden('#result'));
    // Chromium logs the 400 of that call as a console error: the only one.
    const refused = watch.problems.filter((problem) => problem.includes('status of 400 (Bad Request)'));
    assert.equal(refused.length, 1, watch.problems.join('\n'));
    assertClean(base, { ...watch, problems: watch.problems.filter((problem) => !refused.includes(problem)) });
    await page.close();
  });

  test('an error with details: the answer carries them, the page shows the violation next to the request', async () => {
    await writeFile(join(ws, 'auth-details.yaml'), DETAILS_SCENARIO);
    const stub = await startServe(ws, AUTH, {}, ['--stub', '--scenario', 'auth-details.yaml']);
    try {
      // The stub registers as a serving instance: a target of the explorer.
      const refused = await explorerCall({
        target: stub.address,
        method: `${AUTH}/Login`,
        requests: [{ username: 'al', password: 'demo' }],
      });
      assert.equal(refused.status, 200, JSON.stringify(refused.body));
      assert.deepEqual(
        [refused.body.status, refused.body.message],
        ['INVALID_ARGUMENT', `invalid request: username: ${TOO_SHORT} [string.min_len]`],
      );
      assert.deepEqual(refused.body.details, {
        badRequest: { fieldViolations: [{ field: 'username', description: TOO_SHORT, reason: 'string.min_len' }] },
      });
      assert.deepEqual(refused.body.detailsText, [`bad request: username: ${TOO_SHORT} [string.min_len]`]);
      assert.equal(typeof refused.body.trailers['grpc-status-details-bin']?.[0], 'string', 'the raw trailer, in base64');

      const { page, ...watch } = await openPage((browser ??= await launchChromium()));
      await page.goto(`${base}/explorer#token=${token}`);
      await page.locator('body[data-ready="true"]').waitFor();
      await page.fill('#method', `${AUTH}/Login`);
      await page.selectOption('#target', stub.address);
      await page.fill('#request', '{"username":"al","password":"demo"}');
      await page.click('#send');
      await page.locator('#status', { hasText: /^INVALID_ARGUMENT \(3\)$/ }).waitFor();
      const row = page.locator('#violations tbody tr[data-field="username"]');
      await row.waitFor();
      assert.deepEqual(await row.locator('td').allTextContents(), ['username', TOO_SHORT, 'string.min_len']);
      assert.ok(await page.isVisible('#violations'));
      assert.equal(await page.textContent('#error-details'), `bad request: username: ${TOO_SHORT} [string.min_len]`);

      // ErrorInfo from the scenario's reason shortcut: in the answer; no violation, so the table hides again.
      await page.fill('#request', '{"username":"bob","password":"demo"}');
      await page.click('#send');
      await page.locator('#status', { hasText: /^UNAUTHENTICATED \(16\)$/ }).waitFor();
      assert.equal(await page.textContent('#error-details'), 'error info: INVALID_CREDENTIALS (auth.v1) username=bob');
      assert.ok(await page.isHidden('#violations'));

      await page.fill('#request', '{"username":"grace","password":"demo"}');
      await page.click('#send');
      await page.locator('#status', { hasText: /^OK \(0\)$/ }).waitFor();
      assert.equal(await page.textContent('#error-details'), '–');
      assertClean(base, watch);
      await page.close();
    } finally {
      await stub.stop();
    }
  });

  test('without contracts the dashboard still starts: one warning, and the catalog says why', async () => {
    // A grpcforge.yaml without buf.yaml or .proto files: monitoring works, the catalog cannot.
    const { ws: bare } = await storeWorkspace();
    const other = await startDashboardProcess(bare);
    try {
      const headers = { authorization: `Bearer ${other.token}` };
      const catalog = await fetch(`${other.base}/api/v1/catalog`, { headers });
      assert.equal(catalog.status, 503);
      const { error } = (await catalog.json()) as { error: string };
      assert.match(error, /^the contracts could not be built, so there is no service catalog: /);
      assert.equal((await fetch(`${other.base}/api/v1/overview`, { headers })).status, 200);
      const warnings = other
        .stderr()
        .split('\n')
        .filter((line) => line.startsWith('dashboard: the contracts could not be built'));
      assert.equal(warnings.length, 1, other.stderr());
      const targets = (await (await fetch(`${other.base}/api/v1/explorer/targets`, { headers })).json()) as {
        targets: unknown[];
      };
      assert.deepEqual(targets.targets, [], 'listen 127.0.0.1:0 is no target');
    } finally {
      other.stop();
      await Promise.race([other.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    }
  });

  test('with tls: in grpcforge.yaml the explorer dials TLS with its CA, and the commands say so', async () => {
    // The same workspace with TLS switched on (no client certificates: the explorer sends none).
    const tlsWs = join(await tempDir(), 'platform');
    await cp(ws, tlsWs, { recursive: true, verbatimSymlinks: true, filter: (path) => !path.includes('.grpcforge') });
    const yaml = await readFile(join(tlsWs, 'grpcforge.yaml'), 'utf8');
    const tlsYaml = yaml
      .replace('enabled: false', 'enabled: true')
      .replace('requireClientCert: true', 'requireClientCert: false');
    assert.notEqual(tlsYaml, yaml);
    await writeFile(join(tlsWs, 'grpcforge.yaml'), tlsYaml);
    const certs = runCli(['certs', 'init', '--trust-domain', 'platform'], tlsWs);
    assert.equal(certs.code, 0, certs.stderr);
    const tlsAuth = await startServe(tlsWs, 'auth');
    const other = await startDashboardProcess(tlsWs);
    try {
      const response = await fetch(`${other.base}/api/v1/explorer/call`, {
        method: 'POST',
        headers: { authorization: `Bearer ${other.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          target: tlsAuth.address,
          method: `${AUTH}/Login`,
          requests: [{ username: 'ada', password: 'demo' }],
        }),
      });
      const answer = (await response.json()) as Answer;
      assert.equal(response.status, 200, JSON.stringify(answer));
      assert.equal(answer.status, 'OK', answer.message);
      assert.match(answer.commands.grpcforge, / --ca 'certs\/ca\.pem'$/);
      assert.match(
        answer.commands.bufCurl,
        new RegExp(`^buf curl --protocol grpc --cacert 'certs/ca\\.pem' -d .* https://${tlsAuth.address}/`),
      );
    } finally {
      other.stop();
      await Promise.race([other.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      await tlsAuth.stop();
    }
  });
});
