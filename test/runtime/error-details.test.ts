import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createFileRegistry, fromBinary, toJson, type Registry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema, anyUnpack } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import {
  ClientError,
  Metadata,
  NotFoundError,
  InvalidArgumentError,
  ResourceExhaustedError,
  RichClientError,
  RichServerError,
  ServerError,
  Status,
  UnavailableError,
  closeServiceClient,
  createServiceClient,
  defineMiddleware,
  defineService,
  isRichClientError,
  startServer,
  type CallContext,
  type ErrorDetails,
  type RunningServer,
  type ServerMiddleware,
} from '../../packages/runtime/src/index.ts';
import { STATUS_DETAILS_TRAILER } from '../../packages/runtime/src/vocabulary.ts';
import { EchoDefinition, InventoryDefinition, type EchoMessage } from '../helpers/json-definition.ts';
import { bufPath, publicContracts, tempDir } from '../helpers/workspace.ts';

// The rich error model over real sockets: what a handler throws with details reaches a generated client's
// `RichClientError.errorDetails`, and a client of another implementation (grpc-go, grpc-java, buf curl) reads the same
// google.rpc.Status from `grpc-status-details-bin` with nothing of ours.

/** One entry of every kind, and one of a type error_details.proto does not have. */
const EVERY_KIND: ErrorDetails = {
  errorInfo: { reason: 'QUOTA_EXCEEDED', domain: 'auth.v1', metadata: { limit: '10', window: '1m' } },
  badRequest: {
    fieldViolations: [
      { field: 'user.emails[2]', description: 'value must be a valid email address', reason: 'string.email' },
      { field: 'labels["env"]', description: 'value is required' },
    ],
  },
  retryInfo: { retryDelayMs: 1500 },
  quotaFailure: { violations: [{ subject: 'key:gf_ab12', description: '10 logins a minute' }] },
  preconditionFailure: { violations: [{ type: 'TOS', subject: 'user:ada', description: 'terms not accepted' }] },
  resourceInfo: { resourceType: 'user.v1.User', resourceName: 'ada', owner: 'team:identity', description: 'gone' },
  requestInfo: { requestId: '019b2a1c-5e40-7d3a-9f12-3c4b5d6e7f80', servingData: 'eu-1' },
  help: { links: [{ description: 'quotas', url: 'https://example.com/quotas' }] },
  localizedMessage: { locale: 'fr-FR', message: 'quota dépassé' },
  debugInfo: { stackEntries: ['at login (auth.ts:12)', 'at handler (server.ts:40)'], detail: 'limiter said no' },
  unknown: [{ typeUrl: 'type.googleapis.com/acme.v1.Extra', value: new Uint8Array([8, 1]) }],
};

/** {@link EVERY_KIND} as a server that does not allow `debugInfo` sends it. */
const WITHOUT_DEBUG_INFO: ErrorDetails = Object.fromEntries(Object.entries(EVERY_KIND).filter(([kind]) => kind !== 'debugInfo'));

/** A status message past ASCII: `grpc-message` percent-encodes it, the Status in the trailer holds it as UTF-8. */
const MESSAGE = 'no user «ädä»: 10 logins a minute';

const attempts: Record<string, number> = {};
const unexpected: unknown[] = [];

/** What `echo` throws, by `request.text`. */
function echoError(text: string | undefined): Error {
  switch (text) {
    case 'domain':
      return new ResourceExhaustedError(MESSAGE, { details: EVERY_KIND });
    case 'rich':
      return new RichServerError(Status.FAILED_PRECONDITION, MESSAGE, EVERY_KIND);
    case 'not-found':
      return new NotFoundError('no user ada', {
        details: { resourceInfo: { resourceType: 'user.v1.User', resourceName: 'ada' } },
      });
    case 'plain-domain':
      return new NotFoundError('no user ada');
    case 'plain-server':
      return new ServerError(Status.NOT_FOUND, 'no user ada');
    case 'debug-only':
      return new InvalidArgumentError('bad', { details: { debugInfo: { stackEntries: ['at x'], detail: 'secret' } } });
    case 'nan-delay':
      return new UnavailableError('try later', { details: { retryInfo: { retryDelayMs: Number.NaN } } });
    case 'many-violations':
      return new InvalidArgumentError('invalid request: items[0].name: value is required', {
        details: {
          badRequest: {
            fieldViolations: Array.from({ length: 2000 }, (_, index) => ({
              field: `items[${index}].name`,
              description: 'value is required',
            })),
          },
        },
      });
    case 'replace':
      return new ResourceExhaustedError('replaced by the middleware', { details: EVERY_KIND });
    default:
      return new Error(`a bug: ${text ?? ''}`);
  }
}

