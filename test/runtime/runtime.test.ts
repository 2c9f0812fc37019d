import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ClientError,
  InvalidArgumentError,
  Metadata,
  NotFoundError,
  ServerError,
  Status,
  closeServiceClient,
  createServiceClient,
  defineService,
  startServer,
  startStub,
  type CallContext,
} from '../../packages/runtime/src/index.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';

// The runtime over real sockets on 127.0.0.1, with a hand-made JSON-codec definition.

async function* messages(...items: EchoMessage[]): AsyncIterable<EchoMessage> {
  for (const item of items) yield item;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    });
  });

interface EchoClient {
  echo(request: EchoMessage, options?: object): Promise<EchoMessage>;
  repeat(request: EchoMessage, options?: object): AsyncIterable<EchoMessage>;
  collect(requests: AsyncIterable<EchoMessage>, options?: object): Promise<EchoMessage>;
  chat(requests: AsyncIterable<EchoMessage>, options?: object): AsyncIterable<EchoMessage>;
}

const echoClient = (target: string, deadlineMs?: number) =>
  createServiceClient(EchoDefinition, deadlineMs === undefined ? { target } : { target, deadlineMs }) as unknown as EchoClient;

function echoService() {
  return defineService(
    EchoDefinition as never,
    {
      echo: async (request: EchoMessage, context: CallContext) => {
        if (request.text === 'crash') throw new Error('secret stack detail');
        if (request.text === 'denied') throw new ServerError(Status.PERMISSION_DENIED, 'no');
        if (request.text === 'missing') throw new NotFoundError('user "u9" not found');
        if (request.text === 'bad') throw new InvalidArgumentError('text must not be "bad"');
        await sleep(request.delayMs ?? 0, context.signal);
        return { text: request.text };
      },
      repeat: async function* (request: EchoMessage) {
        yield request;
      },
      collect: async (requests: AsyncIterable<EchoMessage>) => ({ text: String((await collect(requests)).length) }),
      chat: async function* (requests: AsyncIterable<EchoMessage>) {
        yield* requests;
      },
    } as never,
  );
}

describe('startServer', () => {
  test('domain errors map to their codes; any other error is INTERNAL with a generic message, reported with the method path', async () => {
    const reported: string[] = [];
    const server = await startServer({
      services: [echoService()],
      host: '127.0.0.1',
      port: 0,
      onUnexpectedError: (error, path) => reported.push(`${path}: ${(error as Error).message}`),
    });
    const client = echoClient(server.address);
    assert.deepEqual(await client.echo({ text: 'hi' }), { text: 'hi' });
    await assert.rejects(client.echo({ text: 'crash' }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, Status.INTERNAL);
      assert.equal(error.details, 'internal server error');
      return true;
    });
    await assert.rejects(
      client.echo({ text: 'denied' }),
      (error: unknown) => error instanceof ClientError && error.code === Status.PERMISSION_DENIED,
    );
    await assert.rejects(client.echo({ text: 'missing' }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, Status.NOT_FOUND);
      assert.equal(error.details, 'user "u9" not found');
      return true;
    });
    await assert.rejects(
      client.echo({ text: 'bad' }),
      (error: unknown) => error instanceof ClientError && error.code === Status.INVALID_ARGUMENT,
    );
    assert.deepEqual(
      reported,
      ['/test.v1.EchoService/Echo: secret stack detail'],
      'domain errors are not reported as unexpected',
    );
    closeServiceClient(client);
    await server.shutdown(1000);
  });

  test('shutdown drains an in-flight call that finishes within the time limit', async () => {
    const server = await startServer({ services: [echoService()], host: '127.0.0.1', port: 0 });
    const client = echoClient(server.address);
    const inFlight = client.echo({ text: 'slow', delayMs: 300 });
    await sleep(50);
    const outcome = await server.shutdown(5000);
    assert.equal(outcome, 'drained');
    assert.deepEqual(await inFlight, { text: 'slow' });
    closeServiceClient(client);
  });

  test('shutdown cancels calls still running after the time limit', async () => {
    const server = await startServer({ services: [echoService()], host: '127.0.0.1', port: 0 });
    const client = echoClient(server.address);
    const stuck = client.echo({ text: 'stuck', delayMs: 60_000 });
    await sleep(50);
    const started = Date.now();
    assert.equal(await server.shutdown(200), 'forced');
    assert.ok(Date.now() - started < 5000);
    await assert.rejects(
      stuck,
      (error: unknown) => error instanceof ClientError && [Status.CANCELLED, Status.UNAVAILABLE].includes(error.code),
    );
    closeServiceClient(client);
  });

  test('the client default deadline gives DEADLINE_EXCEEDED', async () => {
    const server = await startServer({ services: [echoService()], host: '127.0.0.1', port: 0 });
    const client = echoClient(server.address, 100);
    await assert.rejects(
      client.echo({ delayMs: 2000 }),
      (error: unknown) => error instanceof ClientError && error.code === Status.DEADLINE_EXCEEDED,
    );
    closeServiceClient(client);
    await server.shutdown(1000);
  });
});

describe('startStub', () => {
  test('overridden methods answer, unset ones are UNIMPLEMENTED, every call is recorded with its metadata', async () => {
    const stub = await startStub(EchoDefinition, {
      echo: async (request: EchoMessage) => ({ text: `stubbed ${request.text ?? ''}` }),
      collect: async (requests: AsyncIterable<EchoMessage>) => ({ text: (await collect(requests)).map((m) => m.text).join('+') }),
      chat: async function* (requests: AsyncIterable<EchoMessage>) {
        for await (const request of requests) yield { text: request.text?.toUpperCase() };
      },
    });
    const client = echoClient(stub.address);
    assert.deepEqual(await client.echo({ text: 'a' }, { metadata: Metadata({ 'x-trace': 't1' }) }), { text: 'stubbed a' });
    assert.deepEqual(await client.collect(messages({ text: 'x' }, { text: 'y' })), { text: 'x+y' });
    assert.deepEqual(await collect(client.chat(messages({ text: 'p' }, { text: 'q' }))), [{ text: 'P' }, { text: 'Q' }]);
    await assert.rejects(collect(client.repeat({ text: 'r' })), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, Status.UNIMPLEMENTED);
      assert.equal(error.details, '/test.v1.EchoService/Repeat is not implemented by this stub');
      return true;
    });
    assert.deepEqual(
      stub.calls.map((call) => [call.path, call.requests]),
      [
        ['/test.v1.EchoService/Echo', [{ text: 'a' }]],
        ['/test.v1.EchoService/Collect', [{ text: 'x' }, { text: 'y' }]],
        ['/test.v1.EchoService/Chat', [{ text: 'p' }, { text: 'q' }]],
        ['/test.v1.EchoService/Repeat', [{ text: 'r' }]],
      ],
    );
    assert.deepEqual(stub.callsTo('echo')[0]?.metadata['x-trace'], ['t1']);
    stub.verify('echo', 1);
    stub.verify('chat', { atLeast: 1 });
    assert.throws(() => stub.verify('echo', 2), /stub: expected 2 call\(s\) to echo, got 1/);
    assert.throws(() => stub.verify('repeat', { atMost: 0 }), /expected at most 0 call\(s\) to repeat, got 1/);
    stub.reset();
    assert.equal(stub.calls.length, 0);
    closeServiceClient(client);
    await stub.close();
  });
});
