import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  InvalidArgumentError,
  NotFoundError,
  ServerError,
  Status,
  closeServiceClient,
  createLogStore,
  createServiceClient,
  defineService,
  startServer,
  type LogStore,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';
import { tempDir } from '../helpers/workspace.ts';

// The request log keeps what an error's details said: a real server, its handlers throwing errors with ErrorInfo and
// BadRequest details, a real store (a file, its writer thread). Each row carries the reason and the first violated
// field, and statistics group the errors by reason.

/** Echo fails as its request's text asks: with a declared reason, with field violations, or plainly. */
const handlers = {
  echo: async (request: EchoMessage) => {
    switch (request.text) {
      case 'missing':
        throw new NotFoundError('x', { details: { errorInfo: { reason: 'USER_NOT_FOUND', domain: 'user.v1' } } });
      case 'invalid':
        throw new InvalidArgumentError('invalid request: username: value length must be at least 3 characters', {
          details: {
            badRequest: {
              fieldViolations: [
                { field: 'username', description: 'value length must be at least 3 characters', reason: 'string.min_len' },
                { field: 'email', description: 'value must be a valid email address', reason: 'string.email' },
              ],
            },
          },
        });
      case 'plain':
        throw new NotFoundError('no such user');
      case 'status':
        throw new ServerError(Status.FAILED_PRECONDITION, 'not now');
      default:
        return { text: request.text ?? '' };
    }
  },
  // A stream that fails after its first message: the reason is stored for streams too.
  repeat: async function* (request: EchoMessage) {
    yield { text: request.text ?? '' };
    throw new NotFoundError('gone', { details: { errorInfo: { reason: 'STREAM_GONE', domain: 'test.v1' } } });
  },
  collect: async () => ({}),
  chat: async function* () {},
};

describe('the request log stores the error reason and the first violated field', { timeout: 30_000 }, () => {
  let store: LogStore;
  let server: RunningServer;
  let client: ReturnType<typeof createServiceClient<typeof EchoDefinition>>;
  const since = Date.now();

  before(async () => {
    store = await createLogStore({ url: `sqlite:${join(await tempDir(), 'reasons.db')}`, flushIntervalMs: 10 });
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      recordCall: store.logs.record,
      health: false,
      reflection: false,
      services: [defineService(EchoDefinition, handlers)],
    });
    client = createServiceClient(EchoDefinition, { target: server.address, retry: false });
    const fail = async (text: string, times: number) => {
      for (let index = 0; index < times; index++) await assert.rejects(client.echo({ text }));
    };
    await fail('missing', 3);
    await fail('invalid', 2);
    await fail('plain', 1);
    await fail('status', 1);
    await client.echo({ text: 'fine' });
    await assert.rejects(async () => {
      for await (const response of client.repeat({ text: 'once' })) assert.equal(response.text, 'once');
    });
    await server.shutdown(1000);
    await store.flush();
  });

  after(async () => {
    closeServiceClient(client);
    await store.close();
  });

  test('each row: the reason of its ErrorInfo, the field of its first BadRequest violation, null otherwise', async () => {
    const rows = await store.logs.list({ since, limit: 100 });
    const byText = rows.map((row) => [row.method, Status[row.statusCode], row.errorReason, row.violationField]);
    const count = (row: readonly unknown[]) => byText.filter((entry) => JSON.stringify(entry) === JSON.stringify(row)).length;
    assert.equal(count(['Echo', 'NOT_FOUND', 'USER_NOT_FOUND', null]), 3);
    assert.equal(count(['Echo', 'INVALID_ARGUMENT', null, 'username']), 2);
    assert.equal(count(['Echo', 'NOT_FOUND', null, null]), 1);
    assert.equal(count(['Echo', 'FAILED_PRECONDITION', null, null]), 1);
    assert.equal(count(['Echo', 'OK', null, null]), 1);
    assert.equal(count(['Repeat', 'NOT_FOUND', 'STREAM_GONE', null]), 1);
    assert.equal(rows.length, 9);
  });

  test('statistics group the errors by method, status and reason, largest first', async () => {
    const groups = await store.statistics.errorsByReason({ since });
    assert.deepEqual(
      groups.map((group) => [group.service, group.method, Status[group.statusCode], group.reason, group.calls]),
      [
        ['test.v1.EchoService', 'Echo', 'NOT_FOUND', 'USER_NOT_FOUND', 3],
        ['test.v1.EchoService', 'Echo', 'INVALID_ARGUMENT', null, 2],
        ['test.v1.EchoService', 'Echo', 'NOT_FOUND', null, 1],
        ['test.v1.EchoService', 'Echo', 'FAILED_PRECONDITION', null, 1],
        ['test.v1.EchoService', 'Repeat', 'NOT_FOUND', 'STREAM_GONE', 1],
      ],
    );
    assert.equal((await store.statistics.summary({ since })).errors, 8);
  });
});