function echoService() {
  return defineService(EchoDefinition, {
    echo: (request: EchoMessage) => Promise.reject(echoError(request.text)),
    repeat: async function* (request: EchoMessage, context: CallContext) {
      yield { text: 'one' };
      yield { text: 'two' };
      if (request.text === 'until-shutdown') {
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
        throw new NotFoundError('gone while shutting down', { details: { errorInfo: { reason: 'GONE', domain: 'test.v1' } } });
      }
      throw new ResourceExhaustedError('3 messages a call', {
        details: {
          quotaFailure: { violations: [{ subject: 'call', description: 'at most 2 messages' }] },
          retryInfo: { retryDelayMs: 250 },
        },
      });
    },
    collect: async (requests: AsyncIterable<EchoMessage>) => {
      let index = 0;
      for await (const request of requests) {
        if (request.text === '') {
          throw new InvalidArgumentError(`invalid request: texts[${index}]: value is required`, {
            details: {
              badRequest: {
                fieldViolations: [{ field: `texts[${index}]`, description: 'value is required', reason: 'required' }],
              },
            },
          });
        }
        index++;
      }
      return { text: String(index) };
    },
    chat: async function* () {},
  });
}

/** `getItem` (retried: NO_SIDE_EFFECTS): UNAVAILABLE with details twice, then what `request.text` asks for. */
function inventoryService() {
  const getItem = async (request: EchoMessage & { key?: string }) => {
    const key = request.key ?? '';
    attempts[key] = (attempts[key] ?? 0) + 1;
    const attempt = attempts[key];
    if (attempt <= 2 || request.text === 'always-unavailable') {
      throw new UnavailableError('warming up', {
        details: {
          errorInfo: { reason: 'WARMING_UP', domain: 'test.v1', metadata: { attempt: String(attempt) } },
          retryInfo: { retryDelayMs: 1 },
        },
      });
    }
    if (request.text === 'slow') await new Promise((resolve) => setTimeout(resolve, 2000));
    throw new NotFoundError('no item', { details: { resourceInfo: { resourceType: 'test.v1.Item', resourceName: key } } });
  };
  const never = () => Promise.reject(new Error('not used'));
  return defineService(InventoryDefinition as never, { getItem, putItem: never, createItem: never } as never);
}

interface EchoClient {
  echo(request: EchoMessage, options?: { metadata?: Metadata; deadline?: number }): Promise<EchoMessage>;
  repeat(request: EchoMessage): AsyncIterable<EchoMessage>;
  collect(requests: AsyncIterable<EchoMessage>): Promise<EchoMessage>;
}

interface InventoryClient {
  getItem(request: EchoMessage & { key: string }, options?: { deadline?: number }): Promise<EchoMessage>;
}

/** The error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

function assertRich(error: unknown, code: Status, message: string, details: ErrorDetails): asserts error is RichClientError {
  assert.ok(error instanceof RichClientError, `expected a RichClientError, got ${String(error)}`);
  assert.ok(isRichClientError(error));
  assert.equal(Status[error.code], Status[code]);
  assert.equal(error.details, message);
  assert.deepEqual(error.errorDetails, details);
}

function assertPlain(error: unknown, code: Status): asserts error is ClientError {
  assert.ok(error instanceof ClientError, `expected a ClientError, got ${String(error)}`);
  assert.ok(
    !(error instanceof RichClientError),
    `expected no details, got ${JSON.stringify((error as { errorDetails?: unknown }).errorDetails)}`,
  );
  assert.ok(!isRichClientError(error));
  assert.equal(Status[error.code], Status[code]);
}

/** What a plain grpc-js client gets from a unary call: the status, its trailer and nothing of grpcforge's. */
function rawUnary(address: string, path: string, request: object): Promise<grpc.StatusObject> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    const call = client.makeUnaryRequest(
      path,
      (message: object) => Buffer.from(JSON.stringify(message)),
      (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as object,
      request,
      new grpc.Metadata(),
      () => {},
    );
    call.on('status', (status: grpc.StatusObject) => {
      client.close();
      resolve(status);
    });
  });
}

