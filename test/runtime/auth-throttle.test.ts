import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import {
  ClientError,
  Metadata,
  Status,
  closeServiceClient,
  createLogStore,
  createServiceClient,
  defineService,
  startServer,
  type AuthThrottleOptions,
  type CallContext,
  type HandlerContextExtension,
  type LogStore,
  type RequestLog,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { createAuthThrottle, throttledFailure, throttleAddressOf } from '../../packages/runtime/src/auth/auth-throttle.ts';
import { createJwtVerifier } from '../../packages/runtime/src/auth/jwt.ts';
import { certificateIdentity } from '../../packages/runtime/src/auth/mtls.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';
import { startPeerProxy, type PeerProxy } from '../helpers/peer-proxy.ts';
import { tempDir } from '../helpers/workspace.ts';

// The failed-authentication throttle over real sockets and a real SQLite store. Every client on this machine calls
// from 127.0.0.1; a forwarder bound to 127.0.0.2 (or .3) gives a second address (see startPeerProxy).

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

interface EchoClient {
  echo(request: EchoMessage, options?: { metadata?: Metadata; onTrailer?: (trailer: Metadata) => void }): Promise<EchoMessage>;
}

/** A server behind auth with a store, counting what the API key verifier is asked. */
interface Fixture {
  readonly store: LogStore;
  readonly server: RunningServer;
  /** Every key the verifier checked, in order. */
  readonly verified: string[];
  /** The reason of every refusal the auth stage made, in order. */
  readonly refusals: string[];
  readonly ownerKey: string;
  client(target?: string): EchoClient;
  /** Every row, oldest first. */
  rows(): Promise<RequestLog[]>;
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startFixture(throttle: AuthThrottleOptions | false): Promise<Fixture> {
  const store = await createLogStore({ url: `sqlite:${join(await tempDir(), 'logs.db')}`, flushIntervalMs: 10 });
  const ownerKey = (await createTestApiKey(store, { name: 'owner' })).key;
  const verified: string[] = [];
  const refusals: string[] = [];
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    services: [
      defineService(
        EchoDefinition as never,
        {
          echo: async (_request: EchoMessage, context: CallContext & HandlerContextExtension) => ({
            text: context.principal?.id ?? 'anonymous',
          }),
          repeat: async function* () {},
          collect: async () => ({}),
          chat: async function* () {},
        } as never,
      ),
    ],
    recordCall: store.logs.record,
    auth: {
      policy: { default: 'authenticated', methods: {} },
      apiKeys: {
        verify: (key) => {
          verified.push(key);
          return store.apiKeys.verify(key);
        },
      },
      jwt: await createJwtVerifier({ secret: SECRET }),
      throttle,
      onRefused: (refusal) => refusals.push(refusal.reason),
    },
  });
  const clients: EchoClient[] = [];
  cleanups.push(async () => {
    for (const client of clients) closeServiceClient(client);
    await server.shutdown(1000);
    await store.close();
  });
  return {
    store,
    server,
    verified,
    refusals,
    ownerKey,
    client(target = server.address) {
      const client = createServiceClient(EchoDefinition, { target, retry: false }) as unknown as EchoClient;
      clients.push(client);
      return client;
    },
    async rows() {
      await store.flush();
      return (await store.logs.list({ limit: 10_000 })).reverse();
    },
  };
}

async function peerProxy(fixture: Fixture, localAddress: string): Promise<PeerProxy> {
  const proxy = await startPeerProxy(fixture.server.port, localAddress);
  cleanups.push(() => proxy.close());
  return proxy;
}

const withKey = (key: string) => ({ metadata: Metadata({ 'x-api-key': key }) });

/** A well-formed key (`gfk_<12 hex>_<secret>`) that no store holds, or `prefix` with a wrong secret. */
function wrongKey(index: number, prefix?: string): string {
  return `${prefix ?? `gfk_${index.toString(16).padStart(12, '0')}`}_${index.toString(36).padStart(43, 'W')}`;
}

