import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ClientError,
  Metadata,
  PermissionDeniedError,
  ServerError,
  Status,
  closeServiceClient,
  createHandlerContext,
  createServiceClient,
  defineService,
  fromEnv,
  fromEnvTemplate,
  isRichClientError,
  startServer,
  type CallRecord,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { resolveEnvValue } from '../../packages/runtime/src/client/env.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';

// The service context and the resolvePrincipal hook over a real server: what `grpcforge serve` builds from a
// service's src/context.ts and src/middleware/auth.ts.

interface Directory {
  readonly sessions: Map<string, { subject: string; roles: string[] }>;
  lookups: number;
}

interface EchoClient {
  echo(request: EchoMessage, options?: { metadata?: Metadata }): Promise<EchoMessage>;
}

describe('service context and resolvePrincipal', () => {
  const directory: Directory = { sessions: new Map([['s1', { subject: 'ada', roles: ['user'] }]]), lookups: 0 };
  const rows: CallRecord[] = [];
  let server: RunningServer;
  let client: EchoClient;

  before(async () => {
    server = await startServer<Directory>({
      host: '127.0.0.1',
      port: 0,
      services: [
        defineService<typeof EchoDefinition, Directory>(EchoDefinition, {
          // Typed: `serviceContext` is the Directory, `principal` what auth resolved.
          echo: async (request, { serviceContext, principal }) => ({
            text: `${request.text ?? ''} for ${principal?.id ?? 'anonymous'} (${serviceContext.lookups} lookups)`,
          }),
          repeat: async function* () {},
          collect: async () => ({}),
          chat: async function* () {},
        }),
      ],
      serviceContext: directory,
      auth: { policy: { default: 'authenticated', methods: {} } },
      authHooks: {
        resolvePrincipal: ({ metadata, serviceContext }) => {
          const token = metadata.get('x-session');
          if (token === 'broken') throw new ServerError(Status.UNAVAILABLE, 'session store down');
          if (token === 'bug') throw new TypeError('session.subject of undefined');
          if (token === 'locked') {
            const errorInfo = { reason: 'ACCOUNT_LOCKED', domain: 'auth.v1', metadata: { session: token } };
            throw new PermissionDeniedError('the account is locked', { details: { errorInfo } });
          }
          serviceContext.lookups++;
          const session = token ? serviceContext.sessions.get(token) : undefined;
          return session ? { id: session.subject, kind: 'custom', roles: session.roles } : undefined;
        },
        enrichPrincipal: (principal) => ({ ...principal, roles: [...principal.roles, 'enriched'] }),
      },
      recordCall: (call) => rows.push(call),
      health: false,
      reflection: false,
    });
    client = createServiceClient(EchoDefinition, { target: server.address, retry: false });
  });

  after(async () => {
    closeServiceClient(client);
    await server.shutdown(1000);
  });

  test('a credential of the service own becomes the caller, and handlers get the one service context', async () => {
    const response = await client.echo({ text: 'hi' }, { metadata: Metadata({ 'x-session': 's1' }) });
    assert.equal(response.text, 'hi for ada (1 lookups)');
    assert.equal(rows.at(-1)?.principal, 'custom:ada', 'the logger records the principal the hook resolved');
  });

  test('no caller on an authenticated method is UNAUTHENTICATED; a hook that throws keeps its status', async () => {
    await assert.rejects(client.echo({ text: 'hi' }, { metadata: Metadata({ 'x-session': 'unknown' }) }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(Status[error.code], 'UNAUTHENTICATED');
      return true;
    });
    await assert.rejects(client.echo({ text: 'hi' }, { metadata: Metadata({ 'x-session': 'broken' }) }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(Status[error.code], 'UNAVAILABLE');
      assert.equal(error.details, 'session store down');
      return true;
    });
    // Auth runs outside error mapping: the details of a hook's error still reach the client, and the row its reason.
    await assert.rejects(client.echo({ text: 'hi' }, { metadata: Metadata({ 'x-session': 'locked' }) }), (error: unknown) => {
      assert.ok(isRichClientError(error), String(error));
      assert.equal(Status[error.code], 'PERMISSION_DENIED');
      assert.deepEqual(error.errorDetails.errorInfo, {
        reason: 'ACCOUNT_LOCKED',
        domain: 'auth.v1',
        metadata: { session: 'locked' },
      });
      return true;
    });
    assert.equal(rows.at(-1)?.errorReason, 'ACCOUNT_LOCKED');
  });

  test('a bug in a hook is INTERNAL with the generic message; the real one goes to the log store only', async () => {
    await assert.rejects(client.echo({ text: 'hi' }, { metadata: Metadata({ 'x-session': 'bug' }) }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(Status[error.code], 'INTERNAL');
      assert.equal(error.details, 'internal server error');
      return true;
    });
    assert.equal(rows.at(-1)?.errorMessage, 'session.subject of undefined');
  });
});

describe('createHandlerContext', () => {
  test('a context a test can call a handler with, and read back what it sent', () => {
    const controller = new AbortController();
    const context = createHandlerContext({ serviceContext: { db: 'test' }, signal: controller.signal });
    assert.equal(context.principal, undefined);
    assert.equal(context.serviceContext.db, 'test');
    assert.equal(context.peer, 'test');
    context.header.set('x-served-by', 'user');
    assert.equal(context.sentHeader.sent, false);
    context.sendHeader();
    assert.equal(context.sentHeader.sent, true);
    assert.equal(context.header.get('x-served-by'), 'user');
    controller.abort();
    assert.ok(context.signal.aborted);
  });
});

describe('fromEnv', () => {
  test('reads the variable when the client is created, with its default when unset or empty', () => {
    assert.equal(resolveEnvValue(fromEnv('ADDR', 'dns:///a:1'), {}), 'dns:///a:1');
    assert.equal(resolveEnvValue(fromEnv('ADDR', 'dns:///a:1'), { ADDR: '' }), 'dns:///a:1');
    assert.equal(resolveEnvValue(fromEnv('ADDR', 'dns:///a:1'), { ADDR: 'b:2' }), 'b:2');
    assert.equal(resolveEnvValue(fromEnv('KEY'), {}), undefined);
    assert.equal(resolveEnvValue(fromEnvTemplate('${HOST}:${PORT:-50051}'), { HOST: 'h' }), 'h:50051');
    assert.equal(resolveEnvValue('literal ${NOT_EXPANDED}', {}), 'literal ${NOT_EXPANDED}');
  });

  test('a client whose target variable is unset and has no default is a clear error', () => {
    delete process.env.GRPCFORGE_TEST_UNSET_ADDR;
    assert.throws(() => createServiceClient(EchoDefinition, { target: fromEnv('GRPCFORGE_TEST_UNSET_ADDR') }), {
      message: 'client target $GRPCFORGE_TEST_UNSET_ADDR is not set and has no default',
    });
  });
});
