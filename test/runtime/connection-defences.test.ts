import assert from 'node:assert/strict';
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import {
  closeServiceClient,
  createServiceClient,
  defineService,
  startServer,
  type RunningServer,
  type ServerLimits,
} from '../../packages/runtime/src/index.ts';
import { createTestCertificates, type TestCertificates } from '../helpers/certs.ts';
import { EchoDefinition } from '../helpers/json-definition.ts';
import { tempDir } from '../helpers/workspace.ts';

// The connection defences (issue 21) with real sockets on 127.0.0.1: what a slow, silent, greedy or resetting client
// gets, counted in the server's defence counters. No timing is asserted: small configured timeouts, and each close is
// awaited with a generous bound that only turns a hang into a failure.

/** The client connection preface (RFC 9113 §3.4), an empty SETTINGS frame and a SETTINGS acknowledgement. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
const SETTINGS_ACK = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);

/** Far above any configured timeout here: reaching it fails the test instead of hanging it. */
const BOUND_MS = 15_000;

const services = [
  defineService(EchoDefinition, {
    async echo(request) {
      return request;
    },
    async *repeat() {},
    async collect() {
      return {};
    },
    async *chat() {},
  }),
];

const serve = (limits: ServerLimits, credentials?: ServerCredentials) =>
  startServer({ host: '127.0.0.1', port: 0, services, limits, ...(credentials ? { credentials } : {}) });

