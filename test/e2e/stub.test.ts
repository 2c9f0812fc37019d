import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { TsProtoServiceDefinition } from 'nice-grpc';
import type * as RuntimeModule from '../../src/runtime/index.ts';
import { linkWorkspace, runCli, startServe, tempDir } from '../helpers/workspace.ts';
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
    runtime = (await import(pathToFileURL(join(ws, 'node_modules/grpcforge/dist/runtime/index.js')).href)) as Runtime;
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
      /UNAUTHENTICATED: authentication required/,
    );
    runtime.closeServiceClient(client);
    await user.stop();
    await stub.stop();
  });

  test('a scenario naming an RPC the contract lacks is a clear error, exit 2', async () => {
    await writeFile(join(ws, 'bad-scenario.yaml'), 'methods:\n  Logout:\n    - respond: {}\n');
    const result = runCli(['serve', 'auth.v1.AuthService', '--stub', '--scenario', 'bad-scenario.yaml', '--port', '0'], ws);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /bad-scenario\.yaml: scenario: auth\.v1\.AuthService has no RPC "Logout" \(known: Login, ValidateToken, ListSessions\)/,
    );
    await writeFile(
      join(ws, 'bad-regex.yaml'),
      'methods:\n  Login:\n    - match: { username: { regex: "(" } }\n      respond: {}\n',
    );
    const regex = runCli(['serve', 'auth.v1.AuthService', '--stub', '--scenario', 'bad-regex.yaml', '--port', '0'], ws);
    assert.equal(regex.code, 2, 'an invalid regex is found when the stub starts, not on the first call');
    assert.match(regex.stderr, /bad-regex\.yaml: scenario: Login\[0\]\.match\.username\.regex: Invalid regular expression/);
  });
});
