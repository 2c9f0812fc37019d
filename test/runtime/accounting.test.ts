import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createChannel, createClient } from 'nice-grpc';
import {
  ClientError,
  Status,
  closeServiceClient,
  createServiceClient,
  defineService,
  startServer,
  createLogStore,
  type CallRecord,
  type LogStore,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { tempDir } from '../helpers/workspace.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';

// Every call the server receives is one record, with the status its client saw: calls the client cancels after the
// handler's input ended normally, deadlines grpc-js enforces, and calls grpc-js answers before any method runs.

interface EchoClient {
  echo(request: EchoMessage, options?: { signal?: AbortSignal }): Promise<EchoMessage>;
  chat(requests: AsyncIterable<EchoMessage>, options?: { signal?: AbortSignal }): AsyncIterable<EchoMessage>;
}

/** Reads a response stream to its end. */
async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  const iterator = stream[Symbol.asyncIterator]();
  while (!(await iterator.next()).done) {
    // discard the message
  }
}

/** Requests that never end on their own: the client cancels first. */
async function* forever(): AsyncGenerator<EchoMessage> {
  for (let i = 0; ; i++) {
    yield { text: `r${i}` };
    await sleep(20);
  }
}

const MAX_REQUEST_BYTES = 1024;
const toJson = (message: unknown) => Buffer.from(JSON.stringify(message));
const fromJson = (bytes: Buffer) => JSON.parse(bytes.toString('utf8') || '{}') as EchoMessage;

/** A definition of paths the server does not serve (an unknown method of a known service, an unknown service). */
const UnknownDefinition = {
  name: 'EchoService',
  fullName: 'test.v1.EchoService',
  methods: {
    missing: { ...EchoDefinition.methods.echo, name: 'Missing' },
  },
} as const;
const UnknownServiceDefinition = { ...UnknownDefinition, name: 'Nope', fullName: 'test.v1.Nope' } as const;

/** Echo answers after `delayMs` (ignoring the abort meanwhile); chat answers each request. */
const echoHandlers = {
  echo: async (request: EchoMessage) => {
    await sleep(request.delayMs ?? 0);
    return { text: request.text ?? '' };
  },
  repeat: async function* () {},
  collect: async () => ({}),
  chat: async function* (requests: AsyncIterable<EchoMessage>) {
    for await (const request of requests) yield { text: request.text ?? '' };
  },
};

/** One gRPC frame: the 5-byte prefix and the message. */
function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