/** Resolves true when `emitter` emits `event`, false after {@link BOUND_MS}. */
function within(emitter: { once(event: string, listener: () => void): unknown }, event: string): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), BOUND_MS);
    emitter.once(event, () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** A raw TCP connection that writes `bytes` once connected, then reads (and drops) whatever the server sends. */
function rawSocket(server: RunningServer, bytes?: Buffer, localAddress?: string): Socket {
  const socket = createConnection({ host: '127.0.0.1', port: server.port, ...(localAddress ? { localAddress } : {}) });
  socket.on('error', () => undefined);
  if (bytes) socket.once('connect', () => socket.write(bytes));
  socket.resume();
  return socket;
}

interface Client {
  readonly session: ClientHttp2Session;
  readonly goaway: { code?: number; data?: string | undefined };
}

/** A node:http2 client that remembers the first GOAWAY it got (closing sends another, without debug data). */
function http2Client(server: RunningServer, localAddress?: string): Client {
  const session = connect(`http://${server.address}`, {
    // From `localAddress` (loopback takes any 127.x.y.z), a peer of its own.
    createConnection: () => createConnection({ host: '127.0.0.1', port: server.port, ...(localAddress ? { localAddress } : {}) }),
  });
  const goaway: Client['goaway'] = {};
  session.on('goaway', (code: number, _last: number, data?: Buffer) => {
    if (goaway.code !== undefined) return;
    goaway.code = code;
    goaway.data = data?.toString();
  });
  session.on('error', () => undefined);
  return { session, goaway };
}

/** A raw Echo call's stream on `client`'s connection, its errors ignored. */
function echoStream(client: Client): ClientHttp2Stream {
  const stream = client.session.request({
    ':method': 'POST',
    ':path': '/test.v1.EchoService/Echo',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('error', () => undefined);
  return stream;
}

/**
 * Whether a node:http2 client got the server's SETTINGS (true) or was closed first (false); its `connect` comes with
 * the TCP connection, before the server could refuse it.
 */
function handshake(client: Client): Promise<boolean> {
  return new Promise((resolve) => {
    client.session.once('remoteSettings', () => resolve(true));
    client.session.once('close', () => resolve(false));
  });
}

/** One unary Echo call over a grpc-js client on its own connection. */
async function echo(server: RunningServer, text: string, credentials = ChannelCredentials.createInsecure()): Promise<string> {
  const client = createServiceClient(EchoDefinition, { target: server.address, credentials, deadlineMs: 10_000 });
  try {
    return (await client.echo({ text })).text ?? '';
  } finally {
    closeServiceClient(client);
  }
}

describe('handshake and header timeouts', () => {
  test('silent, preface-only and unacknowledged-SETTINGS connections are destroyed; one without a request gets GOAWAY header_timeout', async () => {
    const server = await serve({ handshakeTimeoutMs: 1000, headerTimeoutMs: 3000, connectionIdleMs: 0 });
    try {
      // Opened first, so its header clock runs out before the quiet client's: it made a call, it stays.
      const active = http2Client(server);
      assert.equal(await handshake(active), true);
      const stream = echoStream(active);
      stream.resume();
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x7b, 0x7d]));
      assert.equal(await within(stream, 'close'), true);
      const quiet = http2Client(server);
      const slow = [rawSocket(server), rawSocket(server, PREFACE), rawSocket(server, Buffer.concat([PREFACE, SETTINGS]))];
      const closed = await Promise.all(slow.map((socket) => within(socket, 'close')));
      assert.deepEqual(closed, [true, true, true]);
      assert.equal(server.defenceCounts().handshakeTimeouts, 3);
      assert.equal(await within(quiet.session, 'close'), true);
      assert.deepEqual(quiet.goaway, { code: constants.NGHTTP2_NO_ERROR, data: 'header_timeout' });
      const counts = server.defenceCounts();
      assert.equal(counts.headerTimeouts, 1);
      assert.equal(counts.handshakeTimeouts, 3);
      assert.equal(active.session.closed || active.session.destroyed, false);
      active.session.close();
    } finally {
      await server.shutdown(1000);
    }
  });

  test('a connection that finished the handshake but never sends a request is closed by the header timeout', async () => {
    const server = await serve({ handshakeTimeoutMs: 0, headerTimeoutMs: 300, connectionIdleMs: 0 });
    try {
      // The whole preface and the acknowledgement of the server's SETTINGS, then nothing.
      const socket = rawSocket(server, Buffer.concat([PREFACE, SETTINGS, SETTINGS_ACK]));
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      assert.equal(await within(socket, 'close'), true);
      // The server's frames end with a GOAWAY (type 7) carrying NO_ERROR and the debug data.
      const bytes = Buffer.concat(received);
      assert.ok(bytes.includes(Buffer.from('header_timeout')), bytes.toString('hex'));
      const counts = server.defenceCounts();
      assert.equal(counts.headerTimeouts, 1);
      assert.equal(counts.handshakeTimeouts, 0);
    } finally {
      await server.shutdown(1000);
    }
  });

  test('0 turns both off: a silent connection stays until the client leaves', async () => {
    const server = await serve({ handshakeTimeoutMs: 0, headerTimeoutMs: 0, connectionIdleMs: 0 });
    try {
      const silent = rawSocket(server);
      // A second server with a short handshake timeout is the clock: once its silent socket is closed, the first
      // one's would have been too.
      const clock = await serve({ handshakeTimeoutMs: 200 });
      try {
        assert.equal(await within(rawSocket(clock), 'close'), true);
      } finally {
        await clock.shutdown(1000);
      }
      assert.equal(silent.destroyed, false);
      silent.destroy();
      const counts = server.defenceCounts();
      assert.equal(counts.handshakeTimeouts + counts.headerTimeouts, 0);
    } finally {
      await server.shutdown(1000);
    }
  });
});

