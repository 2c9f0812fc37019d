import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import {
  AUTH_MESSAGES,
  ClientError,
  Metadata,
  ServerError,
  Status,
  closeServiceClient,
  createAuthRefusalLog,
  createLogStore,
  createServiceClient,
  defineService,
  requirePrincipal,
  requireRole,
  startServer,
  type AuthRefusal,
  type CallContext,
  type HandlerContextExtension,
  type LogStore,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { createJwtVerifier } from '../../packages/runtime/src/auth/jwt.ts';
import { certificateIdentity } from '../../packages/runtime/src/auth/mtls.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
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
// The operator's lines: each test that reads them swaps in a fresh log (the rate limit's windows outlive a test).
let refusalLines: string[] = [];
let onRefused: (refusal: AuthRefusal) => void = () => {};
function freshRefusalLog(intervalMs = 60_000): string[] {
  refusalLines = [];
  const lines = refusalLines;
  onRefused = createAuthRefusalLog({ write: (line) => lines.push(line), intervalMs });
  return lines;
}

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

/** The echo service answering empty messages, for tests that need a server behind auth and nothing from it. */
function silentEchoService() {
  return defineService(
    EchoDefinition as never,
    { echo: async () => ({}), repeat: async function* () {}, collect: async () => ({}), chat: async function* () {} } as never,
  );
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
    adminKey = (await createTestApiKey(store, { name: 'ops', roles: ['admin'] })).key;
    readerKey = (await createTestApiKey(store, { name: 'reader' })).key;
    revokedKey = (await createTestApiKey(store, { name: 'gone' })).key;
    await store.apiKeys.revoke('gone');
    expiredKey = (await createTestApiKey(store, { name: 'old', expiresAt: Date.now() - 1000 })).key;
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
            // Public and server-streaming (its context's signal is the terminator's, not the logger's): anonymous
            // callers are welcome, unless they ask who they are; `hide` turns a missing role into NOT_FOUND.
            repeat: async function* (request: EchoMessage, context: CallContext & HandlerContextExtension) {
              if (request.text === 'who-am-i') yield { text: requirePrincipal(context).id };
              if (request.text === 'hide') {
                try {
                  requireRole(context, 'admin');
                } catch {
                  throw new ServerError(Status.NOT_FOUND, 'no such report');
                }
              }
            },
            // Public: anonymous callers are welcome, unless they ask who they are.
            collect: async (requests: AsyncIterable<EchoMessage>, context: CallContext & HandlerContextExtension) => {
              for await (const request of requests)
                if (request.text === 'who-am-i') return { text: requirePrincipal(context).id };
              return {};
            },
            chat: async function* () {},
          } as never,
        ),
      ],
      recordCall: store.logs.record,
      auth: {
        policy: {
          default: 'authenticated',
          methods: {
            'test.v1.EchoService/Collect': 'public',
            'test.v1.EchoService/Repeat': 'public',
            'test.v1.EchoService/Chat': { roles: ['admin'] },
          },
        },
        apiKeys: { verify: (key) => store.apiKeys.verify(key), countUse: (id, at) => store.apiKeys.countUse(id, at) },
        jwt: await createJwtVerifier({ secret: SECRET, issuer: 'https://issuer.test', audience: 'grpcforge-test' }),
        apiKeyCacheMs: 0,
        // This suite refuses dozens of credentials from one address; the throttle has its own (auth-throttle.test.ts).
        throttle: false,
        onRefused: (refusal) => onRefused(refusal),
      },
      onUnexpectedError: () => {},
    });
  });

  test('each refusal has its own message, its reason and key prefix in the row and a line for the operator', async () => {
    const lines = freshRefusalLog();
    const c = createServiceClient(EchoDefinition, { target: server.address }) as unknown as EchoClient & {
      chat(r: AsyncIterable<EchoMessage>, o?: object): AsyncIterable<EchoMessage>;
    };
    const key = (value: string) => ({ metadata: Metadata({ 'x-api-key': value }) });
    const bearer = (token: string) => ({ metadata: Metadata({ authorization: `Bearer ${token}` }) });
    const idOf = (value: string) => value.slice(4, 16);
    const readerId = idOf(readerKey);
    // The reader's id with another secret: the prefix exists, the key does not.
    const wrongSecret = `gfk_${readerId}_${'B'.repeat(43)}`;
    const drain = async (stream: AsyncIterable<unknown>) => {
      for await (const _ of stream); // eslint-disable-line @typescript-eslint/no-unused-vars
    };
    const cases: {
      name: string;
      call: () => Promise<unknown>;
      code: Status;
      message: string;
      row: string;
      apiKeyId: string | null;
      principal?: string;
    }[] = [
      {
        name: 'no key',
        call: () => c.echo({ text: 'x' }),
        code: Status.UNAUTHENTICATED,
        message: 'no credentials',
        row: 'no credentials',
        apiKeyId: null,
      },
      {
        name: 'unknown key',
        call: () => c.echo({ text: 'x' }, key(`gfk_000000000000_${'A'.repeat(43)}`)),
        code: Status.UNAUTHENTICATED,
        message: 'invalid API key',
        row: 'invalid API key (gfk_000000000000: no key has this id and secret)',
        apiKeyId: '000000000000',
      },
      {
        name: 'known prefix, wrong secret',
        call: () => c.echo({ text: 'x' }, key(wrongSecret)),
        code: Status.UNAUTHENTICATED,
        message: 'invalid API key',
        row: `invalid API key (gfk_${readerId}: no key has this id and secret)`,
        apiKeyId: readerId,
      },
      {
        name: 'malformed key',
        call: () => c.echo({ text: 'x' }, key('nonsense')),
        code: Status.UNAUTHENTICATED,
        message: 'invalid API key',
        row: 'invalid API key (malformed: 8 characters, expected gfk_<12 hex digits>_<secret>)',
        apiKeyId: null,
      },
      {
        name: 'revoked key',
        call: () => c.echo({ text: 'x' }, key(revokedKey)),
        code: Status.UNAUTHENTICATED,
        message: 'API key revoked',
        row: `API key revoked (gfk_${idOf(revokedKey)})`,
        apiKeyId: idOf(revokedKey),
      },
      {
        name: 'expired key',
        call: () => c.echo({ text: 'x' }, key(expiredKey)),
        code: Status.UNAUTHENTICATED,
        message: 'API key expired',
        row: `API key expired (gfk_${idOf(expiredKey)})`,
        apiKeyId: idOf(expiredKey),
      },
      {
        name: 'token signed with another secret',
        call: async () =>
          c.echo({ text: 'x' }, bearer(await jwt({}, { secret: 'another-secret-another-secret-another-secret' }))),
        code: Status.UNAUTHENTICATED,
        message: 'invalid token',
        row: 'invalid token (signature verification failed)',
        apiKeyId: null,
      },
      {
        name: 'expired token',
        call: async () => c.echo({ text: 'x' }, bearer(await jwt({}, { expiresIn: '-10m' }))),
        code: Status.UNAUTHENTICATED,
        message: 'token expired',
        row: 'token expired ("exp" claim timestamp check failed)',
        apiKeyId: null,
      },
      {
        name: 'valid key without the role of the policy',
        call: () => drain(c.chat((async function* () {})(), key(readerKey))),
        code: Status.PERMISSION_DENIED,
        message: 'permission denied: requires role admin',
        row: 'permission denied: requires role admin (apiKey:reader has no roles)',
        apiKeyId: readerId,
        principal: 'apiKey:reader',
      },
      {
        name: 'valid key without the role requireRole asks',
        call: () => c.echo({ text: 'admin-only' }, key(readerKey)),
        code: Status.PERMISSION_DENIED,
        message: 'permission denied: requires role admin',
        row: 'permission denied: requires role admin (apiKey:reader has no roles)',
        apiKeyId: readerId,
        principal: 'apiKey:reader',
      },
    ];
    await store.flush();
    const since = (await store.logs.list({ limit: 1 }))[0]?.id ?? 0;
    for (const { name, call, code, message } of cases) {
      const error = await expectCode(call(), code);
      assert.equal(error.details, message, name);
    }
    assert.deepEqual(await c.echo({ text: 'hi' }, key(readerKey)), { text: 'hi from reader' });
    closeServiceClient(c);
    await store.flush();
    const logs = (await store.logs.list({ limit: 50 })).filter((log) => log.id > since).reverse();
    assert.deepEqual(
      logs.map((log) => [log.method, log.statusCode, log.errorMessage, log.apiKeyId, log.principal]),
      [
        ...cases.map((one) => [
          one.name.includes('policy') ? 'Chat' : 'Echo',
          one.code,
          one.row,
          one.apiKeyId,
          one.principal ?? null,
        ]),
        ['Echo', Status.OK, null, readerId, 'apiKey:reader'],
      ],
    );
    // One line per reason (the rate limit's window is a minute): the first refusal of each.
    const firstOfEachReason = cases.filter(
      (one, index) => cases.findIndex((other) => other.message.split(':')[0] === one.message.split(':')[0]) === index,
    );
    assert.deepEqual(
      lines.map((line) => line.replace(/ from \S+: /, ' from PEER: ')),
      firstOfEachReason.map(
        (one) =>
          `grpcforge auth: ${Status[one.code]} /test.v1.EchoService/${one.name.includes('policy') ? 'Chat' : 'Echo'} from PEER: ${one.row}\n`,
      ),
    );
    assert.match(lines[0]!, / from 127\.0\.0\.1:\d+: /);
    for (const secret of [readerKey, revokedKey, expiredKey, wrongSecret, readerKey.slice(17), wrongSecret.slice(17)]) {
      assert.ok(!lines.join('').includes(secret), 'a secret reached the operator log');
      assert.ok(!JSON.stringify(logs).includes(secret), 'a secret reached a row');
    }
  });

  test('50 guessed keys give one line, then one count when the window ends', async () => {
    const lines = freshRefusalLog();
    const c = client();
    const guesses = Array.from({ length: 50 }, (_, index) => `gfk_${index.toString(16).padStart(12, '0')}_${'G'.repeat(43)}`);
    for (const guess of guesses) {
      const error = await expectCode(
        c.echo({ text: 'x' }, { metadata: Metadata({ 'x-api-key': guess }) }),
        Status.UNAUTHENTICATED,
      );
      assert.equal(error.details, 'invalid API key');
    }
    closeServiceClient(c);
    assert.equal(lines.length, 1, lines.join(''));
    assert.match(
      lines[0]!,
      /^grpcforge auth: UNAUTHENTICATED \/test\.v1\.EchoService\/Echo from \S+: invalid API key \(gfk_000000000000: /,
    );

    // The count, from the log alone with a short window (refusals given in one go, so one window holds them all).
    const counted: string[] = [];
    const log = createAuthRefusalLog({ write: (line) => counted.push(line), intervalMs: 200 });
    const refusal: AuthRefusal = {
      reason: 'invalid-api-key',
      message: 'invalid API key',
      detail: 'invalid API key (gfk_000000000000: no key has this id and secret)',
      code: Status.UNAUTHENTICATED,
      method: '/test.v1.EchoService/Echo',
      peer: '127.0.0.1:5000',
    };
    for (let index = 0; index < 50; index++) log(refusal);
    log({ ...refusal, reason: 'api-key-revoked', message: 'API key revoked', detail: 'API key revoked (gfk_000000000001)' });
    while (counted.length < 3) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(counted, [
      'grpcforge auth: UNAUTHENTICATED /test.v1.EchoService/Echo from 127.0.0.1:5000: invalid API key (gfk_000000000000: no key has this id and secret)\n',
      'grpcforge auth: UNAUTHENTICATED /test.v1.EchoService/Echo from 127.0.0.1:5000: API key revoked (gfk_000000000001)\n',
      'grpcforge auth: 49 more UNAUTHENTICATED "invalid API key" in the last 0.2 s (one line per reason per 0.2 s)\n',
    ]);
    // A new window starts with a line again.
    log(refusal);
    assert.equal(counted.length, 4);
    // A principal a service's own hook made may hold anything: the line stays one line.
    log({
      ...refusal,
      reason: 'permission-denied',
      detail: 'permission denied: requires role admin (custom:ada\r\nforged has no roles)',
    });
    assert.equal(
      counted[4],
      'grpcforge auth: UNAUTHENTICATED /test.v1.EchoService/Echo from 127.0.0.1:5000: permission denied: requires role admin (custom:ada\uFFFD\uFFFDforged has no roles)\n',
    );
  });

  test('a public method lets a bad key through anonymously; requirePrincipal then refuses with its reason', async () => {
    const lines = freshRefusalLog();
    const c = createServiceClient(EchoDefinition, { target: server.address }) as unknown as {
      collect(r: AsyncIterable<EchoMessage>, o?: object): Promise<EchoMessage>;
    };
    const ask = (text: string, metadata?: Record<string, string>) =>
      c.collect(
        (async function* () {
          yield { text };
        })(),
        metadata ? { metadata: Metadata(metadata) } : {},
      );
    assert.deepEqual(await ask('anything', { 'x-api-key': revokedKey }), {});
    assert.equal(
      (await expectCode(ask('who-am-i', { 'x-api-key': revokedKey }), Status.UNAUTHENTICATED)).details,
      'API key revoked',
    );
    assert.equal((await expectCode(ask('who-am-i'), Status.UNAUTHENTICATED)).details, 'no credentials');
    assert.deepEqual(await ask('who-am-i', { 'x-api-key': readerKey }), { text: 'reader' });
    closeServiceClient(c);
    assert.deepEqual(
      lines.map((line) => line.replace(/ from \S+: /, ' from PEER: ')),
      [
        `grpcforge auth: UNAUTHENTICATED /test.v1.EchoService/Collect from PEER: API key revoked (gfk_${revokedKey.slice(4, 16)})\n`,
        'grpcforge auth: UNAUTHENTICATED /test.v1.EchoService/Collect from PEER: no credentials\n',
      ],
    );
  });

  test("in a server-streaming handler too: requirePrincipal gives the credential's reason; a refusal the handler turned into another status leaves no refusal detail in the row", async () => {
    const lines = freshRefusalLog();
    const c = createServiceClient(EchoDefinition, { target: server.address }) as unknown as {
      repeat(r: EchoMessage, o?: object): AsyncIterable<EchoMessage>;
    };
    const ask = async (text: string, apiKey: string) => {
      const answers: EchoMessage[] = [];
      for await (const answer of c.repeat({ text }, { metadata: Metadata({ 'x-api-key': apiKey }) })) answers.push(answer);
      return answers;
    };
    assert.deepEqual(await ask('who-am-i', readerKey), [{ text: 'reader' }]);
    assert.equal((await expectCode(ask('who-am-i', revokedKey), Status.UNAUTHENTICATED)).details, 'API key revoked');
    await store.flush();
    const since = (await store.logs.list({ limit: 1 }))[0]?.id ?? 0;
    assert.equal((await expectCode(ask('hide', readerKey), Status.NOT_FOUND)).details, 'no such report');
    closeServiceClient(c);
    await store.flush();
    const [hidden] = (await store.logs.list({ limit: 5 })).filter((log) => log.id > since);
    assert.deepEqual([hidden?.statusCode, hidden?.errorMessage], [Status.NOT_FOUND, 'no such report']);
    assert.equal(lines.length, 2, lines.join(''));
    assert.match(lines[0]!, /UNAUTHENTICATED \/test\.v1\.EchoService\/Repeat from \S+: API key revoked \(gfk_/);
    assert.match(lines[1]!, /PERMISSION_DENIED \/test\.v1\.EchoService\/Repeat from \S+: permission denied: requires role admin/);
  });

  test('an onRefused hook that throws does not change the status the client gets', async () => {
    const thrown: string[] = [];
    const hooked = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [silentEchoService()],
      auth: {
        policy: { default: 'authenticated', methods: {} },
        apiKeyCacheMs: 0,
        onRefused: () => {
          throw new Error('the audit sink is down');
        },
      },
      onUnexpectedError: (error, path) => thrown.push(`${path}: ${(error as Error).message}`),
    });
    const c = createServiceClient(EchoDefinition, { target: hooked.address });
    assert.equal((await expectCode(c.echo({ text: 'x' }), Status.UNAUTHENTICATED)).details, 'no credentials');
    closeServiceClient(c);
    await hooked.shutdown(1000);
    assert.deepEqual(thrown, ['/test.v1.EchoService/Echo: the audit sink is down']);
  });

  test('JWT: a good token passes; bad signature, alg none, expired and wrong audience are UNAUTHENTICATED', async () => {
    freshRefusalLog();
    const c = client();
    const bearer = (token: string) => ({ metadata: Metadata({ authorization: `Bearer ${token}` }) });
    assert.deepEqual(await c.echo({ text: 'hi' }, bearer(await jwt({ roles: ['reader'] }))), { text: 'hi from ada' });
    const none = new UnsecuredJWT({ sub: 'ada' })
      .setIssuer('https://issuer.test')
      .setAudience('grpcforge-test')
      .setExpirationTime('5m')
      .encode();
    await store.flush();
    const since = (await store.logs.list({ limit: 1 }))[0]?.id ?? 0;
    const refused: [string, string, string][] = [
      [
        await jwt({}, { secret: 'another-secret-another-secret-another-secret' }),
        'invalid token',
        'signature verification failed',
      ],
      [none, 'invalid token', '"alg" (Algorithm) Header Parameter value not allowed'],
      // Expired is said only of a token whose signature verified: a forged expired token is just invalid.
      [await jwt({}, { expiresIn: '-10m' }), 'token expired', '"exp" claim timestamp check failed'],
      [
        await jwt({}, { expiresIn: '-10m', secret: 'another-secret-another-secret-another-secret' }),
        'invalid token',
        'signature verification failed',
      ],
      [await jwt({}, { audience: 'someone-else' }), 'invalid token', 'unexpected "aud" claim value'],
    ];
    for (const [token, message] of refused) {
      const error = await expectCode(c.echo({ text: 'x' }, bearer(token)), Status.UNAUTHENTICATED);
      assert.equal(error.details, message);
    }
    await store.flush();
    const rows = (await store.logs.list({ limit: 20 })).filter((log) => log.id > since).reverse();
    assert.deepEqual(
      rows.map((log) => log.errorMessage),
      refused.map(([, message, why]) => `${message} (${why})`),
    );
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
      assert.equal(error.details, 'invalid token');
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
      assert.equal(error.details, AUTH_MESSAGES.ambiguousCredentials);
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
      (log) => log.startedAt >= since && log.errorMessage?.startsWith(`${AUTH_MESSAGES.ambiguousCredentials} (`),
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
      services: [silentEchoService()],
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