/** The status of a call, by name: `OK`, `UNAUTHENTICATED`, ... */
async function statusOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    return Status[error.code];
  }
}

/** The error a call was refused with. */
async function refusalOf(call: Promise<unknown>): Promise<ClientError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ClientError, `expected a refusal, got ${String(error)}`);
  return error;
}

function tally(statuses: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

const ownerPrefix = (key: string) => key.slice(0, 'gfk_'.length + 12);

describe('auth throttle: credential guessing', () => {
  test('once an address is throttled and its row of the minute taken, its guesses are refused at the HTTP/2 stream: no call, no auth stage, no row', async () => {
    const fixture = await startFixture({ perPeer: { failuresPerMinute: 1, burst: 3 }, perKey: false });
    const guesser = fixture.client();
    const statuses: string[] = [];
    for (let index = 0; index < 50; index++) statuses.push(await statusOf(guesser.echo({}, withKey(wrongKey(index)))));
    assert.deepEqual(tally(statuses), { UNAUTHENTICATED: 3, RESOURCE_EXHAUSTED: 47 });
    // The auth stage refused the 3 verified guesses and the sampled throttled call; the other 46 never reached it.
    assert.deepEqual(tally(fixture.refusals), { 'invalid-api-key': 3, 'auth-throttled': 1 });
    assert.equal(fixture.verified.length, 3);
    assert.equal(fixture.server.defenceCounts().authThrottled, 47);
    let pushback: string | undefined;
    const refusal = await refusalOf(
      guesser.echo({}, { ...withKey(wrongKey(99)), onTrailer: (trailer) => (pushback = trailer.get('grpc-retry-pushback-ms')) }),
    );
    assert.match(refusal.details, /^too many failed authentications: retry in \d+ s$/);
    assert.ok(Number(pushback) > 0, `grpc-retry-pushback-ms: ${String(pushback)}`);
    const rows = await fixture.rows();
    assert.deepEqual(tally(rows.map((row) => Status[row.statusCode] ?? String(row.statusCode))), {
      UNAUTHENTICATED: 3,
      RESOURCE_EXHAUSTED: 1,
    });
  });

  test('a connection that keeps guessing through 100 early refusals gets GOAWAY, and its address is refused new connections; another address is served', async () => {
    const fixture = await startFixture({ perPeer: { failuresPerMinute: 1, burst: 3 }, perKey: false });
    const owner = fixture.client((await peerProxy(fixture, '127.0.0.2')).address);
    const guesser = fixture.client();
    const statuses: string[] = [];
    // 3 verified, 1 stored throttled call, then 100 refused at the stream: the 100th ends the connection.
    for (let index = 0; index < 104; index++) statuses.push(await statusOf(guesser.echo({}, withKey(wrongKey(index)))));
    assert.deepEqual(tally(statuses), { UNAUTHENTICATED: 3, RESOURCE_EXHAUSTED: 101 });
    assert.equal(fixture.server.defenceCounts().authThrottled, 101);
    // The client reconnects, when its backoff lets it (a call sent before it read the GOAWAY is refused on the old
    // connection, or fails with it): closed at accept while its address serves the penalty (10 s by default).
    const after: string[] = [];
    while (after.length < 50 && fixture.server.defenceCounts().connectionsRefused === 0) {
      after.push(await statusOf(guesser.echo({}, withKey(wrongKey(999)))));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(fixture.server.defenceCounts().connectionsRefused >= 1, after.join(', '));
    assert.ok(
      after.every((status) => status === 'RESOURCE_EXHAUSTED' || status === 'UNAVAILABLE'),
      after.join(', '),
    );
    assert.equal(await statusOf(guesser.echo({}, withKey(wrongKey(999)))), 'UNAVAILABLE');
    assert.equal(await statusOf(owner.echo({}, withKey(fixture.ownerKey))), 'OK');
  });

  test('a flood of wrong keys from one address is RESOURCE_EXHAUSTED past the burst without verification; a client on another address keeps succeeding; one row per address per minute', async () => {
    const fixture = await startFixture({ perPeer: { failuresPerMinute: 1, burst: 5 }, perKey: false });
    const owner = fixture.client((await peerProxy(fixture, '127.0.0.2')).address);
    const guesser = fixture.client();
    const guesses = Array.from({ length: 200 }, (_, index) => wrongKey(index));
    // One guess fails first; then all at once: on an address that failed, guesses in flight hold its tokens, so
    // concurrency cannot outrun the burst.
    const first = await statusOf(guesser.echo({ text: 'guess' }, withKey(guesses[0]!)));
    const [rest, legit] = await Promise.all([
      Promise.all(guesses.slice(1).map((guess) => statusOf(guesser.echo({ text: 'guess' }, withKey(guess))))),
      (async () => {
        const statuses: string[] = [];
        for (let call = 0; call < 20; call++) statuses.push(await statusOf(owner.echo({}, withKey(fixture.ownerKey))));
        return statuses;
      })(),
    ]);
    const flood = [first, ...rest];
    assert.deepEqual(tally(flood), { UNAUTHENTICATED: 5, RESOURCE_EXHAUSTED: 195 });
    assert.deepEqual(tally(legit), { OK: 20 });
    assert.equal(fixture.verified.filter((key) => key !== fixture.ownerKey).length, 5, 'only the burst was verified');

    // The owner's own key from the throttled address: refused without being looked at.
    const checksBefore = fixture.verified.length;
    let pushback: string | undefined;
    const refusal = await refusalOf(
      guesser.echo(
        {},
        { ...withKey(fixture.ownerKey), onTrailer: (trailer) => (pushback = trailer.get('grpc-retry-pushback-ms')) },
      ),
    );
    assert.equal(Status[refusal.code], 'RESOURCE_EXHAUSTED');
    assert.match(refusal.details, /^too many failed authentications: retry in \d+ s$/);
    assert.ok(Number(pushback) > 0, `grpc-retry-pushback-ms: ${String(pushback)}`);
    assert.equal(fixture.verified.length, checksBefore);
    assert.equal(fixture.server.defenceCounts().authThrottled, 196);
    assert.equal(await statusOf(owner.echo({}, withKey(fixture.ownerKey))), 'OK');

    // Rows: the 5 verified failures, one throttled call (the first), the owner's calls; the other 195 only counted.
    const rows = await fixture.rows();
    const byStatus = tally(rows.map((row) => Status[row.statusCode] ?? String(row.statusCode)));
    assert.deepEqual(byStatus, { UNAUTHENTICATED: 5, RESOURCE_EXHAUSTED: 1, OK: 21 });
    const throttled = rows.find((row) => row.statusCode === (Status.RESOURCE_EXHAUSTED as number))!;
    assert.match(
      throttled.errorMessage ?? '',
      /^too many failed authentications: retry in \d+ s \(not verified: 127\.0\.0\.1 is over auth\.throttle\.perPeer \(1 per minute, burst 5\); 0 more throttled calls from this address since its previous row were counted as authThrottled, not stored: one row per address per 60 s\)$/,
    );
    assert.ok(rows.filter((row) => row.statusCode === 0).every((row) => row.peer?.startsWith('127.0.0.2:')));
  });

  test("guessing one key's secret: the key is refused without verification from addresses that failed, never to its owner elsewhere", async () => {
    const fixture = await startFixture({
      perPeer: { failuresPerMinute: 1, burst: 100 },
      perKey: { failuresPerMinute: 1, burst: 3 },
    });
    const prefix = ownerPrefix(fixture.ownerKey);
    const guesser = fixture.client();
    const statuses: string[] = [];
    for (let index = 0; index < 6; index++) statuses.push(await statusOf(guesser.echo({}, withKey(wrongKey(index, prefix)))));
    assert.deepEqual(statuses, [
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      ...Array<string>(3).fill('RESOURCE_EXHAUSTED'),
    ]);
    assert.equal(fixture.verified.length, 3);

    // The owner, on an address that did not fail, is verified and let in.
    const owner = fixture.client((await peerProxy(fixture, '127.0.0.2')).address);
    for (let call = 0; call < 3; call++) assert.equal(await statusOf(owner.echo({}, withKey(fixture.ownerKey))), 'OK');
    // A second guessing address gets one guess at the key, then is refused on it too.
    const second = fixture.client((await peerProxy(fixture, '127.0.0.3')).address);
    assert.equal(await statusOf(second.echo({}, withKey(wrongKey(10, prefix)))), 'UNAUTHENTICATED');
    assert.equal(await statusOf(second.echo({}, withKey(wrongKey(11, prefix)))), 'RESOURCE_EXHAUSTED');
    // Another key from the first address is still verified: its address has failures left.
    assert.equal(await statusOf(guesser.echo({}, withKey(wrongKey(12)))), 'UNAUTHENTICATED');
    assert.equal(fixture.server.defenceCounts().authThrottled, 4);

    const throttled = (await fixture.rows()).filter((row) => row.statusCode === (Status.RESOURCE_EXHAUSTED as number));
    assert.deepEqual(
      throttled.map((row) => [
        row.peer?.replace(/:\d+$/, ''),
        /over auth\.throttle\.perKey \(1 per minute, burst 3\)/.test(row.errorMessage ?? ''),
      ]),
      [
        ['127.0.0.1', true],
        ['127.0.0.3', true],
      ],
    );
    assert.ok(throttled[0]!.errorMessage!.includes(`${prefix} is over auth.throttle.perKey`));
  });

  test('auth.throttle false: every wrong key is verified and refused UNAUTHENTICATED, nothing is throttled', async () => {
    const fixture = await startFixture(false);
    const guesser = fixture.client();
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, index) => statusOf(guesser.echo({}, withKey(wrongKey(index))))),
    );
    assert.deepEqual(tally(statuses), { UNAUTHENTICATED: 60 });
    assert.equal(fixture.verified.length, 60);
    assert.equal(fixture.server.defenceCounts().authThrottled, 0);
    assert.equal((await fixture.rows()).length, 60);
  });

  test('the same key sent by many calls at once holds one token: a busy client is not throttled by its own cold start', async () => {
    const fixture = await startFixture({ perPeer: { failuresPerMinute: 1, burst: 2 }, perKey: false });
    const client = fixture.client();
    const statuses = await Promise.all(Array.from({ length: 50 }, () => statusOf(client.echo({}, withKey(fixture.ownerKey)))));
    assert.deepEqual(tally(statuses), { OK: 50 });
  });

  test('an address that never failed is not throttled for how many distinct credentials it verifies at once (a gateway)', async () => {
    const fixture = await startFixture({ perPeer: { failuresPerMinute: 1, burst: 2 }, perKey: false });
    const client = fixture.client();
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(`user-${index}`)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(SECRET)),
      ),
    );
    const statuses = await Promise.all(
      tokens.map((token) => statusOf(client.echo({}, { metadata: Metadata({ authorization: `Bearer ${token}` }) }))),
    );
    assert.deepEqual(tally(statuses), { OK: 50 });
    assert.equal(fixture.server.defenceCounts().authThrottled, 0);
  });
});