describe('call accounting', { timeout: 30_000 }, () => {
  const rows: CallRecord[] = [];
  let store: LogStore;
  let server: RunningServer;
  let client: EchoClient;
  let raw: grpc.Client;

  before(async () => {
    // Every record also goes to a real store (a file, its writer thread): its statistics must equal what clients saw.
    store = await createLogStore({ url: `sqlite:${join(await tempDir(), 'accounting.db')}`, flushIntervalMs: 10 });
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      recordCall: (call) => {
        rows.push(call);
        store.logs.record(call);
      },
      maxReceiveMessageBytes: MAX_REQUEST_BYTES,
      health: false,
      reflection: false,
      services: [defineService(EchoDefinition, echoHandlers)],
    });
    client = createServiceClient(EchoDefinition, { target: server.address, retry: false });
    // grpc-js's own client: it sends the deadline as grpc-timeout (nice-grpc's deadline middleware only aborts).
    raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
  });

  after(async () => {
    closeServiceClient(client);
    raw.close();
    await server.shutdown(1000);
    await store.close();
  });

  /** The next record, once there are `count`. */
  const recorded = async (count: number): Promise<CallRecord> => {
    for (let i = 0; i < 200 && rows.length < count; i++) await sleep(10);
    assert.equal(rows.length, count, JSON.stringify(rows.slice(count - 1)));
    return rows.at(-1)!;
  };

  test('bidi: the client breaks out after the first response: CANCELLED', async () => {
    const count = rows.length + 1;
    for await (const response of client.chat(forever())) {
      assert.equal(response.text, 'r0');
      break;
    }
    const row = await recorded(count);
    assert.deepEqual([row.method, row.kind, Status[row.statusCode]], ['Chat', 'bidiStreaming', 'CANCELLED']);
    assert.ok(row.responseMessages >= 1);
  });

  test('bidi: the client aborts its signal after the first response: CANCELLED', async () => {
    const count = rows.length + 1;
    const controller = new AbortController();
    await assert.rejects(async () => {
      for await (const response of client.chat(forever(), { signal: controller.signal })) {
        assert.equal(response.text, 'r0');
        controller.abort();
      }
    });
    assert.equal(Status[(await recorded(count)).statusCode], 'CANCELLED');
  });

  test('unary: the client deadline (grpc-timeout) passes: DEADLINE_EXCEEDED, not CANCELLED', async () => {
    const count = rows.length + 1;
    const error = await new Promise<grpc.ServiceError | null>((resolve) => {
      raw.makeUnaryRequest(
        '/test.v1.EchoService/Echo',
        toJson,
        fromJson,
        { text: 'slow', delayMs: 1000 },
        new grpc.Metadata(),
        { deadline: Date.now() + 300 },
        (err) => resolve(err),
      );
    });
    assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
    const row = await recorded(count);
    assert.deepEqual([row.method, Status[row.statusCode]], ['Echo', 'DEADLINE_EXCEEDED']);
  });

  test('bidi: the client deadline (grpc-timeout) passes: DEADLINE_EXCEEDED', async () => {
    const count = rows.length + 1;
    const call = raw.makeBidiStreamRequest('/test.v1.EchoService/Chat', toJson, fromJson, new grpc.Metadata(), {
      deadline: Date.now() + 300,
    });
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('data', () => {});
    call.on('error', () => {});
    const writer = setInterval(() => call.write({ text: 'tick' }), 20);
    const { code } = await status;
    clearInterval(writer);
    assert.equal(code, grpc.status.DEADLINE_EXCEEDED);
    const row = await recorded(count);
    assert.deepEqual([row.method, Status[row.statusCode]], ['Chat', 'DEADLINE_EXCEEDED']);
  });

  test('an unknown method and an unknown service are recorded as UNIMPLEMENTED, kind unknown, in their buckets', async () => {
    const channel = createChannel(server.address);
    try {
      for (const [definition, service, method, rawPath] of [
        [UnknownDefinition, 'test.v1.EchoService', '_unknown', '/test.v1.EchoService/Missing'],
        [UnknownServiceDefinition, '_unknown', '_unknown', '/test.v1.Nope/Missing'],
      ] as const) {
        const count = rows.length + 1;
        const unknown = createClient(definition, channel) as unknown as { missing(request: EchoMessage): Promise<unknown> };
        await assert.rejects(unknown.missing({ text: 'x' }), (error: unknown) => {
          assert.ok(error instanceof ClientError);
          assert.equal(Status[error.code], 'UNIMPLEMENTED');
          return true;
        });
        const row = await recorded(count);
        assert.deepEqual(
          [row.service, row.method, row.kind, Status[row.statusCode], row.principal],
          [service, method, 'unknown', 'UNIMPLEMENTED', null],
        );
        assert.equal(row.rawPath, rawPath);
        assert.match(row.errorMessage ?? '', /does not implement the method/);
        assert.match(row.peer ?? '', /^127\.0\.0\.1:\d+$/);
        assert.ok(row.durationMs >= 0);
        assert.match(row.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      }
    } finally {
      channel.close();
    }
  });

  test('a unary request over maxReceiveMessageBytes is recorded as RESOURCE_EXHAUSTED under its method', async () => {
    const count = rows.length + 1;
    await assert.rejects(client.echo({ text: 'x'.repeat(MAX_REQUEST_BYTES) }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(Status[error.code], 'RESOURCE_EXHAUSTED');
      return true;
    });
    const row = await recorded(count);
    assert.deepEqual([row.method, row.kind, Status[row.statusCode]], ['Echo', 'unary', 'RESOURCE_EXHAUSTED']);
    assert.equal(rows.length, count, 'recorded once');
  });

  test('an oversize message on a bidi stream (the handler had started) is RESOURCE_EXHAUSTED, once', async () => {
    const count = rows.length + 1;
    async function* big() {
      yield { text: 'small' };
      await sleep(20);
      yield { text: 'x'.repeat(MAX_REQUEST_BYTES) };
    }
    await assert.rejects(drain(client.chat(big())));
    const row = await recorded(count);
    assert.deepEqual([row.method, Status[row.statusCode]], ['Chat', 'RESOURCE_EXHAUSTED']);
    await sleep(50);
    assert.equal(rows.length, count, 'recorded once');
  });

  test('a deadline that passed before the request arrived is DEADLINE_EXCEEDED under its method', async () => {
    const session: ClientHttp2Session = connect(`http://${server.address}`);
    try {
      const headers = {
        ':method': 'POST',
        ':path': '/test.v1.EchoService/Echo',
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': '0m',
      };
      // Headers only (the request never completes, no handler runs), then a whole request.
      for (const body of [undefined, frame(toJson({ text: 'late' }))]) {
        const count = rows.length + 1;
        const stream = session.request(headers, { endStream: false });
        if (body) stream.end(body);
        const status = await new Promise<string | undefined>((resolve) => {
          stream.on('response', (response: IncomingHttpHeaders) => {
            if (response['grpc-status'] !== undefined) resolve(String(response['grpc-status']));
          });
          stream.on('trailers', (trailers: IncomingHttpHeaders) => resolve(String(trailers['grpc-status'])));
          stream.on('close', () => resolve(undefined));
          stream.resume();
        });
        assert.equal(status, String(Status.DEADLINE_EXCEEDED));
        stream.close();
        const row = await recorded(count);
        assert.deepEqual([row.method, row.kind, Status[row.statusCode]], ['Echo', 'unary', 'DEADLINE_EXCEEDED']);
      }
    } finally {
      session.close();
    }
  });

  test('health and reflection are not recorded; an ordinary call is recorded once, OK', async () => {
    const count = rows.length + 1;
    assert.deepEqual(await client.echo({ text: 'hi' }), { text: 'hi' });
    const row = await recorded(count);
    assert.deepEqual([row.method, Status[row.statusCode], row.errorMessage], ['Echo', 'OK', null]);
    await sleep(50);
    assert.equal(rows.length, count);
  });

  test('the store counts every call as its client saw it: stats by status and by method equal the records', async () => {
    await store.flush();
    const byStatus = new Map<number, number>();
    for (const row of rows) byStatus.set(row.statusCode, (byStatus.get(row.statusCode) ?? 0) + 1);
    const summary = await store.statistics.summary({ since: 0 });
    assert.equal(summary.calls, rows.length);
    assert.deepEqual(
      summary.byStatus.map((entry) => [Status[entry.statusCode], entry.calls]),
      [...byStatus].sort(([a], [b]) => a - b).map(([code, calls]) => [Status[code], calls]),
    );
    const methods = await store.statistics.methods({ since: 0 });
    const codesOf = (service: string, method: string) =>
      methods
        .find((entry) => entry.service === service && entry.method === method)
        ?.byStatus.map((entry) => Status[entry.statusCode]);
    assert.deepEqual(codesOf('test.v1.EchoService', '_unknown'), ['UNIMPLEMENTED']);
    assert.deepEqual(codesOf('_unknown', '_unknown'), ['UNIMPLEMENTED']);
    assert.ok(codesOf('test.v1.EchoService', 'Echo')?.includes('RESOURCE_EXHAUSTED'));
    assert.ok(codesOf('test.v1.EchoService', 'Echo')?.includes('DEADLINE_EXCEEDED'));
    const cancelled = await store.logs.list({ method: 'Chat', statusCode: Status.CANCELLED });
    assert.equal(cancelled.length, 2, 'both cancelled bidi calls are CANCELLED in logs');
    assert.deepEqual(store.counters().droppedBy, { queueFull: 0, writeError: 0, storeGone: 0 });
  });
});