/**
 * A registry of googleapis' google.rpc types built by buf from the .proto files themselves (not from our generated
 * code), as a grpc-go or grpc-java client has them compiled in.
 */
async function googleRpcRegistry(): Promise<Registry> {
  const out = join(await tempDir('grpcforge-rpc-image-'), 'image.binpb');
  const built = spawnSync(bufPath, ['build', join(publicContracts, 'googleapis-rpc'), '-o', out], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
}

describe('error details', () => {
  let server: RunningServer;
  let client: EchoClient;
  let inventory: InventoryClient;

  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [echoService(), inventoryService()],
      health: false,
      reflection: false,
      onUnexpectedError: (error) => unexpected.push(error),
    });
    client = createServiceClient(EchoDefinition, { target: server.address });
    inventory = createServiceClient(InventoryDefinition, {
      target: server.address,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
  });
  after(async () => {
    closeServiceClient(client);
    closeServiceClient(inventory);
    await server.shutdown(0);
  });

  test("every kind of detail round-trips from a DomainError to the client's errorDetails; debugInfo is dropped", async () => {
    const error = await rejection(client.echo({ text: 'domain' }));
    assertRich(error, Status.RESOURCE_EXHAUSTED, MESSAGE, WITHOUT_DEBUG_INFO);
    assert.equal(error.reason, 'QUOTA_EXCEEDED');
    assert.equal(error.path, '/test.v1.EchoService/Echo');
  });

  test('a RichServerError sends its errorDetails the same way', async () => {
    const error = await rejection(client.echo({ text: 'rich' }));
    assertRich(error, Status.FAILED_PRECONDITION, MESSAGE, WITHOUT_DEBUG_INFO);
  });

  test('a status without details sends no trailer and stays a plain ClientError', async () => {
    for (const text of ['plain-domain', 'plain-server']) {
      assertPlain(await rejection(client.echo({ text })), Status.NOT_FOUND);
      const raw = await rawUnary(server.address, '/test.v1.EchoService/Echo', { text });
      assert.equal(raw.code, grpc.status.NOT_FOUND);
      assert.deepEqual(raw.metadata.get(STATUS_DETAILS_TRAILER), [], text);
    }
  });

  test('details holding only debugInfo send no trailer when debugInfo is not allowed', async () => {
    assertPlain(await rejection(client.echo({ text: 'debug-only' })), Status.INVALID_ARGUMENT);
  });

  test('an unexpected error is INTERNAL with the generic message and no details', async () => {
    const error = await rejection(client.echo({ text: 'bug' }));
    assertPlain(error, Status.INTERNAL);
    assert.equal(error.details, 'internal server error');
    const raw = await rawUnary(server.address, '/test.v1.EchoService/Echo', { text: 'bug' });
    assert.deepEqual(raw.metadata.get(STATUS_DETAILS_TRAILER), []);
    assert.ok(unexpected.length >= 2);
  });

  test('a retry delay that is not a number is sent as 0 ms, and the status is kept', async () => {
    const error = await rejection(client.echo({ text: 'nan-delay' }));
    assertRich(error, Status.UNAVAILABLE, 'try later', { retryInfo: { retryDelayMs: 0 } });
  });

  test('details past the budget arrive trimmed to their first violations (past 64 KiB the trailer would never arrive)', async () => {
    // The deadline only turns a regression (a call that never ends) into a failure.
    const error = await rejection(client.echo({ text: 'many-violations' }, { deadline: 10_000 }));
    assert.ok(error instanceof RichClientError, String(error));
    assert.equal(Status[error.code], 'INVALID_ARGUMENT');
    const kept = error.errorDetails.badRequest?.fieldViolations ?? [];
    assert.ok(kept.length > 10 && kept.length < 2000, `${kept.length} violations`);
    assert.deepEqual(kept[0], { field: 'items[0].name', description: 'value is required' });
    assert.equal(kept.at(-1)?.field, `items[${kept.length - 1}].name`);
  });

  test('a server-streaming call that fails after two messages ends with its details', async () => {
    const received: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const message of client.repeat({})) received.push(message.text ?? '');
      })(),
    );
    assert.deepEqual(received, ['one', 'two']);
    assertRich(error, Status.RESOURCE_EXHAUSTED, '3 messages a call', {
      quotaFailure: { violations: [{ subject: 'call', description: 'at most 2 messages' }] },
      retryInfo: { retryDelayMs: 250 },
    });
  });

  test('a client-streaming call that fails on its third request ends with its details', async () => {
    async function* requests() {
      yield { text: 'a' };
      yield { text: 'b' };
      yield { text: '' };
    }
    const error = await rejection(client.collect(requests()));
    assertRich(error, Status.INVALID_ARGUMENT, 'invalid request: texts[2]: value is required', {
      badRequest: { fieldViolations: [{ field: 'texts[2]', description: 'value is required', reason: 'required' }] },
    });
  });

  test("a retried call's error carries its last attempt's details", async () => {
    const error = await rejection(inventory.getItem({ key: 'retried' }));
    assert.equal(attempts.retried, 3, 'two UNAVAILABLE, then NOT_FOUND');
    assertRich(error, Status.NOT_FOUND, 'no item', { resourceInfo: { resourceType: 'test.v1.Item', resourceName: 'retried' } });

    const exhausted = await rejection(inventory.getItem({ key: 'exhausted', text: 'always-unavailable' }));
    assert.equal(attempts.exhausted, 3, 'maxAttempts counts the attempts in all, the first included');
    assertRich(exhausted, Status.UNAVAILABLE, 'warming up', {
      errorInfo: { reason: 'WARMING_UP', domain: 'test.v1', metadata: { attempt: '3' } },
      retryInfo: { retryDelayMs: 1 },
    });
  });

  test("a deadline that ends a retried call does not carry an earlier attempt's details", async () => {
    const error = await rejection(inventory.getItem({ key: 'deadline', text: 'slow' }, { deadline: 500 }));
    assert.equal(attempts.deadline, 3);
    assertPlain(error, Status.DEADLINE_EXCEEDED);
  });

  test('a plain grpc-js client decodes the trailer with protobuf-es and the google.rpc types alone', async () => {
    const registry = await googleRpcRegistry();
    const statusType = registry.getMessage('google.rpc.Status');
    assert.ok(statusType);
    const raw = await rawUnary(server.address, '/test.v1.EchoService/Echo', { text: 'domain' });
    const [bytes] = raw.metadata.get(STATUS_DETAILS_TRAILER);
    assert.ok(bytes instanceof Buffer, 'grpc-status-details-bin is binary metadata');
    const status = fromBinary(statusType, bytes) as unknown as {
      code: number;
      message: string;
      details: Parameters<typeof anyUnpack>[0][];
    };
    // grpc-go's status.FromError and grpc-java's StatusProto take the code and message from here: they must agree.
    assert.equal(status.code, raw.code);
    assert.equal(raw.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(status.message, raw.details);
    assert.equal(status.message, MESSAGE);
    const decoded = status.details.map((entry) => {
      const message = anyUnpack(entry, registry);
      if (!message) return { unknown: entry.typeUrl };
      const type = registry.getMessage(message.$typeName);
      assert.ok(type);
      return { [message.$typeName]: toJson(type, message) };
    });
    // In proto3 JSON, as grpc-go's protojson or `buf curl` print them.
    assert.deepEqual(decoded, [
      { 'google.rpc.ErrorInfo': { reason: 'QUOTA_EXCEEDED', domain: 'auth.v1', metadata: { limit: '10', window: '1m' } } },
      {
        'google.rpc.BadRequest': {
          fieldViolations: [
            { field: 'user.emails[2]', description: 'value must be a valid email address', reason: 'string.email' },
            { field: 'labels["env"]', description: 'value is required' },
          ],
        },
      },
      { 'google.rpc.RetryInfo': { retryDelay: '1.500s' } },
      { 'google.rpc.QuotaFailure': { violations: [{ subject: 'key:gf_ab12', description: '10 logins a minute' }] } },
      {
        'google.rpc.PreconditionFailure': {
          violations: [{ type: 'TOS', subject: 'user:ada', description: 'terms not accepted' }],
        },
      },
      {
        'google.rpc.ResourceInfo': {
          resourceType: 'user.v1.User',
          resourceName: 'ada',
          owner: 'team:identity',
          description: 'gone',
        },
      },
      { 'google.rpc.RequestInfo': { requestId: '019b2a1c-5e40-7d3a-9f12-3c4b5d6e7f80', servingData: 'eu-1' } },
      { 'google.rpc.Help': { links: [{ description: 'quotas', url: 'https://example.com/quotas' }] } },
      { 'google.rpc.LocalizedMessage': { locale: 'fr-FR', message: 'quota dépassé' } },
      { unknown: 'type.googleapis.com/acme.v1.Extra' },
    ]);
  });
});

