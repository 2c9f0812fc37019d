import assert from 'node:assert/strict';
import { connect, constants as http2Constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { defineService, startServer, Status, type CallRecord, type RunningServer } from '../../packages/runtime/src/index.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';

// grpc-timeout read exactly as gRPC's PROTOCOL-HTTP2.md says, by grpc-js and by the accounting alike; deadlines past
// 2^31 ms (about 24.9 days), which grpc-js's timer cannot hold, still work; streams the client resets before any
// handler took them are counted, not stored.

/** One gRPC frame: the 5-byte prefix and the message. */
function frame(message: EchoMessage): Buffer {
  const bytes = Buffer.from(JSON.stringify(message));
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

const ECHO = '/test.v1.EchoService/Echo';

/** An HTTP/2 frame: length, type, flags, stream id, payload (RFC 9113 section 4.1). */
function h2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK literal fields without indexing, new names, no Huffman (RFC 7541 section 6.2.2); short strings only. */
function hpack(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(
    fields.flatMap(([name, value]) => [
      Buffer.from([0, name.length]),
      Buffer.from(name),
      Buffer.from([value.length]),
      Buffer.from(value),
    ]),
  );
}

/**
 * What a rapid-reset client sends (CVE-2023-44487), which node:http2's client cannot (it ends a stream before it
 * resets it): on one connection, `count` times HEADERS without END_STREAM and at once RST_STREAM CANCEL.
 */
async function rapidReset(port: number, path: string, count: number): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), h2Frame(4, 0, 0, Buffer.alloc(0))]));
  // The server's SETTINGS came first: acknowledge it.
  await once(socket, 'data');
  const headers = hpack([
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', '127.0.0.1'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ]);
  const cancel = Buffer.alloc(4);
  cancel.writeUInt32BE(http2Constants.NGHTTP2_CANCEL);
  const frames = [h2Frame(4, 1, 0, Buffer.alloc(0))];
  for (let i = 0; i < count; i++) {
    const id = 2 * i + 1;
    frames.push(h2Frame(1, 0x4, id, headers), h2Frame(3, 0, id, cancel));
  }
  socket.on('data', () => {});
  socket.on('error', () => {});
  socket.write(Buffer.concat(frames));
  return socket;
}

describe('grpc-timeout and resets', { timeout: 60_000 }, () => {
  const rows: CallRecord[] = [];
  let server: RunningServer;
  let session: ClientHttp2Session;

  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      recordCall: (call) => rows.push(call),
      health: false,
      reflection: false,
      services: [
        defineService(EchoDefinition, {
          echo: async (request: EchoMessage) => {
            await sleep(request.delayMs ?? 0);
            return { text: request.text ?? '' };
          },
          repeat: async function* () {},
          collect: async () => ({}),
          chat: async function* () {},
        }),
      ],
    });
    session = connect(`http://${server.address}`);
  });

  after(async () => {
    session.close();
    await server.shutdown(1000);
  });

  /** A unary call with `timeout` as grpc-timeout; the status and message the client read. */
  const call = async (timeout: string, message: EchoMessage = { text: 'hi' }) => {
    const stream = session.request(
      { ':method': 'POST', ':path': ECHO, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': timeout },
      { endStream: false },
    );
    stream.end(frame(message));
    return await new Promise<{ status: number | undefined; message: string }>((resolve) => {
      const done = (headers: IncomingHttpHeaders) => {
        if (headers['grpc-status'] === undefined) return;
        resolve({ status: Number(headers['grpc-status']), message: decodeURI(String(headers['grpc-message'] ?? '')) });
      };
      stream.on('response', done);
      stream.on('trailers', done);
      stream.on('close', () => resolve({ status: undefined, message: '' }));
      stream.resume();
    });
  };

  /** The record of the next call, once there are `count`. */
  const recorded = async (count: number): Promise<CallRecord> => {
    for (let i = 0; i < 300 && rows.length < count; i++) await sleep(10);
    assert.equal(rows.length, count, JSON.stringify(rows.slice(count - 1)));
    return rows.at(-1)!;
  };

  for (const malformed of ['+1S', '1.5S', '100000000S', '1 S', '1s', 'S', '-1m', '1SS']) {
    test(`a malformed grpc-timeout ${JSON.stringify(malformed)} is answered INTERNAL and recorded so`, async () => {
      const count = rows.length + 1;
      const { status, message } = await call(malformed);
      assert.equal(status, Status.INTERNAL);
      assert.match(message, /malformed grpc-timeout/);
      const row = await recorded(count);
      assert.deepEqual([row.method, Status[row.statusCode]], ['Echo', 'INTERNAL']);
    });
  }

  for (const valid of ['2200000S', '30000000S', '99999999H']) {
    test(`a deadline past 2^31 ms (grpc-timeout ${valid}) works: the call is OK, and recorded OK`, async () => {
      const count = rows.length + 1;
      const { status } = await call(valid, { text: 'far', delayMs: 20 });
      assert.equal(status, Status.OK);
      const row = await recorded(count);
      assert.deepEqual([row.method, Status[row.statusCode]], ['Echo', 'OK']);
    });
  }

  test('a valid short grpc-timeout still reaches grpc-js: the deadline passes, DEADLINE_EXCEEDED', async () => {
    const count = rows.length + 1;
    const { status } = await call('50m', { text: 'slow', delayMs: 1000 });
    assert.equal(status, Status.DEADLINE_EXCEEDED);
    assert.equal(Status[(await recorded(count)).statusCode], 'DEADLINE_EXCEEDED');
  });

  test('a call with a deadline 347 days away that the client resets is CANCELLED: the accounting reads the same deadline', async () => {
    const count = rows.length + 1;
    const stream = session.request(
      { ':method': 'POST', ':path': ECHO, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '30000000S' },
      { endStream: false },
    );
    stream.end(frame({ text: 'slow', delayMs: 300 }));
    await sleep(100);
    stream.close(http2Constants.NGHTTP2_CANCEL);
    const row = await recorded(count);
    assert.deepEqual([row.method, Status[row.statusCode]], ['Echo', 'CANCELLED']);
  });

  test('50 streams reset right after their HEADERS (rapid reset) are counted as streamsReset, not stored', async () => {
    const before = rows.length;
    const counted = server.defenceCounts().streamsReset;
    const socket = await rapidReset(server.port, ECHO, 50);
    for (let i = 0; i < 300 && server.defenceCounts().streamsReset < counted + 50; i++) await sleep(10);
    socket.destroy();
    assert.equal(server.defenceCounts().streamsReset, counted + 50);
    // Counted in the turn a row would have been recorded in: none can come later.
    assert.equal(rows.length, before, JSON.stringify(rows.slice(before)));
  });
});
