import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import {
  RichClientError,
  Status,
  ValidationRulesError,
  checkValidationRules,
  closeServiceClient,
  createServiceClient,
  defineService,
  startServer,
  startStub,
  NotFoundError,
  type CallRecord,
  type FieldViolationDetail,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { createMethodValidators } from '../../packages/runtime/src/validation/method-validators.ts';
import { buildDescriptorSet } from '../../src/contract/buf.ts';
import { ShopServiceDefinition, type LoginRequest } from '../../fixtures/validation/gen/shop/v1/shop.ts';
import { BrokenServiceDefinition } from '../../fixtures/validation/gen/broken/v1/broken.ts';

// fixtures/validation: shop.v1 with buf.validate rules (its own copy of validate.proto, as a user's contract has),
// and broken.v1 whose CEL expression does not compile.
const fixture = join(import.meta.dirname, '../../fixtures/validation');
const SHOP = '/shop.v1.ShopService';
const valid: LoginRequest = { username: 'ada', password: 'correct horse', email: 'ada@example.com' };

async function* requestsOf<Item>(...items: Item[]): AsyncIterable<Item> {
  for (const item of items) yield item;
}

/** Requires a RichClientError with INVALID_ARGUMENT, `message`, and exactly these field violations. */
function assertInvalid(message: string, violations: FieldViolationDetail[]) {
  return (error: unknown) => {
    assert.ok(error instanceof RichClientError, String(error));
    assert.equal(Status[error.code], 'INVALID_ARGUMENT');
    assert.equal(error.details, message);
    assert.deepEqual(error.errorDetails.badRequest?.fieldViolations, violations);
    return true;
  };
}

describe('request validation from buf.validate rules', () => {
  let descriptorSet: Uint8Array;
  const rows: CallRecord[] = [];
  const handled: string[] = [];
  let server: RunningServer;
  let client: ReturnType<typeof createServiceClient<typeof ShopServiceDefinition>>;

  before(async () => {
    descriptorSet = await buildDescriptorSet(fixture, fixture);
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      descriptorSet,
      recordCall: (call) => rows.push(call),
      health: false,
      services: [
        defineService(ShopServiceDefinition, {
          login: async (request) => {
            handled.push(`login ${request.username}`);
            return { token: 't' };
          },
          placeOrder: async (request) => {
            handled.push(`order ${request.note}`);
            return { orderId: '1' };
          },
          importLogins: async (requests) => {
            let importedCount = 0;
            for await (const request of requests) {
              handled.push(`import ${request.username}`);
              importedCount++;
            }
            return { importedCount };
          },
          ping: async (request) => ({ text: request.text }),
        }),
      ],
    });
    client = createServiceClient(ShopServiceDefinition, { target: server.address, retry: false });
  });

  after(async () => {
    closeServiceClient(client);
    await server.shutdown(1000);
  });

  test('a request that breaks the rules is answered INVALID_ARGUMENT with every violation as BadRequest', async () => {
    handled.length = 0;
    await assert.rejects(
      client.login({ username: 'ab', password: 'short', email: 'not an address' }),
      assertInvalid('invalid request: username: must be at least 3 characters [string.min_len]', [
        { field: 'username', description: 'must be at least 3 characters', reason: 'string.min_len' },
        { field: 'password', description: 'must be at least 8 characters', reason: 'string.min_len' },
        { field: 'email', description: 'must be a valid email address', reason: 'string.email' },
      ]),
    );
    assert.deepEqual(handled, [], 'the handler was not reached');
    const row = rows.at(-1);
    assert.ok(row);
    assert.equal(row.method, 'Login');
    assert.equal(Status[row.statusCode], 'INVALID_ARGUMENT');
  });

  test('a valid request reaches the handler', async () => {
    handled.length = 0;
    assert.deepEqual(await client.login(valid), { token: 't' });
    assert.deepEqual(handled, ['login ada']);
  });

  test('what is validated is what the handler gets: a singular message field sent twice is the last one', async () => {
    // shipping { city: "Oslo" }, then shipping {}: protobuf-es would merge the two (city "Oslo"), ts-proto keeps the
    // last (city ""). The handler gets ts-proto's, so the rule on shipping.city must see "".
    const bytes = Buffer.from([0x0a, 0x06, 0x0a, 0x04, ...Buffer.from('Oslo'), 0x0a, 0x00]);
    const raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
    try {
      const error = await new Promise<grpc.ServiceError | undefined>((resolve) => {
        raw.makeUnaryRequest(
          `${SHOP}/PlaceOrder`,
          (request: Buffer) => request,
          (response: Buffer) => response,
          bytes,
          (failure) => resolve(failure ?? undefined),
        );
      });
      assert.equal(error?.code, Status.INVALID_ARGUMENT, String(error));
      assert.equal(error.details, 'invalid request: shipping.city: must be at least 1 characters [string.min_len]');
    } finally {
      raw.close();
    }
  });

  test('violations in nested messages, list items and map values name their paths; message rules have no field', async () => {
    handled.length = 0;
    await assert.rejects(
      client.placeOrder({
        shipping: { city: '' },
        items: [
          { sku: 'ABC-1', quantity: 1 },
          { sku: 'abc', quantity: 0 },
        ],
        counts: { apples: 2, pears: -1 },
      }),
      assertInvalid('invalid request: shipping.city: must be at least 1 characters [string.min_len]', [
        { field: 'shipping.city', description: 'must be at least 1 characters', reason: 'string.min_len' },
        { field: 'items[1].sku', description: 'does not match regex pattern `^[A-Z]{3}-[0-9]+$`', reason: 'string.pattern' },
        { field: 'items[1].quantity', description: 'must be greater than 0', reason: 'int32.gt' },
        { field: 'counts["pears"]', description: 'must be greater than or equal to 0', reason: 'int32.gte' },
      ]),
    );
    await assert.rejects(
      client.placeOrder({ note: 'gift wrap' }),
      assertInvalid('invalid request: shipping: value is required [required]', [
        { field: 'shipping', description: 'value is required', reason: 'required' },
        { field: '', description: 'a note needs at least one item', reason: 'order.note_without_items' },
      ]),
    );
    assert.deepEqual(handled, []);
    assert.deepEqual(await client.placeOrder({ shipping: { city: 'Oslo' }, items: [{ sku: 'ABC-1', quantity: 2 }] }), {
      orderId: '1',
    });
  });

  test('every message of a request stream is validated: the first invalid one ends the call', async () => {
    handled.length = 0;
    await assert.rejects(
      client.importLogins(requestsOf(valid, { ...valid, username: 'x' }, valid)),
      assertInvalid('invalid request: username: must be at least 3 characters [string.min_len]', [
        { field: 'username', description: 'must be at least 3 characters', reason: 'string.min_len' },
      ]),
    );
    assert.deepEqual(handled, ['import ada'], 'the handler got the valid message before it, and nothing after');
    assert.deepEqual(await client.importLogins(requestsOf(valid, valid)), { importedCount: 2 });
  });

  test('a method whose messages have no rules gets no validation; one with rules does', () => {
    const paths = ['Login', 'PlaceOrder', 'ImportLogins', 'Ping'].map((method) => `${SHOP}/${method}`);
    const validators = createMethodValidators(descriptorSet, paths);
    assert.deepEqual([...validators.keys()].sort(), [`${SHOP}/ImportLogins`, `${SHOP}/Login`, `${SHOP}/PlaceOrder`]);
    assert.ok(validators.get(`${SHOP}/Login`)?.request);
    assert.equal(validators.get(`${SHOP}/Login`)?.response, undefined, 'responses are not validated by default');
    const withResponses = createMethodValidators(descriptorSet, paths, { requests: false, responses: true });
    assert.deepEqual([...withResponses.keys()], [`${SHOP}/Login`], 'only LoginResponse has rules');
    assert.equal(createMethodValidators(descriptorSet, paths, { requests: false }).size, 0);
  });

  test('a method without rules answers as before', async () => {
    assert.deepEqual(await client.ping({ text: '' }), { text: '' });
  });

  test('the rules compile for the services that have them', async () => {
    await checkValidationRules(descriptorSet, ['shop.v1.ShopService']);
  });

  test('a CEL expression that does not compile fails the start, naming the file, message and field', async () => {
    const problem = /^broken\/v1\/broken\.proto: broken\.v1\.Profile\.nickname: failed to compile nickname\.broken: /;
    await assert.rejects(
      startServer({
        host: '127.0.0.1',
        port: 0,
        descriptorSet,
        health: false,
        reflection: false,
        services: [defineService(BrokenServiceDefinition, { register: async () => ({}) })],
      }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationRulesError, String(error));
        assert.equal(error.problems.length, 1);
        assert.match(
          error.message,
          /^buf\.validate rules do not compile: broken\/v1\/broken\.proto: broken\.v1\.Profile\.nickname: /,
        );
        assert.deepEqual(
          { ...error.problems[0], reason: undefined },
          { file: 'broken/v1/broken.proto', message: 'broken.v1.Profile', field: 'nickname', reason: undefined },
        );
        return true;
      },
    );
    await assert.rejects(checkValidationRules(descriptorSet, ['broken.v1.BrokenService']), (error: unknown) => {
      assert.ok(error instanceof ValidationRulesError);
      assert.match(error.message.replace('buf.validate rules do not compile: ', ''), problem);
      return true;
    });
  });

  test('validation off: requests reach the handler unchecked, and a broken rule does not stop the start', async () => {
    const off = await startServer({
      host: '127.0.0.1',
      port: 0,
      descriptorSet,
      health: false,
      reflection: false,
      validation: { requests: false },
      services: [
        defineService(ShopServiceDefinition, {
          login: async () => ({ token: 'unchecked' }),
          placeOrder: async () => ({ orderId: '' }),
          importLogins: async () => ({ importedCount: 0 }),
          ping: async (request) => request,
        }),
        defineService(BrokenServiceDefinition, { register: async () => ({}) }),
      ],
    });
    const offClient = createServiceClient(ShopServiceDefinition, { target: off.address, retry: false });
    try {
      assert.deepEqual(await offClient.login({ username: '' }), { token: 'unchecked' });
    } finally {
      closeServiceClient(offClient);
      await off.shutdown(1000);
    }
  });
});