describe('error details with debugInfo allowed', () => {
  let server: RunningServer;
  let client: EchoClient;

  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [echoService()],
      health: false,
      reflection: false,
      errors: { debugInfo: true },
    });
    client = createServiceClient(EchoDefinition, { target: server.address });
  });
  after(async () => {
    closeServiceClient(client);
    await server.shutdown(0);
  });

  test('ServerOptions.errors.debugInfo lets debugInfo through', async () => {
    assertRich(await rejection(client.echo({ text: 'domain' })), Status.RESOURCE_EXHAUSTED, MESSAGE, EVERY_KIND);
    assertRich(await rejection(client.echo({ text: 'debug-only' })), Status.INVALID_ARGUMENT, 'bad', {
      debugInfo: { stackEntries: ['at x'], detail: 'secret' },
    });
  });
});

describe('error details when the error that ends the call is not the one that had them', () => {
  let server: RunningServer;
  let client: EchoClient;
  const seen: string[] = [];

  /** The service's own middleware: sees the details error mapping gave, and replaces one error with another. */
  const replacer: ServerMiddleware = async function* (call, context) {
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      if (error instanceof RichServerError) seen.push(error.errorDetails.errorInfo?.reason ?? '');
      if (context.metadata.get('x-replace') === 'server-error') throw new ServerError(Status.ABORTED, 'replaced');
      if (context.metadata.get('x-replace') === 'bug') throw new Error('a bug in the middleware');
      throw error;
    }
  };

  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [echoService()],
      health: false,
      reflection: false,
      middleware: defineMiddleware().use(replacer),
      onUnexpectedError: () => {},
    });
    client = createServiceClient(EchoDefinition, { target: server.address });
  });
  after(async () => {
    closeServiceClient(client);
    await server.shutdown(0);
  });

  test("the service's middleware sees a DomainError's details on the RichServerError error mapping gives it", async () => {
    assertRich(
      await rejection(client.echo({ text: 'replace' })),
      Status.RESOURCE_EXHAUSTED,
      'replaced by the middleware',
      WITHOUT_DEBUG_INFO,
    );
    assert.deepEqual(seen, ['QUOTA_EXCEEDED']);
  });

  test('an error that replaces one with details ends the call without them', async () => {
    for (const [replace, code] of [
      ['server-error', Status.ABORTED],
      ['bug', Status.INTERNAL],
    ] as const) {
      const metadata = Metadata({ 'x-replace': replace });
      assertPlain(await rejection(client.echo({ text: 'replace' }, { metadata })), code);
    }
  });

  test('a stream ended by shutdown is UNAVAILABLE without the details its handler threw', async () => {
    const stream = client.repeat({ text: 'until-shutdown' })[Symbol.asyncIterator]();
    for (const expected of ['one', 'two']) {
      const next = await stream.next();
      assert.ok(!next.done);
      assert.equal(next.value.text, expected);
    }
    const ended = rejection(stream.next());
    await server.shutdown(1000);
    const error = await ended;
    assertPlain(error, Status.UNAVAILABLE);
    assert.equal(error.details, 'the server is shutting down');
  });
});