describe('shutdown', { timeout: 30_000 }, () => {
  test('a forced shutdown resolves once the calls it cancelled are recorded', async () => {
    const rows: CallRecord[] = [];
    // Shutdown starts once every call is in its handler (a fixed sleep lost that race on a loaded machine: the server
    // then had nothing in flight and drained at once).
    let arrived = 0;
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      recordCall: (call) => rows.push(call),
      health: false,
      reflection: false,
      services: [
        defineService(EchoDefinition, {
          ...echoHandlers,
          echo: (request) => {
            arrived++;
            return echoHandlers.echo(request);
          },
          // Like echo, ignores the abort for a while, as handlers waiting on something that takes no signal do.
          repeat: async function* (request) {
            arrived++;
            yield { text: 'first' };
            await sleep(request.delayMs ?? 0);
          },
        }),
      ],
    });
    const client = createServiceClient(EchoDefinition, { target: server.address, retry: false }) as unknown as EchoClient & {
      repeat(request: EchoMessage): AsyncIterable<EchoMessage>;
    };
    const calls = [
      client.echo({ text: 'a', delayMs: 1000 }),
      client.echo({ text: 'b', delayMs: 1000 }),
      drain(client.repeat({ delayMs: 1000 })),
      drain(client.repeat({ delayMs: 1000 })),
    ];
    for (const call of calls) call.catch(() => {});
    while (arrived < calls.length) await sleep(5);
    assert.equal(rows.length, 0);
    const outcome = await server.shutdown(100);
    const atResolve = rows.length;
    assert.equal(outcome, 'forced');
    assert.equal(atResolve, 4, JSON.stringify(rows));
    closeServiceClient(client);
  });
});
