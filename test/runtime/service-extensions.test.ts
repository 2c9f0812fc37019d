import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ClientError,
  Metadata,
  PRINCIPAL_KINDS,
  ResourceExhaustedError,
  Status,
  authFailure,
  closeServiceClient,
  createServiceClient,
  defineAuthenticator,
  defineMiddleware,
  defineService,
  readServerModule,
  ServiceHostError,
  startServer,
  type AuthRefusal,
  type Principal,
  type RunningServer,
  type ServerMiddleware,
} from '../../packages/runtime/src/index.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';

// A service's own authenticator and middleware over a real server: where they run in the pipeline, what the
// ambiguity rule makes of a credential of its own, and what reaches the handler.

interface EchoClient {
  echo(request: EchoMessage, options?: { metadata?: Metadata }): Promise<EchoMessage>;
}

/** `x-session: <id>`: a session credential of the service's own; `s-ada` is ada's. */
const sessions = defineAuthenticator({
  name: 'session',
  credential: { kind: 'metadata', header: 'x-session' },
  authenticate: (session) =>
    session === 's-ada'
      ? { principal: { id: 'ada', kind: 'session', roles: ['user'] } }
      : { failure: authFailure('invalid-token', `unknown session ${JSON.stringify(session)}`) },
});

/** Every stage the call went through, in order, with what it saw. */
const actions: string[] = [];
const tenant: ServerMiddleware<{ readonly tenant: string }, { readonly principal: Principal | undefined }> = async function* (
  call,
  context,
) {
  actions.push(`tenant sees ${context.principal ? `${context.principal.kind}:${context.principal.id}` : 'nobody'}`);
  return yield* call.next(call.request, { ...context, tenant: context.metadata.get('x-tenant-id') ?? 'default' });
};
const refuser: ServerMiddleware<object, { readonly tenant: string }> = async function* (call, context) {
  if (context.tenant === 'full') throw new ResourceExhaustedError('tenant full is over its quota');
  if (context.tenant === 'buggy') throw new Error('a bug in the team middleware');
  return yield* call.next(call.request, context);
};
const middleware = defineMiddleware<{ readonly region: string }>().use(tenant).use(refuser);

let server: RunningServer;
let client: EchoClient;
const refusals: AuthRefusal[] = [];
const unexpected: string[] = [];

before(async () => {
  server = await startServer({
    services: [
      defineService<typeof EchoDefinition, { readonly region: string }, typeof middleware>(EchoDefinition, {
        echo: async (request, context) => {
          if (request.text === 'fail') throw new Error('a handler bug');
          return {
            text: `${request.text ?? ''} for ${context.principal?.id ?? 'anonymous'} of ${context.tenant} in ${context.serviceContext.region}`,
          };
        },
        repeat: async function* () {},
        collect: async () => ({}),
        chat: async function* () {},
      }),
    ],
    host: '127.0.0.1',
    port: 0,
    serviceContext: { region: 'eu' },
    auth: { policy: { default: 'authenticated' }, onRefused: (refusal) => refusals.push(refusal) },
    authHooks: { authenticators: [sessions] },
    middleware,
    onUnexpectedError: (error) => unexpected.push(error instanceof Error ? error.message : String(error)),
  });
  client = createServiceClient(EchoDefinition, { target: server.address });
});

after(async () => {
  closeServiceClient(client);
  await server.shutdown(1000);
});

async function outcome(metadata: Record<string, string>, text = 'hi'): Promise<string> {
  try {
    return (await client.echo({ text }, { metadata: Metadata(metadata) })).text ?? '';
  } catch (error) {
    if (error instanceof ClientError) return `${Status[error.code]}: ${error.details}`;
    throw error;
  }
}

describe("a service's own authenticator and middleware", () => {
  test('the authenticator resolves the caller; the middleware run after auth and their context reaches the handler', async () => {
    actions.length = 0;
    assert.equal(await outcome({ 'x-session': 's-ada', 'x-tenant-id': 'acme' }), 'hi for ada of acme in eu');
    assert.deepEqual(actions, ['tenant sees session:ada']);
  });

  test("its credential's failure is the built-in message, and a refused call never reaches the middleware", async () => {
    actions.length = 0;
    assert.equal(await outcome({ 'x-session': 's-bob' }), 'UNAUTHENTICATED: invalid token');
    assert.equal(refusals.at(-1)?.detail, 'invalid token (unknown session "s-bob")');
    assert.deepEqual(actions, []);
  });

  test('the ambiguity rule covers it: with an API key, or sent twice', async () => {
    assert.equal(
      await outcome({ 'x-session': 's-ada', 'x-api-key': 'gfk_0123456789ab_x' }),
      'UNAUTHENTICATED: ambiguous credentials: send one x-api-key or one authorization: Bearer, not both and not twice',
    );
    assert.equal(refusals.at(-1)?.detail.endsWith('(both x-api-key and x-session)'), true);
    assert.equal(
      await outcome({ 'x-session': 's-ada, s-ada' }),
      'UNAUTHENTICATED: ambiguous credentials: send one x-api-key or one authorization: Bearer, not both and not twice',
    );
    assert.equal(refusals.at(-1)?.detail.endsWith('(x-session sent more than once)'), true);
  });

  test("a middleware's ServerError reaches the client; its bug and a handler's are INTERNAL", async () => {
    assert.equal(
      await outcome({ 'x-session': 's-ada', 'x-tenant-id': 'full' }),
      'RESOURCE_EXHAUSTED: tenant full is over its quota',
    );
    assert.equal(await outcome({ 'x-session': 's-ada', 'x-tenant-id': 'buggy' }), 'INTERNAL: internal server error');
    assert.equal(await outcome({ 'x-session': 's-ada' }, 'fail'), 'INTERNAL: internal server error');
    assert.deepEqual(unexpected, ['a bug in the team middleware', 'a handler bug']);
  });

  test('an authenticator that claims the credential of a configured built-in one is refused at start', async () => {
    const bearer = defineAuthenticator({
      name: 'introspection',
      credential: { kind: 'metadata', header: 'authorization', scheme: 'bearer' },
      authenticate: () => undefined,
    });
    await assert.rejects(
      startServer({
        services: [],
        host: '127.0.0.1',
        port: 0,
        auth: { policy: {}, jwt: async () => ({ ok: false, reason: 'invalid', detail: 'never' }), authenticators: [bearer] },
      }),
      /authenticator "introspection" claims authorization: bearer, which auth\.jwt verifies already/,
    );
    assert.equal(PRINCIPAL_KINDS.apiKey, 'apiKey');
  });
});

describe('readServerModule: the generated-module contract, read once', () => {
  const generatedBefore = { services: [], descriptorSet: new Uint8Array(), createServiceContext: () => ({}) };

  test('a module generated before src/middleware/index.ts existed runs with no middleware', () => {
    assert.deepEqual(readServerModule(generatedBefore, 'auth').middleware.stages, []);
    assert.equal(readServerModule({ ...generatedBefore, middleware }, 'auth').middleware, middleware);
  });

  test('a module without a required export, or with one of the wrong kind, is not-generated naming it', () => {
    const older = { services: [], descriptorSet: new Uint8Array() };
    assert.throws(
      () => readServerModule(older, 'auth'),
      (error: unknown) =>
        error instanceof ServiceHostError &&
        error.code === 'not-generated' &&
        error.message === 'the generated server code of "auth" has no createServiceContext',
    );
    assert.throws(() => readServerModule({ ...generatedBefore, middleware: [] }, 'auth'), /has no middleware/);
  });
});