describe('TLS connections', () => {
  let certs: TestCertificates;
  let server: RunningServer;
  before(async () => {
    certs = createTestCertificates(await tempDir());
    server = await serve(
      { handshakeTimeoutMs: 1000 },
      ServerCredentials.createSsl(null, [{ cert_chain: certs.serverCert, private_key: certs.serverKey }], false),
    );
  });
  after(async () => {
    await server.shutdown(1000);
  });

  test('a TCP connection that never starts TLS is destroyed by the handshake timeout, not counted a TLS failure', async () => {
    const before = server.defenceCounts();
    assert.equal(await within(rawSocket(server), 'close'), true);
    const counts = server.defenceCounts();
    assert.equal(counts.handshakeTimeouts, before.handshakeTimeouts + 1);
    assert.equal(counts.tlsHandshakeFailures, before.tlsHandshakeFailures);
  });

  test('a plaintext HTTP/2 client and garbage are failed TLS handshakes, counted', async () => {
    const before = server.defenceCounts();
    assert.equal(await within(rawSocket(server, Buffer.concat([PREFACE, SETTINGS])), 'close'), true);
    assert.equal(await within(rawSocket(server, Buffer.from('\x16\x03\x01\x00\x05hello')), 'close'), true);
    const counts = server.defenceCounts();
    assert.equal(counts.tlsHandshakeFailures, before.tlsHandshakeFailures + 2);
    assert.equal(counts.handshakeTimeouts, before.handshakeTimeouts);
  });

  test('a TLS client that finishes the handshake and sends nothing more is destroyed by the handshake timeout', async () => {
    const before = server.defenceCounts();
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: server.port,
      ca: certs.ca,
      ALPNProtocols: ['h2'],
      checkServerIdentity: () => undefined,
    });
    socket.on('error', () => undefined);
    socket.resume();
    assert.equal(await within(socket, 'close'), true);
    const counts = server.defenceCounts();
    assert.equal(counts.handshakeTimeouts, before.handshakeTimeouts + 1);
    assert.equal(counts.tlsHandshakeFailures, before.tlsHandshakeFailures);
  });

  test('a TLS client that finished the handshake outlives the handshake timeout; a TLS gRPC client is served', async () => {
    const before = server.defenceCounts();
    const session = connect(`https://127.0.0.1:${server.port}`, { ca: certs.ca, checkServerIdentity: () => undefined });
    session.on('error', () => undefined);
    assert.equal(await within(session, 'localSettings'), true);
    // Opened after it, so closed after its handshake clock ran out.
    assert.equal(await within(rawSocket(server), 'close'), true);
    assert.equal(session.closed || session.destroyed, false);
    assert.equal(server.defenceCounts().handshakeTimeouts, before.handshakeTimeouts + 1);
    session.close();
    assert.equal(await echo(server, 'over tls', ChannelCredentials.createSsl(certs.ca)), 'over tls');
  });
});

describe('connection caps', () => {
  test('connections over the per-peer cap, then over the server-wide cap, are closed at once and counted', async () => {
    // Loopback takes any 127.x.y.z as a source address: three peers.
    const server = await serve({ maxConnections: 3, maxConnectionsPerPeer: 2 });
    const clients: Client[] = [];
    const open = async (localAddress: string) => {
      const client = http2Client(server, localAddress);
      clients.push(client);
      return handshake(client);
    };
    try {
      assert.equal(await open('127.0.0.1'), true);
      assert.equal(await open('127.0.0.1'), true);
      assert.equal(await open('127.0.0.1'), false);
      assert.equal(server.defenceCounts().connectionsRefused, 1);
      assert.equal(await open('127.0.0.2'), true);
      assert.equal(await open('127.0.0.3'), false);
      assert.equal(server.defenceCounts().connectionsRefused, 2);
      // A place freed is taken again (the server sees the close after the client: a few attempts).
      const first = clients[0];
      assert.ok(first);
      first.session.destroy();
      let reopened = false;
      for (let attempt = 0; attempt < 50 && !reopened; attempt++) reopened = await open('127.0.0.3');
      assert.equal(reopened, true);
    } finally {
      for (const { session } of clients) session.destroy();
      await server.shutdown(1000);
    }
  });
});

