import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { TsProtoServiceDefinition } from 'nice-grpc';
import type * as RuntimeModule from '../../packages/runtime/src/index.ts';
import { childEnv, linkWorkspace, repoRoot, runCli, startServe, tempDir } from '../helpers/workspace.ts';
import type { UserClient } from './example-types.ts';

// `grpcforge serve <consumed service> --stub --scenario`: a fake auth from its contract, for user's integration tests.

type Runtime = typeof RuntimeModule;

const SCENARIO = `service: auth.v1.AuthService
methods:
  ValidateToken:
    - match: { token: good }
      respond: { valid: true, subject: ada, roles: [user] }
    - match: { token: { regex: "^exp" } }
      error: { code: UNAUTHENTICATED, message: token expired }
    - match: { token: { contains: flaky } }
      sequence:
        - error: { code: UNAVAILABLE, message: warming up }
        - respond: { valid: true, subject: grace }
  Login:
    - match: { username: { contains: slow } }
      delayMs: 300
      respond: { token: t-slow, expireTime: "2030-01-02T03:04:05Z" }
    - respond: { token: t1 }
  ListSessions:
    - stream:
        - session: { subject: ada }
        - session: { subject: grace }
`;

/** The CLI without blocking, so that several runs share the two cores. */
function runCliAsync(args: readonly string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/grpcforge'), ...args], { cwd, env: childEnv({}) });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

interface AuthStubClient {
  validateToken(request: { token: string }): Promise<{ valid: boolean; subject: string; roles: string[] }>;
  login(request: { username: string; password: string }): Promise<{ token: string; expireTime?: Date }>;
  listSessions(request: object): AsyncIterable<{ session?: { subject: string } }>;
}

describe('serve --stub with a scenario', () => {
  let ws: string;
  let runtime: Runtime;

  before(async () => {
    ws = join(await tempDir(), 'platform');
    assert.equal(runCli(['init', ws], process.cwd()).code, 0);
    await linkWorkspace(ws);
    assert.equal(runCli(['generate'], ws).code, 0);
    await writeFile(join(ws, 'auth-scenario.yaml'), SCENARIO);
    runtime = (await import(pathToFileURL(join(ws, 'node_modules/@grpcforge/runtime/dist/index.js')).href)) as Runtime;
  });

  test('matching (equals, regex, contains), sequences, errors, delays and streams', async () => {
    const stub = await startServe(ws, 'auth.v1.AuthService', {}, ['--stub', '--scenario', 'auth-scenario.yaml']);
    const { definition } = (await import(pathToFileURL(join(ws, 'services/user/src/gen/stubs/auth.v1.AuthService.ts')).href)) as {
      definition: TsProtoServiceDefinition;
    };
    const client = runtime.createServiceClient(definition, { target: stub.address, retry: false }) as unknown as AuthStubClient;
    assert.deepEqual(await client.validateToken({ token: 'good' }), { valid: true, subject: 'ada', roles: ['user'] });
    await assert.rejects(client.validateToken({ token: 'expired-1' }), (error: unknown) => {
      assert.ok(error instanceof runtime.ClientError);
      assert.equal(runtime.Status[error.code], 'UNAUTHENTICATED');
      assert.equal(error.details, 'token expired');
      return true;
    });
    await assert.rejects(client.validateToken({ token: 'a-flaky-one' }), /UNAVAILABLE: warming up/);
    assert.equal(
      (await client.validateToken({ token: 'a-flaky-one' })).subject,
      'grace',
      'the second call gets the second entry',
    );
    assert.equal((await client.validateToken({ token: 'a-flaky-one' })).subject, 'grace', 'and the last one repeats');
    await assert.rejects(
      client.validateToken({ token: 'nothing matches' }),
      /UNIMPLEMENTED: no scenario rule of ValidateToken matches/,
    );

    const started = Date.now();
    const slow = await client.login({ username: 'slowpoke', password: 'x' });
    assert.ok(Date.now() - started >= 290, 'the delay was applied');
    assert.equal(slow.expireTime?.toISOString(), '2030-01-02T03:04:05.000Z', 'proto JSON in the scenario: a Timestamp string');
    assert.equal((await client.login({ username: 'ada', password: 'x' })).token, 't1');
    const sessions: string[] = [];
    for await (const response of client.listSessions({})) sessions.push(response.session?.subject ?? '');
    assert.deepEqual(sessions, ['ada', 'grace']);
    runtime.closeServiceClient(client);
    assert.equal(await stub.stop(), 0);
    assert.match(stub.stderr(), /stub: 9 calls received/);
  });

  test("user's real handlers run against the stubbed auth", async () => {
    const stub = await startServe(ws, 'auth.v1.AuthService', {}, ['--stub', '--scenario', 'auth-scenario.yaml']);
    const user = await startServe(ws, 'user', { AUTH_ADDR: stub.address });
    const { UserServiceDefinition } = (await import(
      pathToFileURL(join(ws, 'services/user/src/gen/pb/user/v1/user.ts')).href
    )) as Record<string, TsProtoServiceDefinition>;
    const client = runtime.createServiceClient(UserServiceDefinition!, { target: user.address }) as unknown as UserClient;
    const response = await client.getUser({ id: 'u2' }, { metadata: runtime.Metadata({ authorization: 'Bearer good' }) });
    assert.equal(response.requestedBy, 'ada');
    await assert.rejects(
      client.getUser({ id: 'u2' }, { metadata: runtime.Metadata({ authorization: 'Bearer expired' }) }),
      /UNAUTHENTICATED: invalid token/,
    );
    runtime.closeServiceClient(client);
    await user.stop();
    await stub.stop();
  });

  test("the generated in-process stub validates requests by the contract's rules, as the real server does", async () => {
    const { startAuthServiceStub } = (await import(
      pathToFileURL(join(ws, 'services/user/src/gen/stubs/auth.v1.AuthService.ts')).href
    )) as {
      startAuthServiceStub: (handlers: object) => Promise<{
        client: AuthStubClient;
        calls: readonly unknown[];
        close(): Promise<void>;
      }>;
    };
    const stub = await startAuthServiceStub({ login: async () => ({ token: 'stubbed' }) });
    try {
      assert.equal((await stub.client.login({ username: 'ada', password: 'demo' })).token, 'stubbed');
      await assert.rejects(stub.client.login({ username: 'x', password: 'demo' }), (error: unknown) => {
        assert.ok(runtime.isRichClientError(error), String(error));
        assert.equal(error.code, runtime.Status.INVALID_ARGUMENT);
        assert.deepEqual(
          error.errorDetails.badRequest?.fieldViolations.map((violation) => violation.field),
          ['username'],
        );
        return true;
      });
      assert.equal(stub.calls.length, 1, 'a refused request never reaches the handlers');
    } finally {
      await stub.close();
    }
  });

  test('scenario errors are found at load, exit 2 naming the rule: RPC, regex (RE2 only), response bodies', async () => {
    const files: Record<string, string> = {
      'bad-scenario.yaml': 'methods:\n  Logout:\n    - respond: {}\n',
      'bad-regex.yaml': 'methods:\n  Login:\n    - match: { username: { regex: "(" } }\n      respond: {}\n',
      'lookahead.yaml': 'methods:\n  Login:\n    - match: { username: { regex: "^(?=ad)a" } }\n      respond: {}\n',
      'bad-body.yaml':
        'methods:\n  Login:\n    - respond: { token: t1 }\n    - sequence:\n        - respond: { token: t2 }\n        - respond: { tokn: t3 }\n',
      'bad-stream.yaml':
        'methods:\n  ListSessions:\n    - stream:\n        - session: { subject: ada }\n        - session: { subject: 42 }\n',
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(ws, name), text);
    // Concurrently: each run builds the contracts and loads the stub.
    const [rpc, regex, lookahead, body, stream] = await Promise.all(
      Object.keys(files).map((name) =>
        runCliAsync(['serve', 'auth.v1.AuthService', '--stub', '--scenario', name, '--port', '0'], ws),
      ),
    );
    for (const result of [rpc, regex, lookahead, body, stream]) assert.equal(result?.code, 2, result?.stderr);
    assert.match(
      rpc!.stderr,
      /bad-scenario\.yaml: scenario: auth\.v1\.AuthService has no RPC "Logout" \(known: Login, ValidateToken, ListSessions\)/,
    );
    assert.match(
      regex!.stderr,
      /bad-regex\.yaml: scenario: Login\[0\]\.match\.username\.regex: expected an RE2 regular expression \(linear time: no backreferences or lookaround\): error parsing regexp: missing closing \)/,
    );
    assert.match(
      lookahead!.stderr,
      /lookahead\.yaml: scenario: Login\[0\]\.match\.username\.regex: .*invalid or unsupported Perl syntax/,
    );
    assert.match(
      body!.stderr,
      /bad-body\.yaml: scenario: Login\[1\]\.sequence\[1\]\.respond: does not fit auth\.v1\.LoginResponse: key "tokn" is unknown$/m,
    );
    assert.match(
      stream!.stderr,
      /bad-stream\.yaml: scenario: ListSessions\[0\]\.stream\[1\]: does not fit auth\.v1\.ListSessionsResponse: /,
    );
  });

  test('a catastrophic-backtracking regex runs in linear time; the stub serves health and reflection and shows in status', async () => {
    await writeFile(
      join(ws, 'redos.yaml'),
      'methods:\n  Login:\n    - match: { username: { regex: "^(a+)+$" } }\n      respond: { token: all-a }\n    - respond: { token: other }\n',
    );
    const stub = await startServe(ws, 'auth.v1.AuthService', {}, ['--stub', '--scenario', 'redos.yaml']);
    const { definition } = (await import(pathToFileURL(join(ws, 'services/user/src/gen/stubs/auth.v1.AuthService.ts')).href)) as {
      definition: TsProtoServiceDefinition;
    };
    const client = runtime.createServiceClient(definition, { target: stub.address, retry: false }) as unknown as AuthStubClient;
    const started = Date.now();
    // 31 characters: a backtracking engine takes seconds here (and doubles with each further "a").
    assert.equal((await client.login({ username: `${'a'.repeat(30)}b`, password: 'x' })).token, 'other');
    // The longest username LoginRequest's rules allow (stubs validate requests too).
    assert.equal((await client.login({ username: 'a'.repeat(64), password: 'x' })).token, 'all-a');
    assert.ok(Date.now() - started < 1000, `two calls took ${Date.now() - started} ms`);
    runtime.closeServiceClient(client);

    const health = runCli(['call', stub.address, 'grpc.health.v1.Health/Check', '-d', '{"service":"auth.v1.AuthService"}'], ws);
    assert.equal(health.code, 0, health.stderr);
    assert.deepEqual(JSON.parse(health.stdout), { status: 'SERVING' });
    const login = runCli(['call', stub.address, 'auth.v1.AuthService/Login', '-d', '{"username":"ada","password":"x"}'], ws);
    assert.equal(login.code, 0, login.stderr);
    assert.doesNotMatch(login.stderr, /no reflection/, 'described by the stub itself');
    assert.deepEqual(JSON.parse(login.stdout), { token: 'other' });

    const status = runCli(['status', '--json'], ws);
    assert.equal(status.code, 0, status.stderr);
    const instances = (
      JSON.parse(status.stdout) as {
        instances: { service: string; address: string; pid: number; state: string; services: string[] }[];
      }
    ).instances;
    const row = instances.find((instance) => instance.address === stub.address);
    assert.ok(row, status.stdout);
    assert.equal(row.service, 'auth.v1.AuthService (stub)');
    assert.equal(row.pid, stub.pid);
    assert.deepEqual(row.services, ['auth.v1.AuthService']);
    assert.equal(await stub.stop(), 0);
    assert.match(stub.stderr(), /stub: 3 calls received/, 'health and reflection calls are not recorded');
    const stopped = JSON.parse(runCli(['status', '--all', '--json'], ws).stdout) as {
      instances: { address: string; state: string }[];
    };
    assert.equal(stopped.instances.find((instance) => instance.address === stub.address)?.state, 'stopped');
  });
});
