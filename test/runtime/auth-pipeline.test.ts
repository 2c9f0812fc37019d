import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import {
  ClientError,
  Metadata,
  Status,
  closeServiceClient,
  createLogStore,
  createServiceClient,
  defineService,
  requireRole,
  startServer,
  type CallContext,
  type HandlerContextExtension,
  type LogStore,
  type RunningServer,
} from '../../src/runtime/index.ts';
import { createJwtVerifier } from '../../src/runtime/auth/jwt.ts';
import { certificateIdentity } from '../../src/runtime/auth/mtls.ts';
import { AMBIGUOUS_CREDENTIALS_MESSAGE } from '../../src/runtime/auth/principal.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';
import { tempDir } from '../helpers/workspace.ts';

// The pipeline (request logger -> auth -> error mapping -> handler) over real sockets and a real SQLite file.

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const textEncoder = new TextEncoder();

interface EchoClient {
  echo(request: EchoMessage, options?: { metadata?: Metadata }): Promise<EchoMessage>;
}

let store: LogStore;
let server: RunningServer;
let dbPath: string;
let adminKey: string;
let readerKey: string;
let revokedKey: string;
let expiredKey: string;

async function jwt(claims: Record<string, unknown>, options: { expiresIn?: string; audience?: string; secret?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('ada')
    .setIssuer('https://issuer.test')
    .setAudience(options.audience ?? 'grpcforge-test')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(textEncoder.encode(options.secret ?? SECRET));
}

function client(): EchoClient {
  return createServiceClient(EchoDefinition, { target: server.address });
}

async function expectCode(promise: Promise<unknown>, code: Status): Promise<ClientError> {
  let caught: ClientError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ClientError);
    assert.equal(Status[error.code], Status[code]);
    caught = error;
    return true;
  });
  return caught!;
}

