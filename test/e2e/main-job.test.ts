import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { listFilesRecursive } from '../../src/util/fs.ts';
import {
  bufPath,
  hashTree,
  linkWorkspace,
  runCli,
  runNodeTests,
  runProgram,
  startServe,
  tempDir,
  tscPath,
  type ServeProcess,
} from '../helpers/workspace.ts';
import type { AuthClientModule, UserClient, UserPbModule } from './example-types.ts';
import type { TsProtoServiceDefinition } from 'nice-grpc';
import type * as RuntimeModule from '../../packages/runtime/src/index.ts';

// The main job end to end, on the example workspace, with real processes and sockets on 127.0.0.1.
// Generated modules are imported from the workspace, so they resolve @grpcforge/runtime the way a user's code does.

let ws: string;
let adminKey: string;
type Runtime = typeof RuntimeModule;
let runtime: Runtime;

// `version` busts the ESM cache when a generated module changed on disk.
const importFromWorkspace = async <T>(path: string, version = ''): Promise<T> =>
  (await import(pathToFileURL(join(ws, path)).href + (version ? `?v=${version}` : ''))) as T;

async function* fromArray<T>(items: T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

async function expectStatus(promise: Promise<unknown>, code: number, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof runtime.ClientError, `expected a ClientError, got ${String(error)}`);
    assert.equal(runtime.Status[error.code], runtime.Status[code]);
    if (message) assert.match(error.details, message);
    return true;
  });
}

const curl = (args: string[]) => runProgram(bufPath, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args], ws);

