import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import {
  ClientError,
  Status,
  closeServiceClient,
  createServiceClient,
  defineService,
  startServer,
  type CallRecord,
} from '../../src/runtime/index.ts';
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