describe('pipeline: auth and request logging', () => {
  before(async () => {
    dbPath = join(await tempDir(), 'logs.db');
    store = await createLogStore({ url: `sqlite:${dbPath}`, flushIntervalMs: 10 });
    adminKey = (await store.apiKeys.create({ name: 'ops', roles: ['admin'] })).key;
    readerKey = (await store.apiKeys.create({ name: 'reader' })).key;
    revokedKey = (await store.apiKeys.create({ name: 'gone' })).key;
    await store.apiKeys.revoke('gone');
    expiredKey = (await store.apiKeys.create({ name: 'old', expiresAt: Date.now() - 1000 })).key;
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [
        defineService(
          EchoDefinition as never,
          {
            echo: async (request: EchoMessage, context: CallContext & HandlerContextExtension) => {
              if (request.text === 'admin-only') requireRole(context, 'admin');
              return { text: `${request.text ?? ''} from ${context.principal?.id ?? 'anonymous'}` };
            },
            repeat: async function* () {},
            collect: async () => ({}),
            chat: async function* () {},
          } as never,
        ),
      ],
      recordCall: store.logs.record,
      auth: {
        policy: {
          default: 'authenticated',
          methods: { 'test.v1.EchoService/Collect': 'public', 'test.v1.EchoService/Chat': { roles: ['admin'] } },
        },
        apiKeys: { verify: (key) => store.apiKeys.verify(key), countUse: (id, at) => store.apiKeys.countUse(id, at) },
        jwt: await createJwtVerifier({ secret: SECRET, issuer: 'https://issuer.test', audience: 'grpcforge-test' }),
        apiKeyCacheMs: 0,
      },
      onUnexpectedError: () => {},
    });
  });

  test('API key failure modes are UNAUTHENTICATED with one generic message, and each call is logged', async () => {
    const c = client();
    const key = (value: string) => ({ metadata: Metadata({ 'x-api-key': value }) });
    const messages = new Set<string>();
    for (const options of [
      {},
      key('gfk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
      key(revokedKey),
      key(expiredKey),
      key('nonsense'),
    ]) {
      messages.add((await expectCode(c.echo({ text: 'x' }, options), Status.UNAUTHENTICATED)).details);
    }
    assert.deepEqual([...messages], ['authentication required']);
    assert.deepEqual(await c.echo({ text: 'hi' }, key(readerKey)), { text: 'hi from reader' });
    closeServiceClient(c);
    await store.flush();
    const logs = await store.logs.list({ limit: 6 });
    assert.deepEqual(
      logs.reverse().map((log) => [log.statusCode, log.principal]),
      [
        [16, null],
        [16, null],
        [16, null],
        [16, null],
        [16, null],
        [0, 'apiKey:reader'],
      ],
    );
  });

  test('JWT: a good token passes; bad signature, alg none, expired and wrong audience are UNAUTHENTICATED', async () => {
    const c = client();
    const bearer = (token: string) => ({ metadata: Metadata({ authorization: `Bearer ${token}` }) });
    assert.deepEqual(await c.echo({ text: 'hi' }, bearer(await jwt({ roles: ['reader'] }))), { text: 'hi from ada' });
    const none = new UnsecuredJWT({ sub: 'ada' })
      .setIssuer('https://issuer.test')
      .setAudience('grpcforge-test')
      .setExpirationTime('5m')
      .encode();
    for (const token of [
      await jwt({}, { secret: 'another-secret-another-secret-another-secret' }),
      none,
      await jwt({}, { expiresIn: '-10m' }),
      await jwt({}, { audience: 'someone-else' }),
    ]) {
      const error = await expectCode(c.echo({ text: 'x' }, bearer(token)), Status.UNAUTHENTICATED);
      assert.equal(error.details, 'authentication required');
    }
    closeServiceClient(c);
  });

  test('JWT: a sub or role with CR, LF, an ANSI escape or a bidi override is UNAUTHENTICATED and logs no principal', async () => {
    const c = client();
    const bearer = (token: string) => ({ metadata: Metadata({ authorization: `Bearer ${token}` }) });
    const signed = (sub: string, roles: string[] = []) =>
      new SignJWT({ roles })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuer('https://issuer.test')
        .setAudience('grpcforge-test')
        .setExpirationTime('5m')
        .sign(textEncoder.encode(SECRET));
    const hostile = [
      await signed('ada\r\n2026-01-01 INFO login ok principal=admin'),
      await signed('ada\u001b[2K\u001b[1Gadmin'),
      await signed('ada\u202egnp.exe'),
      await signed('ada', ['reader', 'admin\nforged']),
    ];
    for (const token of hostile) {
      const error = await expectCode(c.echo({ text: 'hostile' }, bearer(token)), Status.UNAUTHENTICATED);
      assert.equal(error.details, 'authentication required');
    }
    assert.deepEqual(await c.echo({ text: 'hi' }, bearer(await signed('ada-lovelace'))), { text: 'hi from ada-lovelace' });
    closeServiceClient(c);
    await store.flush();
    const logs = (await store.logs.list({ limit: 5 })).reverse();
    assert.deepEqual(
      logs.map((log) => [log.statusCode, log.principal]),
      [...hostile.map(() => [16, null]), [0, 'jwt:ada-lovelace']],
    );
    const verify = await createJwtVerifier({ secret: SECRET });
    assert.deepEqual(await verify(await signed('ada\u0007')), {
      ok: false,
      reason: 'invalid',
      detail: 'sub or roles holds the control character U+0007',
    });
  });

  test('a certificate CN with a control character identifies nobody (CN identities or not)', () => {
    const of = (CN: string) => certificateIdentity({ subjectaltname: 'DNS:a', subject: { CN }, ca: false });
    assert.deepEqual(of('billing'), { kind: 'commonName', id: 'billing' });
    assert.deepEqual(of('billing\r\nadmin'), { kind: 'none', reason: 'a CN with the control character U+000D' });
    assert.deepEqual(of('billing\u001b[31m'), { kind: 'none', reason: 'a CN with the control character U+001B' });
  });

  test('ambiguous credentials: a key with a bearer token, or a key sent twice, is UNAUTHENTICATED before either is checked', async () => {
    const c = client();
    const good = await jwt({ roles: ['admin'] });
    const forged = await jwt({ roles: ['admin'] }, { secret: 'another-secret-another-secret-another-secret' });
    await store.flush();
    const since = Date.now();
    const cases: Record<string, string | string[]>[] = [
      { 'x-api-key': readerKey, authorization: `Bearer ${forged}` }, // a valid key does not carry a forged token
      { 'x-api-key': 'gfk_000000000000_forged', authorization: `Bearer ${good}` }, // nor a valid token a forged key
      { 'x-api-key': readerKey, authorization: `bearer ${good}` }, // both valid, two callers: the scheme is case-insensitive
      { 'x-api-key': [readerKey, readerKey] }, // the same header twice (Node folds it to "k, k" on the wire)
      { 'x-api-key': [readerKey, adminKey] },
    ];
    for (const metadata of cases) {
      const error = await expectCode(c.echo({ text: 'x' }, { metadata: Metadata(metadata) }), Status.UNAUTHENTICATED);
      assert.equal(error.details, AMBIGUOUS_CREDENTIALS_MESSAGE);
      for (const secret of [readerKey, adminKey, good, forged]) assert.ok(!error.details.includes(secret));
    }
    // On a public method too: the client is misconfigured, and an anonymous pass would hide it.
    const publicClient = createServiceClient(EchoDefinition, { target: server.address }) as unknown as {
      collect(r: AsyncIterable<EchoMessage>, o?: object): Promise<EchoMessage>;
    };
    const both = Metadata({ 'x-api-key': readerKey, authorization: `Bearer ${good}` });
    await expectCode(publicClient.collect((async function* () {})(), { metadata: both }), Status.UNAUTHENTICATED);
    // Each one alone still passes; a non-Bearer authorization is not a grpcforge credential, so not ambiguous.
    assert.deepEqual(await c.echo({ text: 'hi' }, { metadata: Metadata({ 'x-api-key': readerKey }) }), {
      text: 'hi from reader',
    });
    assert.deepEqual(await c.echo({ text: 'hi' }, { metadata: Metadata({ authorization: `Bearer ${good}` }) }), {
      text: 'hi from ada',
    });
    const basic = Metadata({ 'x-api-key': readerKey, authorization: 'Basic dXNlcjpwYXNz' });
    assert.deepEqual(await c.echo({ text: 'hi' }, { metadata: basic }), { text: 'hi from reader' });
    // An empty bearer token is a presented (bad) credential, not an absent one.
    await expectCode(c.echo({ text: 'x' }, { metadata: Metadata({ authorization: 'Bearer ' }) }), Status.UNAUTHENTICATED);
    closeServiceClient(publicClient);
    closeServiceClient(c);
    await store.flush();
    const refused = (await store.logs.list({ limit: 50 })).filter(
      (log) => log.startedAt >= since && log.errorMessage === AMBIGUOUS_CREDENTIALS_MESSAGE,
    );
    assert.equal(refused.length, cases.length + 1, 'every refusal is logged');
    for (const log of refused) {
      assert.equal(log.statusCode, Status.UNAUTHENTICATED);
      assert.equal(log.principal, null, 'no principal is resolved from ambiguous credentials');
      assert.equal(log.apiKeyId, null);
    }
  });

  test('roles: PERMISSION_DENIED for a known caller without the role, from the policy and from requireRole', async () => {
    const c = createServiceClient(EchoDefinition, { target: server.address }) as unknown as {
      echo(r: EchoMessage, o?: object): Promise<EchoMessage>;
      chat(r: AsyncIterable<EchoMessage>, o?: object): AsyncIterable<EchoMessage>;
    };
    const as = (key: string) => ({ metadata: Metadata({ 'x-api-key': key }) });
    await expectCode(c.echo({ text: 'admin-only' }, as(readerKey)), Status.PERMISSION_DENIED);
    assert.deepEqual(await c.echo({ text: 'admin-only' }, as(adminKey)), { text: 'admin-only from ops' });
    const drain = async (stream: AsyncIterable<unknown>) => {
      const iterator = stream[Symbol.asyncIterator]();
      while (!(await iterator.next()).done) {
        // discard the message
      }
    };
    await expectCode(drain(c.chat((async function* () {})(), as(readerKey))), Status.PERMISSION_DENIED);
    await drain(c.chat((async function* () {})(), as(adminKey)));
    await store.flush();
    const [denied] = await store.logs.list({ statusCode: Status.PERMISSION_DENIED, method: 'Chat' });
    assert.equal(denied?.principal, 'apiKey:reader', 'the logger records the principal auth resolved, even when refused');
    closeServiceClient(c);
  });

  test('public methods need no credentials; health is always public', async () => {
    const c = createServiceClient(EchoDefinition, { target: server.address }) as unknown as {
      collect(r: AsyncIterable<EchoMessage>): Promise<EchoMessage>;
    };
    assert.deepEqual(await c.collect((async function* () {})()), {});
    const { HealthDefinition } = await import('nice-grpc-server-health');
    const health = createServiceClient(HealthDefinition, { target: server.address });
    assert.equal((await health.check({ service: 'test.v1.EchoService' })).status, 1);
    closeServiceClient(health);
    closeServiceClient(c);
  });

  test('a JWKS endpoint that is down gives UNAVAILABLE, not UNAUTHENTICATED', async () => {
    const http = createHttpServer((_request, response) => {
      response.statusCode = 503;
      response.end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as { port: number };
    const jwksServer = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [
        defineService(
          EchoDefinition as never,
          {
            echo: async () => ({}),
            repeat: async function* () {},
            collect: async () => ({}),
            chat: async function* () {},
          } as never,
        ),
      ],
      auth: { policy: {}, jwt: await createJwtVerifier({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` }) },
    });
    const c = createServiceClient(EchoDefinition, { target: jwksServer.address }) as unknown as EchoClient;
    try {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('x')
        .setExpirationTime('5m')
        .sign((await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
      await expectCode(c.echo({}, { metadata: Metadata({ authorization: `Bearer ${token}` }) }), Status.UNAVAILABLE);
    } finally {
      closeServiceClient(c);
      await jwksServer.shutdown(1000);
      http.close();
    }
  });

  test('a concurrent load leaves exactly one row per call; no key or token reaches the database file', async () => {
    await store.flush();
    const before = (await store.statistics.summary({ since: 0 })).calls;
    const c = client();
    const token = await jwt({});
    const calls = 3000;
    const results = await Promise.allSettled(
      Array.from({ length: calls }, (_, index) =>
        c.echo(
          { text: `n${index}` },
          { metadata: Metadata(index % 2 ? { 'x-api-key': readerKey } : { authorization: `Bearer ${token}` }) },
        ),
      ),
    );
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, calls);
    await store.flush();
    assert.equal((await store.statistics.summary({ since: 0 })).calls - before, calls);
    const counters = store.counters();
    assert.equal(counters.written + counters.dropped + counters.queued, counters.recorded);
    assert.equal(counters.dropped, 0);
    const [reader] = (await store.apiKeys.list()).filter((key) => key.name === 'reader');
    assert.ok((reader?.requestCount ?? 0) >= calls / 2, 'usage is counted (in batches)');
    closeServiceClient(c);
    await server.shutdown(1000);
    await store.close();
    const bytes =
      (await readFile(dbPath)).toString('latin1') +
      (await readFile(`${dbPath}-wal`).catch(() => Buffer.alloc(0))).toString('latin1');
    for (const secret of [adminKey, readerKey, revokedKey, token, SECRET]) {
      assert.ok(!bytes.includes(secret), 'a credential reached the database file');
    }
  });
});