describe('response validation (validation.responses)', () => {
  test('a response that breaks its rules is answered INTERNAL; the violation goes to the call record', async () => {
    const rows: CallRecord[] = [];
    const unexpected: string[] = [];
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      descriptorSet: await buildDescriptorSet(fixture, fixture),
      health: false,
      reflection: false,
      validation: { responses: true },
      recordCall: (call) => rows.push(call),
      onUnexpectedError: (error) => unexpected.push(error instanceof Error ? error.message : String(error)),
      services: [
        defineService(ShopServiceDefinition, {
          login: async (request) => ({ token: request.username === 'ada' ? 'ok' : '' }),
          placeOrder: async () => ({ orderId: '' }),
          importLogins: async () => ({ importedCount: 0 }),
          ping: async (request) => request,
        }),
      ],
    });
    const client = createServiceClient(ShopServiceDefinition, { target: server.address, retry: false });
    let stopped = false;
    try {
      assert.deepEqual(await client.login(valid), { token: 'ok' });
      await assert.rejects(client.login({ ...valid, username: 'bob' }), (error: unknown) => {
        assert.ok(!(error instanceof RichClientError), 'no details reach the client');
        assert.equal(Status[(error as { code: Status }).code], 'INTERNAL');
        assert.equal((error as { details: string }).details, 'internal server error');
        return true;
      });
      const expected = `invalid response of ${SHOP}/Login: token: must be at least 1 characters [string.min_len]`;
      assert.deepEqual(unexpected, [expected]);
      // Once shut down, every call was recorded.
      await server.shutdown(1000);
      stopped = true;
      assert.equal(Status[rows.at(-1)?.statusCode ?? 0], 'INTERNAL');
      assert.equal(rows.at(-1)?.errorMessage, expected);
    } finally {
      closeServiceClient(client);
      if (!stopped) await server.shutdown(1000);
    }
  });
});