describe('principals over the length bound', () => {
  test('a JWT whose sub is 4,000 characters is UNAUTHENTICATED at verification; 256 characters pass', async () => {
    const fixture = await startFixture(false);
    const client = fixture.client();
    const token = (sub: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(SECRET));
    const bearer = async (sub: string) => ({ metadata: Metadata({ authorization: `Bearer ${await token(sub)}` }) });
    const refusal = await refusalOf(client.echo({}, await bearer('x'.repeat(4000))));
    assert.equal(Status[refusal.code], 'UNAUTHENTICATED');
    assert.equal(refusal.details, 'invalid token');
    assert.deepEqual(await client.echo({}, await bearer('y'.repeat(256))), { text: 'y'.repeat(256) });
    const [refused, passed] = await fixture.rows();
    assert.deepEqual(
      [refused?.principal, refused?.errorMessage],
      [null, 'invalid token (sub is 4000 characters, more than the 256 a principal id may have)'],
    );
    assert.equal(passed?.principal, `jwt:${'y'.repeat(256)}`);
  });

  test('a certificate identity (SPIFFE ID or CN) over 256 characters identifies nobody', () => {
    const spiffe = `spiffe://example.org/${'a'.repeat(300)}`;
    assert.deepEqual(certificateIdentity({ subjectaltname: `URI:${spiffe}`, ca: false }), {
      kind: 'none',
      reason: `the SPIFFE ID is ${spiffe.length} characters, more than the 256 a principal id may have`,
    });
    assert.deepEqual(certificateIdentity({ subjectaltname: 'DNS:a', subject: { CN: 'c'.repeat(257) }, ca: false }), {
      kind: 'none',
      reason: 'the CN is 257 characters, more than the 256 a principal id may have',
    });
  });
});

