import assert from 'node:assert/strict';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { defineService, startServer, type CallRecord, type RunningServer } from '../../packages/runtime/src/index.ts';
import { DEFAULT_SERVER_LIMITS } from '../../packages/runtime/src/vocabulary.ts';
import { tempDir, writeFiles } from '../helpers/workspace.ts';
import { EchoDefinition } from '../helpers/json-definition.ts';

// server.limits through a raw HTTP/2 client (node:http2): what a client over a limit gets on the wire, and that the
// connection survives where it should.

/** A gRPC length-prefixed message frame. */
function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

interface Outcome {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
  readonly rstCode: number;
  readonly goaway: number | undefined;
}

/** One unary Echo call on `session` with `metadata`, up to its end. */
function call(
  session: ClientHttp2Session,
  metadata: Record<string, string | string[]>,
  goaway: { code?: number },
  text = 'hi',
): Promise<Outcome> {
  return new Promise((resolve) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/test.v1.EchoService/Echo',
      'content-type': 'application/grpc',
      te: 'trailers',
      ...metadata,
    });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    stream.on('response', (received: IncomingHttpHeaders) => {
      headers = received;
    });
    stream.on('trailers', (received: IncomingHttpHeaders) => {
      trailers = received;
    });
    stream.on('error', () => undefined);
    stream.on('data', () => undefined);
    stream.on('close', () => resolve({ headers, trailers, rstCode: stream.rstCode, goaway: goaway.code }));
    stream.end(frame(Buffer.from(JSON.stringify({ text }))));
  });
}

function open(server: RunningServer): { session: ClientHttp2Session; goaway: { code?: number } } {
  // node:http2 refuses to send header blocks over 64 KiB by default.
  const session = connect(`http://${server.address}`, { maxSendHeaderBlockLength: 1 << 20 });
  const goaway: { code?: number } = {};
  session.on('goaway', (code: number) => {
    goaway.code = code;
  });
  session.on('error', () => undefined);
  return { session, goaway };
}

/** The gRPC status of a response: from the trailers, or the headers of a trailers-only response. */
const statusOf = (outcome: Outcome) => outcome.trailers['grpc-status'] ?? outcome.headers['grpc-status'];