describe('stubs validate requests with the contract rules', () => {
  test('a stub started with the descriptor set answers INVALID_ARGUMENT with BadRequest details', async () => {
    const stub = await startStub(
      ShopServiceDefinition,
      { login: async () => ({ token: 'stubbed' }) },
      { descriptorSet: await buildDescriptorSet(fixture, fixture), health: false },
    );
    try {
      await assert.rejects(
        stub.client.login({ ...valid, email: 'nope' }),
        assertInvalid('invalid request: email: must be a valid email address [string.email]', [
          { field: 'email', description: 'must be a valid email address', reason: 'string.email' },
        ]),
      );
      assert.deepEqual(await stub.client.login(valid), { token: 'stubbed' });
      stub.verify('login', 1);
    } finally {
      await stub.close();
    }
    // `validation: { requests: false }` (server.validation.requests, which `serve --stub` passes on): no check.
    const unchecked = await startStub(
      ShopServiceDefinition,
      { login: async () => ({ token: 'stubbed' }) },
      { descriptorSet: await buildDescriptorSet(fixture, fixture), health: false, validation: { requests: false } },
    );
    try {
      assert.deepEqual(await unchecked.client.login({ ...valid, email: 'nope' }), { token: 'stubbed' });
    } finally {
      await unchecked.close();
    }
  });
});

describe('errors.debugInfo (server.errors.debugInfo)', () => {
  test('a DebugInfo detail reaches the client only when the server allows it', async () => {
    const debugInfo = { stackEntries: ['at login (login.ts:1:1)'], detail: 'no row in users' };
    const received: (object | undefined)[] = [];
    for (const errors of [undefined, { debugInfo: false }, { debugInfo: true }]) {
      const server = await startServer({
        host: '127.0.0.1',
        port: 0,
        health: false,
        reflection: false,
        ...(errors ? { errors } : {}),
        services: [
          defineService(ShopServiceDefinition, {
            login: async () => {
              throw new NotFoundError('no such user', {
                details: { resourceInfo: { resourceType: 'user', resourceName: 'ada' }, debugInfo },
              });
            },
            placeOrder: async () => ({ orderId: '' }),
            importLogins: async () => ({ importedCount: 0 }),
            ping: async (request) => request,
          }),
        ],
      });
      const client = createServiceClient(ShopServiceDefinition, { target: server.address, retry: false });
      try {
        await assert.rejects(client.login(valid), (error: unknown) => {
          assert.ok(error instanceof RichClientError, String(error));
          assert.equal(error.errorDetails.resourceInfo?.resourceName, 'ada');
          received.push(error.errorDetails.debugInfo);
          return true;
        });
      } finally {
        closeServiceClient(client);
        await server.shutdown(1000);
      }
    }
    assert.deepEqual(received, [undefined, undefined, debugInfo]);
  });
});