describe('rapid reset', () => {
  /** Opens streams and resets each at once (HEADERS, RST_STREAM CANCEL) on one connection, up to `most` or the end. */
  async function resetFlood(client: Client, most: number): Promise<number> {
    let sent = 0;
    for (; sent < most && !client.session.closed && !client.session.destroyed; sent++) {
      const stream = echoStream(client);
      stream.close(constants.NGHTTP2_CANCEL);
      // Lets the frames out and the server's answer in.
      if (sent % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
    }
    return sent;
  }

  test('past the reset budget the connection gets GOAWAY ENHANCE_YOUR_CALM too_many_resets, its address is refused for the penalty; another client is served', async () => {
    const server = await serve({ streamResets: { burst: 20, perSecond: 1 } });
    try {
      const attacker = http2Client(server, '127.0.0.2');
      assert.equal(await handshake(attacker), true);
      const closed = within(attacker.session, 'close');
      await resetFlood(attacker, 5000);
      assert.equal(await closed, true);
      assert.deepEqual(attacker.goaway, { code: constants.NGHTTP2_ENHANCE_YOUR_CALM, data: 'too_many_resets' });
      assert.equal(server.defenceCounts().rapidResetGoaways, 1);
      // Reconnecting at once from the same address: closed as soon as it is accepted (the default 10 s penalty).
      const again = http2Client(server, '127.0.0.2');
      assert.equal(await handshake(again), false);
      assert.equal(server.defenceCounts().connectionsRefused, 1);
      assert.equal(await echo(server, 'after the flood'), 'after the flood');
    } finally {
      await server.shutdown(1000);
    }
  });

  test('penaltyMs 0: the address may reconnect at once, with a fresh budget', async () => {
    const server = await serve({ streamResets: { burst: 20, perSecond: 1, penaltyMs: 0 } });
    try {
      const attacker = http2Client(server, '127.0.0.2');
      assert.equal(await handshake(attacker), true);
      const closed = within(attacker.session, 'close');
      await resetFlood(attacker, 5000);
      assert.equal(await closed, true);
      const again = http2Client(server, '127.0.0.2');
      assert.equal(await handshake(again), true);
      assert.equal(server.defenceCounts().connectionsRefused, 0);
      again.session.close();
    } finally {
      await server.shutdown(1000);
    }
  });

  test('resets at the deadline of their calls (an overloaded server, not an attack) take nothing from the budget', async () => {
    const server = await serve({ streamResets: { burst: 20, perSecond: 1 } });
    try {
      const client = http2Client(server);
      assert.equal(await handshake(client), true);
      // 100 calls with a 200 ms deadline, each reset by the client at 190 ms, as a client's deadline timer does: its
      // clock started before the server's. A call the server has already answered DEADLINE_EXCEEDED is not reset.
      const streams = Array.from({ length: 100 }, () => {
        const stream = client.session.request({
          ':method': 'POST',
          ':path': '/test.v1.EchoService/Echo',
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': '200m',
        });
        stream.on('error', () => undefined);
        return stream;
      });
      // The server starts each call's clock when it reads the headers: a ping answered after them bounds that time,
      // so the resets below come at least 190 ms after it on the server's clock too, however loaded the machine.
      await new Promise<void>((resolve) => client.session.ping(() => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 190));
      for (const stream of streams) stream.close(constants.NGHTTP2_CANCEL);
      // A ping answered after the resets were read: the server has seen them all.
      await new Promise<void>((resolve) => client.session.ping(() => resolve()));
      assert.equal(client.goaway.code, undefined);
      assert.equal(server.defenceCounts().rapidResetGoaways, 0);
      client.session.close();
    } finally {
      await server.shutdown(1000);
    }
  });

  test('a client that cancels some calls stays within the default budget', async () => {
    const server = await serve({});
    try {
      const client = http2Client(server);
      assert.equal(await handshake(client), true);
      assert.equal(await resetFlood(client, 100), 100);
      // A ping answered after the resets were read: the server has seen them all.
      await new Promise<void>((resolve) => client.session.ping(() => resolve()));
      assert.equal(client.session.closed || client.session.destroyed, false);
      assert.equal(client.goaway.code, undefined);
      assert.equal(server.defenceCounts().rapidResetGoaways, 0);
      client.session.close();
    } finally {
      await server.shutdown(1000);
    }
  });
});
