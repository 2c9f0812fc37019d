import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, test } from 'node:test';
import { ClientError, Metadata, Status, createChannel, createClient, type TsProtoServiceDefinition } from 'nice-grpc';
import {
  linkWorkspace,
  repoRoot,
  runCli,
  runNodeTests,
  runProgram,
  startServe,
  tempDir,
  tscPath,
  writeFiles,
} from '../helpers/workspace.ts';

/** Every ```ts file=PATH block of the README: the path in the example workspace and the code. */
async function readmeSnippets(): Promise<{ path: string; code: string }[]> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```ts file=(\S+)\n([\s\S]*?)^```$/gm)].map((match) => ({ path: match[1]!, code: match[2]! }));
}

const TYPES_REFUSED = `import type { AuthServiceStub } from '../src/gen/stubs/auth.v1.AuthService.js';
import type { UserServiceHandlers } from '../src/gen/server/user.v1.UserService.js';

export function refused(stub: AuthServiceStub): void {
  // @ts-expect-error a stub knows its service's method names
  stub.verify('validateTokn', 1);
  // @ts-expect-error and types the requests it recorded
  void stub.callsTo('validateToken')[0]?.requests[0]?.tokn;
}

// @ts-expect-error principal is typed: it has no 'name'
export const wrong: UserServiceHandlers['getUser'] = async (_request, context) => ({ requestedBy: context.principal?.name ?? '' });

// @ts-expect-error only auth's middleware adds a tenant: user's handlers have none
export const noTenant: UserServiceHandlers['getUser'] = async (_request, context) => ({ requestedBy: context.tenant });
`;

// The handler guide is tried as a user would: each snippet goes where its fence says, into a fresh example
// workspace, which must then type-check (the workspace's own strict tsconfig) and pass its own tests.
describe('README handler guide', () => {
  let ws: string;
  let snippets: { path: string; code: string }[];

  before(async () => {
    snippets = await readmeSnippets();
    ws = join(await tempDir(), 'platform');
    assert.equal(runCli(['init', ws], repoRoot).code, 0);
    await linkWorkspace(ws);
    const generated = runCli(['generate'], ws);
    assert.equal(generated.code, 0, generated.stderr);
    await writeFiles(ws, {
      ...Object.fromEntries(snippets.map((snippet) => [snippet.path, snippet.code])),
      // Not in the README: what the types refuse. Each @ts-expect-error fails the compile when its line compiles.
      'services/user/test/types-refused.ts': TYPES_REFUSED,
    });
  });

  test('has snippets for handlers of every RPC kind, the service context, the auth hook and a test', () => {
    const paths = snippets.map((snippet) => snippet.path);
    for (const expected of [
      'get-user.ts',
      'list-sessions.ts',
      'import-users.ts',
      'sync-users.ts',
      'src/context.ts',
      'middleware/auth.ts',
      'middleware/introspection.ts',
      'middleware/tenant.ts',
      'middleware/concurrency-limit.ts',
      'middleware/index.ts',
      'test/get-user.test.ts',
    ]) {
      assert.ok(
        paths.some((path) => path.endsWith(expected)),
        `no snippet for ${expected}`,
      );
    }
  });

  test('every snippet compiles in the example workspace', () => {
    const result = runProgram(tscPath, ['-p', 'tsconfig.json'], ws);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test('the test snippet passes against the generated stub', async () => {
    const result = await runNodeTests(['services/user/test/get-user.test.ts'], ws);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(result.counts, { passed: 2, failed: 0, skipped: 0, todo: 0 });
  });
  test('the introspection authenticator, the tenant and the concurrency limit run in the served auth service', async () => {
    // A tiny RFC 7662 endpoint: two active tokens, every other one inactive.
    const answers: Record<string, object> = {
      'admin-token': { active: true, sub: 'ada', scope: 'admin' },
      'reader-token': { active: true, sub: 'bob', scope: 'read' },
    };
    const endpoint = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const token = new URLSearchParams(body).get('token') ?? '';
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(answers[token] ?? { active: false }));
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    const introspectionUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/introspect`;
    const server = await startServe(ws, 'auth', { INTROSPECTION_URL: introspectionUrl }, ['--no-log-store']);
    const pb = (await import(pathToFileURL(join(ws, 'services/auth/src/gen/pb/auth/v1/auth.ts')).href)) as {
      AuthServiceDefinition: TsProtoServiceDefinition;
    };
    const channel = createChannel(server.address);
    const client = createClient(pb.AuthServiceDefinition, channel) as unknown as {
      login(request: object, options?: object): Promise<object>;
      listSessions(request: object, options?: object): AsyncIterable<{ session?: { subject: string } }>;
    };
    const bearer = (token: string) => Metadata({ authorization: `Bearer ${token}` });
    const first = async <T>(stream: AsyncIterable<T>): Promise<T | undefined> => {
      for await (const message of stream) return message;
      return undefined;
    };
    const status = (code: Status, details: string) => (error: unknown) =>
      error instanceof ClientError && error.code === code && error.details === details;
    try {
      // The tenant middleware's context reaches the handler (login is public).
      let tenant: string | undefined;
      await client.login(
        { username: 'ada', password: 'demo' },
        { metadata: Metadata({ 'x-tenant-id': 'acme' }), onHeader: (header: Metadata) => (tenant = header.get('x-tenant')) },
      );
      assert.equal(tenant, 'acme');
      await assert.rejects(
        client.login({ username: 'ada', password: 'demo' }, { metadata: Metadata({ 'x-tenant-id': 'Not A Tenant' }) }),
        status(Status.INVALID_ARGUMENT, 'x-tenant-id is not a tenant id'),
      );
      // The introspection authenticator: an inactive token, a token without the role, one with it.
      await assert.rejects(
        first(client.listSessions({}, { metadata: bearer('nobody') })),
        status(Status.UNAUTHENTICATED, 'invalid token'),
      );
      await assert.rejects(
        first(client.listSessions({}, { metadata: bearer('reader-token') })),
        status(Status.PERMISSION_DENIED, 'permission denied: requires role admin'),
      );
      // Two streams of ada in flight (each has sent the session login made), a third is over the limit.
      const held = [new AbortController(), new AbortController()].map((controller) => ({
        controller,
        stream: client.listSessions({}, { metadata: bearer('admin-token'), signal: controller.signal })[Symbol.asyncIterator](),
      }));
      for (const { stream } of held) {
        const next = await stream.next();
        assert.equal(next.done ? undefined : next.value.session?.subject, 'ada');
      }
      await assert.rejects(
        first(client.listSessions({}, { metadata: bearer('admin-token') })),
        status(Status.RESOURCE_EXHAUSTED, 'more than 2 calls in flight'),
      );
      for (const { controller, stream } of held) {
        controller.abort();
        await stream.next().catch(() => undefined);
      }
    } finally {
      channel.close();
      await server.stop();
      endpoint.close();
    }
  });
});
