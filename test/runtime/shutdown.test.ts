import assert from 'node:assert/strict';
import { connect, constants as http2Constants, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import {
  ClientError,
  Status,
  closeServiceClient,
  createLogStore,
  createServiceClient,
  defineService,
  startServer,
  type CallRecord,
  type LogStore,
} from '../../packages/runtime/src/index.ts';
import { tempDir } from '../helpers/workspace.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';

interface EchoClient {
  echo(request: EchoMessage): Promise<EchoMessage>;
  repeat(request: EchoMessage): AsyncIterable<EchoMessage>;
}

// Graceful shutdown with streams that never end on their own (a watch): they are ended with UNAVAILABLE when the
// drain starts, so the drain does not wait its whole time, while unary calls in flight still finish.
describe('shutdown ends response streams', () => {
  test('a watch stream ends with UNAVAILABLE at once, an in-flight unary call still answers, the drain is short', async () => {
    const rows: CallRecord[] = [];
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      recordCall: (call) => rows.push(call),
      services: [
        defineService(EchoDefinition, {
          echo: async (request) => {
            await sleep(request.delayMs ?? 0);
            return { text: request.text ?? '' };
          },
          repeat: async function* (request, { signal }) {
            for (let i = 0; ; i++) {
              yield { text: `${request.text ?? ''} ${i}` };
              await sleep(200, undefined, { signal });
            }
          },
          collect: async () => ({}),
          chat: async function* () {},
        }),
      ],
    });
    const client = createServiceClient(EchoDefinition, { target: server.address, retry: false }) as EchoClient;
    const received: string[] = [];
    const stream = (async () => {
      for await (const message of client.repeat({ text: 'tick' })) received.push(message.text ?? '');
    })();
    stream.catch(() => {}); // asserted below; no unhandled rejection meanwhile
    while (received.length === 0) await sleep(10);
    const unary = client.echo({ text: 'slow', delayMs: 300 });
    await sleep(50);
    const started = Date.now();
    const outcome = await server.shutdown(5000);
    const took = Date.now() - started;
    await assert.rejects(stream, (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(Status[error.code], 'UNAVAILABLE');
      assert.equal(error.details, 'the server is shutting down');
      return true;
    });
    assert.deepEqual(await unary, { text: 'slow' }, 'a unary call in flight gets the drain time');
    assert.equal(outcome, 'drained');
    assert.ok(took < 2000, `the drain took ${took} ms`);
    assert.ok(
      rows.some((row) => row.method === 'Repeat' && Status[row.statusCode] === 'UNAVAILABLE'),
      'the log store records the stream as UNAVAILABLE',
    );
    closeServiceClient(client);
  });

  test('health Watch reports NOT_SERVING, then ends, so a watching load balancer does not hold the drain', async () => {
    const server = await startServer({ host: '127.0.0.1', port: 0, services: [] });
    const channel = createChannel(server.address);
    const health = createClient(HealthDefinition, channel);
    // grpc.health.v1 ServingStatus numbers: 1 SERVING, 2 NOT_SERVING.
    const statuses: number[] = [];
    const watch = (async () => {
      for await (const response of health.watch({ service: '' })) statuses.push(response.status);
    })();
    watch.catch(() => {}); // asserted below
    while (statuses.length === 0) await sleep(10);
    const started = Date.now();
    assert.equal(await server.shutdown(5000), 'drained');
    assert.ok(Date.now() - started < 2000);
    await assert.rejects(watch, (error: unknown) => error instanceof ClientError && Status[error.code] === 'UNAVAILABLE');
    assert.deepEqual(statuses, [1, 2], 'SERVING, then NOT_SERVING before the stream ends');
    channel.close();
  });
});

interface StreamingEchoClient {
  collect(requests: AsyncIterable<EchoMessage>): Promise<EchoMessage>;
  chat(requests: AsyncIterable<EchoMessage>): AsyncIterable<EchoMessage>;
  repeat(request: EchoMessage): AsyncIterable<EchoMessage>;
}

/** The drain time given to shutdown: what `serve` gives by default. A call it had to wait for would take all of it. */
const DRAIN_MS = 10_000;
/** Servers started, stopped and checked per kind: shutdown racing a call's messages, with no failure allowed. */
const ROUNDS = 20;

/** One request, then none until `hold` aborts: the client's side of its request stream stays open. */
async function* oneRequestThenHold(hold: AbortSignal): AsyncGenerator<EchoMessage> {
  yield { text: 'u1' };
  await new Promise((resolve) => hold.addEventListener('abort', resolve, { once: true }));
}