describe('init -> generate -> serve (example workspace)', () => {
  before(async () => {
    ws = join(await tempDir(), 'platform');
    const init = runCli(['init', ws], process.cwd());
    assert.equal(init.code, 0, init.stderr);
    await linkWorkspace(ws);
    const generate = runCli(['generate'], ws);
    assert.equal(generate.code, 0, generate.stderr);
    runtime = await importFromWorkspace<Runtime>('node_modules/@grpcforge/runtime/dist/index.js');
  });

  test('init refuses a folder that is not empty, unless --force', () => {
    const again = runCli(['init', ws], process.cwd());
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is not empty/);
    assert.match(again.stderr, /--force/);
  });

  test('the example contracts pass buf lint STANDARD', () => {
    const lint = runProgram(bufPath, ['lint'], ws);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
  });

  test('generated code and the example handlers type-check with tsc', () => {
    const tsc = runProgram(tscPath, ['-p', ws], ws);
    assert.equal(tsc.code, 0, tsc.stdout);
  });

  describe('both services running', () => {
    let auth: ServeProcess;
    let user: ServeProcess;
    let token: string;

    before(async () => {
      const created = runCli(['keys', 'create', '--name', 'ops', '--roles', 'admin', '--json'], ws);
      assert.equal(created.code, 0, created.stderr);
      adminKey = (JSON.parse(created.stdout) as { key: string }).key;
      // The user-owned logging hooks of auth: redact error messages of ListSessions.
      await writeFile(
        join(ws, 'services/auth/src/middleware/logging.ts'),
        "import { defineLoggingHooks } from '@grpcforge/runtime';\n\nexport const loggingHooks = defineLoggingHooks({\n" +
          "  redactCall: (call) => (call.method === 'ListSessions' && call.errorMessage ? { ...call, errorMessage: '[redacted]' } : call),\n});\n",
      );
      auth = await startServe(ws, 'auth');
      user = await startServe(ws, 'user', { AUTH_ADDR: auth.address });
    });

    test('unary and server-streaming calls to auth through the generated client', async () => {
      const { createAuthServiceClient } = await importFromWorkspace<AuthClientModule>(
        'services/user/src/gen/clients/auth.v1.AuthService.ts',
      );
      const client = createAuthServiceClient({ target: auth.address });
      const login = await client.login({ username: 'ada', password: 'demo' });
      assert.ok(login.token.length > 20);
      assert.ok(login.expireTime instanceof Date && login.expireTime.getTime() > Date.now());
      token = login.token;
      // ListSessions needs the admin role (grpcforge.yaml auth.methods): the pipeline enforces it.
      await expectStatus(collect(client.listSessions({})), runtime.Status.UNAUTHENTICATED, /^no credentials$/);
      // The operator reads the refusal on serve's stderr (rate-limited: one line per reason per minute).
      await auth.waitForStderr(
        /^grpcforge auth: UNAUTHENTICATED \/auth\.v1\.AuthService\/ListSessions from \S+: no credentials$/m,
      );
      const sessions = await collect(client.listSessions({}, { metadata: runtime.Metadata({ 'x-api-key': adminKey }) }));
      assert.deepEqual(
        sessions.map((response) => response.session?.subject),
        ['ada'],
      );
      await expectStatus(client.login({ username: 'ada', password: 'wrong' }), runtime.Status.UNAUTHENTICATED);
      runtime.closeServiceClient(client);
    });

    test("the contract's rules and its declared reason: typed in the generated client, shown by grpcforge call", async () => {
      const { createAuthServiceClient } = await importFromWorkspace<AuthClientModule>(
        'services/user/src/gen/clients/auth.v1.AuthService.ts',
      );
      const { isInvalidCredentials } = await importFromWorkspace<{ isInvalidCredentials: (error: unknown) => boolean }>(
        'services/user/src/gen/errors/auth.v1.AuthErrorReason.ts',
      );
      const client = createAuthServiceClient({ target: auth.address });
      // LoginRequest.username: at least 3 characters (buf.validate), checked before the handler runs.
      await assert.rejects(client.login({ username: 'x', password: 'demo' }), (error: unknown) => {
        assert.ok(runtime.isRichClientError(error), `expected a RichClientError, got ${String(error)}`);
        assert.equal(error.code, runtime.Status.INVALID_ARGUMENT);
        assert.match(error.details, /^invalid request: username: /);
        assert.deepEqual(
          error.errorDetails.badRequest?.fieldViolations.map((violation) => [violation.field, violation.reason]),
          [['username', 'string.min_len']],
        );
        assert.equal(isInvalidCredentials(error), false);
        return true;
      });
      // The handler throws the contract's INVALID_CREDENTIALS with its generated constructor; the guard narrows it.
      await assert.rejects(client.login({ username: 'ada', password: 'wrong' }), (error: unknown) => {
        assert.ok(isInvalidCredentials(error));
        assert.ok(runtime.isRichClientError(error));
        assert.equal(error.code, runtime.Status.UNAUTHENTICATED);
        assert.deepEqual(error.errorDetails.errorInfo, {
          reason: 'INVALID_CREDENTIALS',
          domain: 'auth.v1',
          metadata: { username: 'ada' },
        });
        return true;
      });
      const violation = runCli(
        ['call', auth.address, 'auth.v1.AuthService/Login', '-d', '{"username":"x","password":"demo"}'],
        ws,
      );
      assert.equal(violation.code, 64 + runtime.Status.INVALID_ARGUMENT, violation.stderr);
      assert.match(violation.stderr, /^ {2}bad request: username: .+ \[string\.min_len\]$/m);
      const reason = runCli(
        ['call', auth.address, 'auth.v1.AuthService/Login', '-d', '{"username":"ada","password":"wrong"}'],
        ws,
      );
      assert.equal(reason.code, 64 + runtime.Status.UNAUTHENTICATED, reason.stderr);
      assert.match(reason.stderr, /^ {2}error info: INVALID_CREDENTIALS \(auth\.v1\) username=ada$/m);
      // buf curl (connect-go) prints the status and the type of each detail it read from grpc-status-details-bin.
      const curled = curl(['-d', '{"username":"x","password":"demo"}', `http://${auth.address}/auth.v1.AuthService/Login`]);
      assert.notEqual(curled.code, 0);
      const printed = JSON.parse(curled.stderr) as { code: string; message: string; details?: { type: string }[] };
      assert.equal(printed.code, 'invalid_argument');
      assert.equal(printed.message, 'invalid request: username: must be at least 3 characters [string.min_len]');
      assert.deepEqual(
        printed.details?.map((detail) => detail.type),
        ['google.rpc.BadRequest'],
      );
      runtime.closeServiceClient(client);
    });

    test('all four kinds on user, each resolving the caller through auth (user -> auth)', async () => {
      const { UserServiceDefinition } = await importFromWorkspace<UserPbModule>('services/user/src/gen/pb/user/v1/user.ts');
      const client = runtime.createServiceClient(UserServiceDefinition, {
        target: user.address,
        deadlineMs: 5000,
      }) as unknown as UserClient;
      const metadata = runtime.Metadata({ authorization: `Bearer ${token}` });

      const got = await client.getUser({ id: 'u1' }, { metadata });
      assert.equal(got.user?.displayName, 'Ada Lovelace');
      assert.equal(got.requestedBy, 'ada', 'requestedBy comes from auth.v1.AuthService/ValidateToken');

      const listed = await collect(client.listUsers({}, { metadata }));
      assert.deepEqual(
        listed.map((response) => response.user?.id),
        ['u1', 'u2'],
      );

      const imported = await client.importUsers(
        fromArray([
          { user: { id: 'u3', displayName: 'Edsger', email: 'e@example.com' } },
          { user: { id: 'u4', displayName: 'Barbara', email: '' } },
        ]),
        { metadata },
      );
      assert.equal(imported.createdCount, 2);

      const synced = await collect(client.syncUsers(fromArray([{ id: 'u3' }, { id: 'nobody' }, { id: 'u2' }]), { metadata }));
      assert.deepEqual(
        synced.map((response) => [response.found, response.user?.displayName]),
        [
          [true, 'Edsger'],
          [false, undefined],
          [true, 'Grace Hopper'],
        ],
      );

      await expectStatus(client.getUser({ id: 'u1' }), runtime.Status.UNAUTHENTICATED, /^no credentials$/);
      await expectStatus(
        client.getUser({ id: 'u1' }, { metadata: runtime.Metadata({ authorization: 'Bearer forged' }) }),
        runtime.Status.UNAUTHENTICATED,
        /^invalid token$/,
      );
      await expectStatus(client.getUser({ id: 'u404' }, { metadata }), runtime.Status.NOT_FOUND);
      runtime.closeServiceClient(client);
    });

    test('server reflection: buf curl lists services and calls a method without the .proto (v1 and v1alpha)', () => {
      for (const protocol of ['grpc-v1', 'grpc-v1alpha']) {
        const list = curl(['--reflect-protocol', protocol, '--list-services', `http://${user.address}`]);
        assert.equal(list.code, 0, list.stderr);
        assert.deepEqual(list.stdout.trim().split('\n').sort(), [
          'grpc.health.v1.Health',
          'grpc.reflection.v1.ServerReflection',
          'grpc.reflection.v1alpha.ServerReflection',
          'user.v1.UserService',
        ]);
      }
      const call = curl([
        '-H',
        `authorization: Bearer ${token}`,
        '-d',
        '{"id":"u2"}',
        `http://${user.address}/user.v1.UserService/GetUser`,
      ]);
      assert.equal(call.code, 0, call.stderr);
      assert.equal((JSON.parse(call.stdout) as { user: { displayName: string } }).user.displayName, 'Grace Hopper');
    });

    test('gRPC health: Check says SERVING per service, Watch streams it, unknown services are NOT_FOUND', async () => {
      const { HealthDefinition } = await import('nice-grpc-server-health');
      const client = runtime.createServiceClient(HealthDefinition, { target: auth.address });
      const SERVING = 1;
      assert.equal((await client.check({ service: 'auth.v1.AuthService' })).status, SERVING);
      assert.equal((await client.check({ service: '' })).status, SERVING);
      const controller = new AbortController();
      for await (const response of client.watch({ service: 'auth.v1.AuthService' }, { signal: controller.signal })) {
        assert.equal(response.status, SERVING);
        break;
      }
      await expectStatus(client.check({ service: 'user.v1.UserService' }), runtime.Status.NOT_FOUND);
      runtime.closeServiceClient(client);
    });

    test('status lists both running instances', () => {
      const status = runCli(['status', '--json'], ws);
      assert.equal(status.code, 0, status.stderr);
      const { instances } = JSON.parse(status.stdout) as { instances: { service: string; state: string; address: string }[] };
      assert.deepEqual(instances.map((i) => [i.service, i.state]).sort(), [
        ['auth', 'serving'],
        ['user', 'serving'],
      ]);
    });

    test('SIGTERM drains, flushes the log store and exits 0', async () => {
      assert.equal(await user.stop(), 0);
      assert.match(user.stderr(), /SIGTERM: draining in-flight calls/);
      assert.equal(await auth.stop(), 0);
      assert.match(auth.stderr(), /log store: \d+ calls written/);
      for (const stderr of [auth.stderr(), user.stderr()]) {
        assert.ok(!stderr.includes(adminKey) && !stderr.includes(token), 'no key or token reaches stderr');
      }
    });

    test('logs, stats and status read what the servers recorded', () => {
      const logs = runCli(['logs', '--service', 'auth.v1.AuthService', '--method', 'ListSessions', '--json'], ws);
      assert.equal(logs.code, 0, logs.stderr);
      const { logs: rows } = JSON.parse(logs.stdout) as {
        logs: {
          statusCode: number;
          status: string;
          principal: string | null;
          kind: string;
          responseMessages: number;
          errorMessage: string | null;
        }[];
      };
      assert.deepEqual(
        rows.map((row) => [row.statusCode, row.status, row.principal, row.kind, row.errorMessage]),
        [
          [0, 'OK', 'apiKey:ops', 'serverStreaming', null],
          [16, 'UNAUTHENTICATED', null, 'serverStreaming', '[redacted]'],
        ],
      );
      assert.equal(rows[0]?.responseMessages, 1);
      const stats = runCli(['stats', '--json'], ws);
      assert.equal(stats.code, 0, stats.stderr);
      const report = JSON.parse(stats.stdout) as {
        totals: { calls: number };
        methods: { method: string }[];
        dropped: { rows: number };
      };
      assert.ok(report.totals.calls >= 15, `calls ${report.totals.calls}`);
      assert.equal(report.dropped.rows, 0);
      assert.ok(
        report.methods.some((m: { method: string }) => m.method === 'ValidateToken'),
        'user -> auth calls are logged by auth',
      );
      const text = runCli(['stats'], ws);
      assert.match(text.stdout, /latency ms: avg [\d.]+  p50 [\d.]+  p95 [\d.]+  p99 [\d.]+/);
      const status = runCli(['status', '--all', '--json'], ws);
      const { instances } = JSON.parse(status.stdout) as {
        instances: { state: string; callsRecorded: number; rowsWritten: number }[];
      };
      for (const instance of instances) assert.equal(instance.rowsWritten, instance.callsRecorded);
      assert.deepEqual(
        instances.map((i) => i.state),
        ['stopped', 'stopped'],
      );
      const database = runProgram('grep', ['-c', adminKey, join(ws, '.grpcforge/grpcforge.db')], ws);
      assert.equal(database.stdout.trim(), '0', 'the API key never reaches the database file');
    });
  });

  test("user's own tests run against the generated, recording stub of auth", async () => {
    const result = await runNodeTests(['services/user/test/get-user.test.ts'], ws);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(result.counts, { passed: 4, failed: 0, skipped: 0, todo: 0 });
  });

  test('an edited handler survives regeneration (generate --check: exit 0, then 1 once a generated file is edited), and a non-ServerError reaches clients as INTERNAL', async () => {
    const loginPath = join(ws, 'services/auth/src/handlers/auth.v1.AuthService/login.ts');
    const edited = (await readFile(loginPath, 'utf8')).replace(
      "if (request.password !== 'demo') {",
      "if (request.username === 'boom') throw new Error('database password is hunter2');\n  if (request.password !== 'demo') {",
    );
    await writeFile(loginPath, edited);
    const generate = runCli(['generate'], ws);
    assert.equal(generate.code, 0);
    assert.equal(await readFile(loginPath, 'utf8'), edited);
    // The CLI wires the writer's dry run to the exit code (test/unit/write.test.ts covers what the dry run reports).
    const clean = runCli(['generate', '--check'], ws);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /^check: 0 missing, 0 changed, \d+ unchanged, 15 kept$/m);
    const clientPath = join(ws, 'services/user/src/gen/clients/auth.v1.AuthService.ts');
    const clientText = await readFile(clientPath, 'utf8');
    await writeFile(clientPath, `${clientText}// hand edit\n`);
    const drift = runCli(['generate', '--check', '--json'], ws);
    assert.equal(drift.code, 1, drift.stdout + drift.stderr);
    const report = JSON.parse(drift.stdout) as { drift: number; files: { path: string; action: string }[] };
    assert.equal(report.drift, 1);
    assert.deepEqual(
      report.files
        .filter((file) => file.action !== 'unchanged' && file.action !== 'kept')
        .map((file) => `${file.action} ${file.path}`),
      ['written services/user/src/gen/clients/auth.v1.AuthService.ts'],
    );
    assert.equal(await readFile(clientPath, 'utf8'), `${clientText}// hand edit\n`, '--check writes nothing');
    await writeFile(clientPath, clientText);

    const auth = await startServe(ws, 'auth');
    const { createAuthServiceClient } = await importFromWorkspace<AuthClientModule>(
      'services/user/src/gen/clients/auth.v1.AuthService.ts',
    );
    const client = createAuthServiceClient({ target: auth.address });
    await expectStatus(client.login({ username: 'boom', password: 'x' }), runtime.Status.INTERNAL, /^internal server error$/);
    runtime.closeServiceClient(client);
    await auth.stop();
    assert.match(auth.stderr(), /error in \/auth\.v1\.AuthService\/Login: Error: database password is hunter2/);
  });

  test('an added RPC gets a new handler; a removed RPC is reported as orphaned and its file kept', async () => {
    const protoPath = join(ws, 'proto/auth/v1/auth.proto');
    const original = await readFile(protoPath, 'utf8');
    const changed = original
      .replace(
        /  \/\/ ListSessions streams[^\n]*\n  rpc ListSessions[^\n]*\n/,
        '  // Logout ends a session.\n  rpc Logout(LogoutRequest) returns (LogoutResponse);\n',
      )
      .replace('message ListSessionsRequest {}', 'message LogoutRequest {\n  string token = 1;\n}\n\nmessage LogoutResponse {}')
      .replace(/message ListSessionsResponse \{\n  Session session = 1;\n\}\n\n/, '');
    assert.notEqual(changed, original);
    await writeFile(protoPath, changed);
    // Its admin-only rule goes too: an auth.methods key of an RPC the contract lacks is an error.
    const configPath = join(ws, 'grpcforge.yaml');
    const originalConfig = await readFile(configPath, 'utf8');
    await writeFile(configPath, originalConfig.replace(/ +auth\.v1\.AuthService\/ListSessions: [^\n]*\n/, ''));
    const generate = runCli(['generate'], ws);
    assert.equal(generate.code, 0, generate.stderr);
    assert.match(generate.stdout, /created   services\/auth\/src\/handlers\/auth\.v1\.AuthService\/logout\.ts/);
    assert.match(
      generate.stdout,
      /orphaned  services\/auth\/src\/handlers\/auth\.v1\.AuthService\/list-sessions\.ts  \(its RPC is no longer in the contract/,
    );
    assert.ok(existsSync(join(ws, 'services/auth/src/handlers/auth.v1.AuthService/list-sessions.ts')));
    const logout = await readFile(join(ws, 'services/auth/src/handlers/auth.v1.AuthService/logout.ts'), 'utf8');
    assert.match(logout, /Logout ends a session\./);
    assert.match(
      logout,
      /throw new ServerError\(Status\.UNIMPLEMENTED, '\/auth\.v1\.AuthService\/Logout is not implemented yet'\)/,
    );
    const wiring = await readFile(join(ws, 'services/auth/src/gen/server/auth.v1.AuthService.ts'), 'utf8');
    assert.ok(!wiring.includes('list-sessions'));

    const auth = await startServe(ws, 'auth');
    // The regenerated definition (a fresh module URL: the old one is in the ESM cache) has Logout.
    const { AuthServiceDefinition } = await importFromWorkspace<{
      AuthServiceDefinition: TsProtoServiceDefinition;
    }>('services/user/src/gen/pb/auth/v1/auth.ts', '2');
    const client = runtime.createServiceClient(AuthServiceDefinition, { target: auth.address }) as unknown as {
      logout(request: object, options?: object): Promise<unknown>;
    };
    // A new RPC is secure by default (auth.default: authenticated).
    await expectStatus(client.logout({ token: 'x' }), runtime.Status.UNAUTHENTICATED);
    await expectStatus(
      client.logout({ token: 'x' }, { metadata: runtime.Metadata({ 'x-api-key': adminKey }) }),
      runtime.Status.UNIMPLEMENTED,
      /not implemented yet/,
    );
    await auth.stop();
    await writeFile(protoPath, original);
    await writeFile(configPath, originalConfig);
  });

  test('a malformed contract names file:line:col, exits 2 and writes nothing', async () => {
    const protoPath = join(ws, 'proto/user/v1/user.proto');
    const original = await readFile(protoPath, 'utf8');
    await writeFile(protoPath, original.replace('string display_name = 2 ', 'strin display_name = 2 '));
    const files = (await listFilesRecursive(join(ws, 'services'))).map((path) => `services/${path}`);
    const beforeHashes = await hashTree(ws, files);
    const result = runCli(['generate'], ws);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /grpcforge: buf could not build the contracts\n  proto\/user\/v1\/user\.proto:\d+:3: cannot find `strin` in this scope/,
    );
    assert.deepEqual(await hashTree(ws, files), beforeHashes);
    await writeFile(protoPath, original);
  });

  test('a config naming an unknown service gets the key path and a hint, exit 2', async () => {
    const configPath = join(ws, 'grpcforge.yaml');
    const original = await readFile(configPath, 'utf8');
    await writeFile(configPath, original.replace('serves: [auth.v1.AuthService]', 'serves: [auth.v1.AuthServce]'));
    const result = runCli(['generate'], ws);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /grpcforge\.yaml:\d+:\d+: services\.auth\.serves\[0\]: "auth\.v1\.AuthServce" is not a service in proto\/ \(did you mean "auth\.v1\.AuthService"\?\)/,
    );
    await writeFile(configPath, original);
  });
});