describe('server limits', () => {
  let server: RunningServer;
  const records: CallRecord[] = [];
  const held: (() => void)[] = [];
  const release = () => held.splice(0).forEach((resolve) => resolve());
  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [
        defineService(EchoDefinition, {
          async echo(request) {
            if (request.text === 'hold') await new Promise<void>((resolve) => held.push(resolve));
            return request;
          },
          async *repeat() {},
          async collect() {
            return {};
          },
          async *chat() {},
        }),
      ],
      recordCall: (record) => records.push(record),
      limits: { maxMetadataBytes: 4096, maxConcurrentStreams: 2 },
    });
  });
  after(async () => {
    release();
    await server.shutdown(1000);
  });

  test('metadata over the budget is answered RESOURCE_EXHAUSTED with a gRPC status, the connection stays open', async () => {
    const { session, goaway } = open(server);
    try {
      // 5 KiB, 80 KiB (accepted before the budget) and 200 KiB in 50 KiB values (a GOAWAY before the budget).
      const lists = [[5 * 1024], [80 * 1024], [50 * 1024, 50 * 1024, 50 * 1024, 50 * 1024]];
      for (const sizes of lists) {
        const bytes = sizes.reduce((sum, size) => sum + size, 0);
        const metadata = Object.fromEntries(sizes.map((size, i) => [`x-big-${i}`, 'a'.repeat(size)]));
        const outcome = await call(session, metadata, goaway);
        assert.equal(statusOf(outcome), String(8), `${bytes} bytes`);
        assert.match(
          decodeURI(String(outcome.headers['grpc-message'])),
          /metadata of \d+ bytes is over the server's limit of 4096 bytes/,
        );
        assert.equal(outcome.rstCode, constants.NGHTTP2_NO_ERROR);
        assert.equal(outcome.goaway, undefined);
      }
      // Under the budget on the same connection: served.
      const ok = await call(session, { 'x-small': 'a'.repeat(1000) }, goaway);
      assert.equal(statusOf(ok), '0');
      assert.equal(session.closed, false);
    } finally {
      session.close();
    }
    await sleep(50);
    assert.ok(
      records.some((record) => record.method === 'Echo' && record.statusCode === 8),
      'the refused call is recorded',
    );
  });

  test("nghttp2's fixed lines: one field of 65,536 encoded bytes or a 9-frame header block fails the call, one byte or frame more the connection", async () => {
    // '~' has a 13-bit Huffman code, so HPACK sends it as it is: encoded bytes are the characters.
    const fields = (count: number, size: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-f-${String(i).padStart(3, '0')}`, '~'.repeat(size)]));
    const below = open(server);
    try {
      for (const metadata of [{ 'x-big': '~'.repeat(65_536) }, fields(140, 1000)]) {
        const outcome = await call(below.session, metadata, below.goaway);
        assert.equal(statusOf(outcome), '8');
        assert.equal(outcome.goaway, undefined);
      }
      assert.equal(statusOf(await call(below.session, {}, below.goaway)), '0');
    } finally {
      below.session.close();
    }
    // One field over NGHTTP2_HD_MAX_NV: COMPRESSION_ERROR; a block of more than 147,456 bytes (8 CONTINUATIONs): GOAWAY.
    for (const [metadata, code] of [
      [{ 'x-big': '~'.repeat(65_537) }, constants.NGHTTP2_COMPRESSION_ERROR],
      [fields(150, 1000), undefined],
    ] as const) {
      const over = open(server);
      try {
        const outcome = await call(over.session, metadata, over.goaway);
        assert.equal(statusOf(outcome), undefined);
        assert.notEqual(outcome.goaway, undefined);
        if (code !== undefined) assert.equal(outcome.goaway, code);
      } finally {
        over.session.destroy();
      }
    }
  });

  test('many small pairs count against the budget: RESOURCE_EXHAUSTED, not ENHANCE_YOUR_CALM', async () => {
    const { session, goaway } = open(server);
    try {
      const pairs = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-pair-${i}`, 'v']));
      const outcome = await call(session, pairs, goaway);
      assert.equal(outcome.rstCode, constants.NGHTTP2_NO_ERROR);
      assert.equal(statusOf(outcome), '8');
      const few = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-pair-${i}`, 'v']));
      assert.equal(statusOf(await call(session, few, goaway)), '0');
    } finally {
      session.close();
    }
  });

  test('max concurrent streams is advertised and enforced per connection', async () => {
    const { session, goaway } = open(server);
    try {
      const settings = await new Promise<{ maxConcurrentStreams?: number; maxHeaderListSize?: number }>((resolve) =>
        session.once('remoteSettings', resolve),
      );
      assert.equal(settings.maxConcurrentStreams, 2);
      assert.equal(settings.maxHeaderListSize, 256 * 1024);
      // Two calls hold their slots; the client must queue the third until one of them ends.
      const holding = [call(session, {}, goaway, 'hold'), call(session, {}, goaway, 'hold')];
      while (held.length < 2) await sleep(10);
      let thirdDone = false;
      const third = call(session, {}, goaway).then((outcome) => {
        thirdDone = true;
        return outcome;
      });
      await sleep(300);
      assert.equal(thirdDone, false, 'a third stream waits while two are open');
      assert.equal(held.length, 2, 'no third call reached the handler');
      release();
      assert.deepEqual((await Promise.all(holding)).map(statusOf), ['0', '0']);
      assert.equal(statusOf(await third), '0');
    } finally {
      session.destroy();
    }
  });
});

describe('connection limits', () => {
  test('the idle timeout closes a connection that never sends a request', async () => {
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [],
      limits: { connectionIdleMs: 300 },
    });
    try {
      const { session, goaway } = open(server);
      const started = Date.now();
      await new Promise<void>((resolve) => session.once('close', () => resolve()));
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 5000, `closed after ${elapsed} ms`);
      assert.equal(goaway.code, constants.NGHTTP2_NO_ERROR);
      // A bare TCP connection that never even sends the HTTP/2 preface is closed too.
      const socket = createConnection({ host: '127.0.0.1', port: server.port });
      socket.on('error', () => undefined);
      socket.resume(); // reads the server's SETTINGS and GOAWAY, and so sees the end
      const bare = Date.now();
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      assert.ok(Date.now() - bare < 5000);
    } finally {
      await server.shutdown(1000);
    }
  });

  test('pings faster than allowed close the connection with GOAWAY ENHANCE_YOUR_CALM too_many_pings', async () => {
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [],
      limits: { keepalive: { minPingIntervalMs: 10_000, permitWithoutCalls: true, maxPingStrikes: 2 } },
    });
    try {
      const session = connect(`http://${server.address}`);
      session.on('error', () => undefined);
      const away = new Promise<{ code: number; data: string }>((resolve) =>
        session.once('goaway', (code: number, _last: number, data?: Buffer) => resolve({ code, data: data?.toString() ?? '' })),
      );
      await new Promise<void>((resolve) => session.once('connect', () => resolve()));
      // Each ping waits for its answer; the fourth is the third strike.
      for (let i = 0; i < 4; i++) {
        await new Promise<void>((resolve) => session.ping(() => resolve()));
      }
      const { code, data } = await away;
      assert.equal(code, constants.NGHTTP2_ENHANCE_YOUR_CALM);
      assert.equal(data, 'too_many_pings');
      session.destroy();
    } finally {
      await server.shutdown(1000);
    }
  });
});

describe('server.limits in grpcforge.yaml', () => {
  const SERVICES = 'version: 1\nservices:\n  auth:\n    serves: [auth.v1.AuthService]\n    listen: 127.0.0.1:0\n';
  const load = async (yaml: string) => {
    const dir = await tempDir();
    await writeFiles(dir, { 'grpcforge.yaml': yaml });
    return loadConfig(join(dir, 'grpcforge.yaml'));
  };

  test('defaults are the runtime defaults; given keys override them', async () => {
    const defaults = await load(SERVICES);
    assert.deepEqual(defaults.errors, []);
    assert.deepEqual(defaults.config?.server.limits, DEFAULT_SERVER_LIMITS);
    const given = await load(
      `${SERVICES}server:\n  limits: { maxMetadataBytes: 16384, keepalive: { permitWithoutCalls: true } }\n`,
    );
    assert.deepEqual(given.errors, []);
    const config = given.config;
    assert.ok(config);
    assert.equal(config.server.limits.maxMetadataBytes, 16384);
    assert.deepEqual(config.server.limits.keepalive, { ...DEFAULT_SERVER_LIMITS.keepalive, permitWithoutCalls: true });
    assert.equal(config.server.shutdownTimeoutMs, 10_000);
  });

  test('a wrong value names its key', async () => {
    const bad = await load(`${SERVICES}server:\n  limits: { maxMetadataBytes: -1, idle: 5 }\n`);
    const paths = bad.errors.map((problem) => problem.path);
    assert.ok(paths.includes('server.limits.maxMetadataBytes'), JSON.stringify(bad.errors));
    assert.ok(
      bad.errors.some((problem) => problem.path.startsWith('server.limits') && /idle/.test(problem.message)),
      JSON.stringify(bad.errors),
    );
  });
});