test('the throttle counts an address by its IP: IPv4 without the port, IPv4-mapped as IPv4, IPv6 by its /64', () => {
  assert.deepEqual(
    [
      '127.0.0.1:53412',
      '::ffff:10.1.2.3:443',
      '::1:5000',
      '[2001:db8:1:2:aa:bb:cc:dd]:80',
      '2001:db8::7:9000',
      'fe80::1%eth0:22',
      'unknown',
    ].map(throttleAddressOf),
    ['127.0.0.1', '10.1.2.3', '0:0:0:0::/64', '2001:db8:1:2::/64', '2001:db8:0:0::/64', 'fe80:0:0:0::/64', 'unknown'],
  );
});

test('the throttle by the clock: tokens come back at the rate, one row per address per interval says how many were only counted, memory is LRU-bounded', () => {
  const throttle = createAuthThrottle({ perPeer: { failuresPerMinute: 1, burst: 2 }, perKey: false, maxTracked: 3 });
  const fail = (peer: string, at: number) => {
    const gate = throttle.begin(peer, undefined, `guess-${at}`, at);
    assert.ok('attempt' in gate, `${peer} at ${at} ms was throttled`);
    gate.attempt.settle(true, at);
  };
  const verdictAt = (peer: string, at: number) => {
    const gate = throttle.begin(peer, undefined, `probe-${at}`, at);
    if ('attempt' in gate) gate.attempt.settle(false, at);
    return 'throttled' in gate ? gate.throttled : undefined;
  };
  fail('10.0.0.1:1', 0);
  fail('10.0.0.1:2', 0);
  const first = verdictAt('10.0.0.1:3', 0);
  assert.deepEqual([first?.stored, first?.unstoredBefore, first?.retryAfterMs], [true, 0, 60_000]);
  for (const at of [1000, 2000, 3000, 4000, 59_000]) assert.equal(verdictAt('10.0.0.1:3', at)?.stored, false);
  // 1 per minute: a token is back after 60 s, and is spent by the next failure.
  assert.equal(verdictAt('10.0.0.1:3', 60_000), undefined);
  fail('10.0.0.1:4', 60_000);
  const later = verdictAt('10.0.0.1:3', 61_000);
  assert.deepEqual([later?.stored, later?.unstoredBefore], [true, 5]);
  assert.match(
    throttledFailure(later!).detail,
    /; 5 more throttled calls from this address since its previous row were counted as authThrottled, not stored: one row per address per 60 s\)$/,
  );
  // Three other addresses push the throttled one out: it is forgotten and starts over with a full bucket.
  for (const peer of ['10.0.0.2:1', '10.0.0.3:1', '10.0.0.4:1']) fail(peer, 62_000);
  assert.equal(verdictAt('10.0.0.1:3', 62_000), undefined);
});