// A handler that waits on its request stream (the example's SyncUsers: `for await (const request of requests)`) never
// sees the aborted signal; the runtime ends its request stream at shutdown, so neither bidi nor client-streaming
// calls hold the drain, and they end as server-streaming ones do: UNAVAILABLE, recorded as such.
describe('shutdown ends calls whose handlers wait on their request stream', { timeout: 120_000 }, () => {
  let store: LogStore;

  before(async () => {
    store = await createLogStore({ url: `sqlite:${join(await tempDir(), 'shutdown.db')}`, flushIntervalMs: 10 });
  });

  after(async () => {
    await store.close();
  });

  /** Requests the handler took, by round: the client waits for the first before the server shuts down. */
  let received = 0;
  const handlers = {
    echo: async () => ({}),
    // Chat and Collect ignore the signal, as the example's SyncUsers does: only the end of their requests stops them.
    repeat: async function* (request: EchoMessage, { signal }: { signal: AbortSignal }) {
      for (let i = 0; ; i++) {
        yield { text: `${request.text ?? ''} ${i}` };
        await sleep(50, undefined, { signal });
      }
    },
    collect: async (requests: AsyncIterable<EchoMessage>) => {
      const texts: string[] = [];
      for await (const request of requests) {
        received++;
        texts.push(request.text ?? '');
      }
      return { text: texts.join(',') };
    },
    chat: async function* (requests: AsyncIterable<EchoMessage>) {
      for await (const request of requests) {
        received++;
        yield { text: request.text ?? '' };
      }
    },
  };

  /** Starts a call of `method` that is in its handler and will not end on its own; `outcome` is its error. */
  const open = async (client: StreamingEchoClient, method: 'Chat' | 'Collect' | 'Repeat', hold: AbortSignal) => {
    received = 0;
    let responses = 0;
    const call =
      method === 'Collect'
        ? client.collect(oneRequestThenHold(hold))
        : (async () => {
            const stream = method === 'Chat' ? client.chat(oneRequestThenHold(hold)) : client.repeat({ text: 'tick' });
            const iterator = stream[Symbol.asyncIterator]();
            while (!(await iterator.next()).done) responses++;
          })();
    const outcome = call.then(
      () => undefined,
      (error: unknown) => error,
    );
    while ((method === 'Repeat' ? responses : received) === 0) await sleep(5);
    // Wrapped: an async function would wait for a promise it returns.
    return { outcome };
  };

  for (const method of ['Chat', 'Collect', 'Repeat'] as const) {
    test(`${method}: the client gets UNAVAILABLE, the drain does not wait, the row says UNAVAILABLE (${ROUNDS} rounds)`, async () => {
      const before = (await store.logs.list({ method, limit: 1000 })).length;
      for (let round = 0; round < ROUNDS; round++) {
        const server = await startServer({
          host: '127.0.0.1',
          port: 0,
          health: false,
          recordCall: store.logs.record,
          services: [defineService(EchoDefinition, handlers)],
        });
        const client = createServiceClient(EchoDefinition, { target: server.address, retry: false }) as StreamingEchoClient;
        const hold = new AbortController();
        try {
          const { outcome } = await open(client, method, hold.signal);
          const started = Date.now();
          const result = await server.shutdown(DRAIN_MS);
          const took = Date.now() - started;
          assert.equal(result, 'drained', `round ${round}: no call was left to cancel`);
          assert.ok(took < DRAIN_MS / 2, `round ${round}: the drain took ${took} ms of ${DRAIN_MS}`);
          const error = await outcome;
          assert.ok(error instanceof ClientError, `round ${round}: ${String(error)}`);
          assert.deepEqual([Status[error.code], error.details], ['UNAVAILABLE', 'the server is shutting down'], `round ${round}`);
        } finally {
          hold.abort();
          closeServiceClient(client);
        }
      }
      await store.flush();
      const rows = await store.logs.list({ method, limit: 1000 });
      assert.equal(rows.length - before, ROUNDS, 'one row per call');
      assert.deepEqual(
        rows.slice(0, ROUNDS).map((row) => row.statusCode),
        Array.from({ length: ROUNDS }, () => Status.UNAVAILABLE),
      );
    });
  }

  test('a client-streaming call whose requests were all read drains like a unary call: it answers OK', async () => {
    let readAll = () => {};
    const isAllRead = new Promise<void>((resolve) => (readAll = resolve));
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      health: false,
      recordCall: store.logs.record,
      services: [
        defineService(EchoDefinition, {
          ...handlers,
          collect: async (requests: AsyncIterable<EchoMessage>) => {
            const texts: string[] = [];
            for await (const request of requests) texts.push(request.text ?? '');
            readAll();
            await sleep(300); // work after the last request, as an import's commit: the drain waits for it
            return { text: texts.join(',') };
          },
        }),
      ],
    });
    const client = createServiceClient(EchoDefinition, { target: server.address, retry: false }) as StreamingEchoClient;
    try {
      const response = client.collect(
        (async function* () {
          yield { text: 'a' };
          yield { text: 'b' };
        })(),
      );
      await isAllRead;
      assert.equal(await server.shutdown(DRAIN_MS), 'drained');
      assert.deepEqual(await response, { text: 'a,b' });
      await store.flush();
      const [row] = await store.logs.list({ method: 'Collect', limit: 1 });
      assert.equal(Status[row!.statusCode], 'OK');
    } finally {
      closeServiceClient(client);
    }
  });
});

