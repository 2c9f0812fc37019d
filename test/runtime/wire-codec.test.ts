import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createChannel, createClient, type ServiceDefinition } from 'nice-grpc';
import {
  ClientError,
  Status,
  closeServiceClient,
  createServiceClient,
  defineService,
  startServer,
  type CallRecord,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';

interface EchoClient {
  echo(request: EchoMessage): Promise<EchoMessage>;
  repeat(request: EchoMessage): AsyncIterable<EchoMessage>;
}

const bytes = (message: unknown) => Buffer.byteLength(JSON.stringify(message));

// Messages cross grpc-js as bytes and are decoded and encoded once, inside the pipeline: the log store gets the sizes
// of the wire, and a response that cannot be encoded is an INTERNAL error that is logged like any handler bug.
describe('the wire codec', () => {
  const rows: CallRecord[] = [];
  const reported: string[] = [];
  let server: RunningServer;
  let client: EchoClient;

  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      recordCall: (call) => rows.push(call),
      onUnexpectedError: (error, path) => reported.push(`${path}: ${error instanceof Error ? error.message : String(error)}`),
      services: [
        defineService(EchoDefinition, {
          // A bigint is a wrong type TypeScript did not catch here (the cast): this codec cannot encode it.
          echo: async (request) =>
            request.text === 'bad' ? ({ text: 1n } as unknown as EchoMessage) : { text: `${request.text ?? ''}!` },
          repeat: async function* (request) {
            for (let i = 0; i < 3; i++) yield { text: `${request.text ?? ''}${i}` };
          },
          collect: async () => ({}),
          chat: async function* () {},
        }),
      ],
      health: false,
      reflection: false,
    });
    client = createServiceClient(EchoDefinition, { target: server.address, retry: false });
  });

  after(async () => {
    closeServiceClient(client);
    await server.shutdown(1000);
  });

  test('request and response sizes are the bytes on the wire, per message', async () => {
    assert.deepEqual(await client.echo({ text: 'hello' }), { text: 'hello!' });
    const unary = rows.at(-1)!;
    assert.equal(unary.requestBytes, bytes({ text: 'hello' }));
    assert.equal(unary.responseBytes, bytes({ text: 'hello!' }));
    const received: string[] = [];
    for await (const message of client.repeat({ text: 'n' })) received.push(message.text ?? '');
    assert.deepEqual(received, ['n0', 'n1', 'n2']);
    const stream = rows.at(-1)!;
    assert.equal(stream.responseMessages, 3);
    assert.equal(stream.responseBytes, 3 * bytes({ text: 'n0' }));
  });

  test('a response that cannot be encoded reaches the client as INTERNAL and is logged with the method path', async () => {
    await assert.rejects(client.echo({ text: 'bad' }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(Status[error.code], 'INTERNAL');
      assert.equal(error.details, 'internal server error');
      return true;
    });
    const row = rows.at(-1)!;
    assert.equal(row.method, 'Echo');
    assert.equal(Status[row.statusCode], 'INTERNAL');
    assert.match(row.errorMessage ?? '', /^the response of \/test\.v1\.EchoService\/Echo could not be encoded: /);
    assert.match(reported.at(-1) ?? '', /^\/test\.v1\.EchoService\/Echo: the response of .* could not be encoded/);
  });

  test('a request that cannot be decoded is INTERNAL and is a row of the log store', async () => {
    const raw: ServiceDefinition = {
      echo: {
        path: '/test.v1.EchoService/Echo',
        requestStream: false,
        responseStream: false,
        requestSerialize: (data: Uint8Array) => data,
        requestDeserialize: (data: Uint8Array) => data,
        responseSerialize: (data: Uint8Array) => data,
        responseDeserialize: (data: Uint8Array) => data,
        options: {},
      },
    };
    const channel = createChannel(server.address);
    const rawClient = createClient(raw, channel) as unknown as { echo(request: Uint8Array): Promise<unknown> };
    const before = rows.length;
    await assert.rejects(
      rawClient.echo(Buffer.from('{ not json')),
      (error: unknown) => error instanceof ClientError && Status[error.code] === 'INTERNAL',
    );
    channel.close();
    assert.equal(rows.length, before + 1);
    assert.equal(rows.at(-1)?.requestBytes, Buffer.byteLength('{ not json'));
  });
});