// A client that keeps its request stream open after the status (buf curl reading a terminal does): grpc-js would
// leave the stream half-open, and the connection, so the drain, open until its time is up. The server resets the
// stream without error once the client had time to read the trailers, which it gets whole first. Go's HTTP/2 client
// resets its side itself once it read the status: the call is still recorded with the status it read.
describe('shutdown with a client that keeps sending after the status', { timeout: 60_000 }, () => {
  /** Rounds of: a raw HTTP/2 bidi call that never ends its side, shutdown, the client's events and the call's row. */
  const run = async (round: number, onTrailers: (stream: ClientHttp2Stream) => void) => {
    const rows: CallRecord[] = [];
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      health: false,
      recordCall: (call) => rows.push(call),
      services: [
        defineService(EchoDefinition, {
          echo: async () => ({}),
          repeat: async function* () {},
          collect: async () => ({}),
          chat: async function* (requests) {
            for await (const request of requests) yield { text: request.text ?? '' };
          },
        }),
      ],
    });
    const session = connect(`http://${server.address}`);
    try {
      const stream = session.request(
        { ':method': 'POST', ':path': '/test.v1.EchoService/Chat', 'content-type': 'application/grpc', te: 'trailers' },
        { endStream: false },
      );
      const events: string[] = [];
      const answered = new Promise<void>((resolve) => stream.once('data', () => resolve()));
      const closed = new Promise<void>((resolve) => {
        stream.on('trailers', (trailers: IncomingHttpHeaders) => {
          events.push(`trailers ${String(trailers['grpc-status'])} ${String(trailers['grpc-message'])}`);
          onTrailers(stream);
        });
        stream.on('close', () => {
          events.push(`close ${stream.rstCode}`);
          resolve();
        });
      });
      stream.resume();
      stream.write(frame({ text: 'u1' })); // and never ends its side
      await answered;
      assert.equal(await server.shutdown(DRAIN_MS), 'drained', `round ${round}`);
      await closed;
      return { events, rows };
    } finally {
      session.destroy();
    }
  };
  const trailers = `trailers ${Status.UNAVAILABLE} the%20server%20is%20shutting%20down`;

  test('the client reads UNAVAILABLE in the trailers, then the stream is reset with NO_ERROR; the drain is not forced (5 rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const { events, rows } = await run(round, () => {});
      assert.deepEqual(events, [trailers, `close ${http2Constants.NGHTTP2_NO_ERROR}`], `round ${round}`);
      assert.deepEqual(
        rows.map((row) => Status[row.statusCode]),
        ['UNAVAILABLE'],
        `round ${round}`,
      );
    }
  });

  test('a client that resets its stream (CANCEL) once it read the status is recorded with that status (20 rounds)', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { events, rows } = await run(round, (stream) => stream.close(http2Constants.NGHTTP2_CANCEL));
      assert.deepEqual(events, [trailers, `close ${http2Constants.NGHTTP2_CANCEL}`], `round ${round}`);
      assert.deepEqual(
        rows.map((row) => [Status[row.statusCode], row.errorMessage]),
        [['UNAVAILABLE', 'the server is shutting down']],
        `round ${round}`,
      );
    }
  });
});

/** One gRPC message of the JSON echo service: the 5-byte prefix and the message. */
function frame(message: EchoMessage): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}
