import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createFileRegistry, fromBinary, toJson, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import {
  InvalidArgumentError,
  RichServerError,
  ServerError,
  Status,
  defineService,
  startServer,
  type CallContext,
  type ErrorDetails,
} from '../../packages/runtime/src/index.ts';
import { accountService, runAsync, runCliAsync, type JsonMessage } from '../helpers/reflected-service.ts';
import { bufPath, publicContracts, tempDir } from '../helpers/workspace.ts';

// Error details (google.rpc.Status in grpc-status-details-bin) as the tools read them: `grpcforge call` (text and
// --json) against a real server with reflection, and clients that are not nice-grpc: buf curl (connect-go) and a raw
// grpc-js client, whose bytes are decoded by reflection from googleapis' own error_details.proto built by buf.

const METHOD = 'shop.v1.AccountService/Register';
const TOO_SHORT = 'value length must be at least 3 characters';

/** Every kind a server sends by default (DebugInfo stays on the server), and one entry of a type outside google.rpc. */
const EVERY_KIND: ErrorDetails = {
  errorInfo: { reason: 'INVALID_CREDENTIALS', domain: 'auth.v1', metadata: { username: 'bob' } },
  badRequest: {
    fieldViolations: [{ field: 'email', description: 'value must be a valid email address', reason: 'string.email' }],
  },
  retryInfo: { retryDelayMs: 1500 },
  quotaFailure: { violations: [{ subject: 'project:7', description: 'daily registrations exhausted' }] },
  preconditionFailure: { violations: [{ type: 'TOS', subject: 'shop.example', description: 'terms not accepted' }] },
  resourceInfo: { resourceType: 'shop.v1.Account', resourceName: 'accounts/bob', owner: 'team-a', description: 'taken' },
  requestInfo: { requestId: 'req-42', servingData: 'eu-1' },
  help: { links: [{ description: 'naming rules', url: 'https://example.com/names' }] },
  localizedMessage: { locale: 'fr-FR', message: 'identifiants invalides' },
  unknown: [{ typeUrl: 'type.googleapis.com/shop.v1.RegisterResponse', value: new Uint8Array([10, 2, 105, 100]) }],
};

describe('error details through grpcforge call, buf curl and a raw grpc-js client', () => {
  let address: string;
  let cwd: string;
  let shutdown: () => Promise<unknown>;
  /** googleapis' google/rpc protos, built by buf: the reflection registry an independent client decodes with. */
  let rpcRegistry: FileRegistry;

  before(async () => {
    const { descriptorSet, definition } = await accountService();
    const server = await startServer({
      services: [
        defineService(definition, {
          register: async (request: JsonMessage, context: CallContext) => {
            const username = typeof request.username === 'string' ? request.username : '';
            if (username.length < 3) {
              const violation = { field: 'username', description: TOO_SHORT, reason: 'string.min_len' };
              throw new InvalidArgumentError(`invalid request: username: ${TOO_SHORT}`, {
                details: { badRequest: { fieldViolations: [violation] } },
              });
            }
            if (username === 'bob') throw new RichServerError(Status.UNAUTHENTICATED, 'wrong username or password', EVERY_KIND);
            if (username === 'garbled') {
              // A server with a bug: bytes that are no google.rpc.Status.
              context.trailer.set('grpc-status-details-bin', new Uint8Array([0xff, 0xff, 0xff]));
              throw new ServerError(Status.FAILED_PRECONDITION, 'garbled details');
            }
            return { id: `a-${username}` };
          },
        } as never),
      ],
      host: '127.0.0.1',
      port: 0,
      reflection: true,
      descriptorSet,
    });
    address = server.address;
    shutdown = () => server.shutdown(0);
    cwd = await tempDir();
    const built = await runAsync(bufPath, ['build', join(publicContracts, 'googleapis-rpc'), '-o', join(cwd, 'rpc.binpb')], cwd);
    assert.equal(built.code, 0, built.stderr);
    rpcRegistry = createFileRegistry(fromBinary(FileDescriptorSetSchema, await readFile(join(cwd, 'rpc.binpb'))));
  });

  after(() => shutdown());

  /** A google.protobuf.Any's value as proto JSON, decoded by reflection from googleapis' descriptors. */
  const decodeAny = (typeName: string, bytes: Uint8Array) => {
    const type = rpcRegistry.getMessage(typeName);
    assert.ok(type, `googleapis-rpc has ${typeName}`);
    return toJson(type, fromBinary(type, bytes), { registry: rpcRegistry });
  };

  test('grpcforge call prints a BadRequest under the status, one line a violation, and exits 64 + the code', async () => {
    const result = await runCliAsync(['call', address, METHOD, '-d', '{"username":"bo"}'], cwd);
    assert.equal(result.code, 64 + Status.INVALID_ARGUMENT, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      `ERROR: INVALID_ARGUMENT: invalid request: username: ${TOO_SHORT}\n` +
        `  bad request: username: ${TOO_SHORT} [string.min_len]\n`,
    );
    const ok = await runCliAsync(['call', address, METHOD, '-d', '{"username":"ada"}'], cwd);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { id: 'a-ada' });
  });

  test('every kind of detail: one compact line each in text, the ErrorDetails shape in --json', async () => {
    const text = await runCliAsync(['call', address, METHOD, '-d', '{"username":"bob"}'], cwd);
    assert.equal(text.code, 64 + Status.UNAUTHENTICATED, text.stderr);
    assert.deepEqual(text.stderr.split('\n'), [
      'ERROR: UNAUTHENTICATED: wrong username or password',
      '  error info: INVALID_CREDENTIALS (auth.v1) username=bob',
      '  bad request: email: value must be a valid email address [string.email]',
      '  retry info: retry after 1500 ms',
      '  quota failure: project:7: daily registrations exhausted',
      '  precondition failure: TOS shop.example: terms not accepted',
      '  resource info: shop.v1.Account accounts/bob (owner team-a): taken',
      '  request info: req-42 (eu-1)',
      '  help: naming rules <https://example.com/names>',
      '  localized message (fr-FR): identifiants invalides',
      '  other detail: type.googleapis.com/shop.v1.RegisterResponse (4 bytes)',
      '',
    ]);

    const json = await runCliAsync(['call', address, METHOD, '-d', '{"username":"bob"}', '--json'], cwd);
    assert.equal(json.code, 64 + Status.UNAUTHENTICATED, json.stderr);
    assert.equal(json.stderr, '');
    const { unknown, ...known } = EVERY_KIND;
    assert.deepEqual(JSON.parse(json.stdout), {
      version: 1,
      status: { code: Status.UNAUTHENTICATED, name: 'UNAUTHENTICATED', message: 'wrong username or password' },
      details: { ...known, unknown: unknown!.map((entry) => ({ typeUrl: entry.typeUrl, value: 'CgJpZA==' })) },
      responses: [],
    });
  });

  test('details that are no google.rpc.Status: a one-line note, the status still reported, never a crash', async () => {
    const text = await runCliAsync(['call', address, METHOD, '-d', '{"username":"garbled"}'], cwd);
    assert.equal(text.code, 64 + Status.FAILED_PRECONDITION, text.stderr);
    const lines = text.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, text.stderr);
    assert.equal(lines[0], 'ERROR: FAILED_PRECONDITION: garbled details');
    assert.match(lines[1]!, /^note: grpc-status-details-bin \(3 bytes\) is not a google\.rpc\.Status: \S/);

    const json = await runCliAsync(['call', address, METHOD, '-d', '{"username":"garbled"}', '--json'], cwd);
    assert.equal(json.code, 64 + Status.FAILED_PRECONDITION);
    const document = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(document), ['version', 'status', 'responses'], 'no details');
    assert.match(json.stderr, /^note: grpc-status-details-bin \(3 bytes\) is not a google\.rpc\.Status/);
  });

  test('buf curl prints the details it read (type and bytes): they decode to our BadRequest and ErrorInfo', async () => {
    // buf curl (connect-go) prints an error as JSON on stderr: code, message, and each detail's type and value (the
    // bytes in base64; it decodes none of them, even when reflection could resolve the type).
    const curl = async (body: string) => {
      const result = await runAsync(
        bufPath,
        ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '-d', body, `http://${address}/${METHOD}`],
        cwd,
      );
      assert.notEqual(result.code, 0);
      return JSON.parse(result.stderr) as { code: string; message: string; details: { type: string; value: string }[] };
    };
    const refused = await curl('{"username":"bo"}');
    assert.equal(refused.code, 'invalid_argument');
    assert.equal(refused.message, `invalid request: username: ${TOO_SHORT}`);
    assert.deepEqual(
      refused.details.map((detail) => [detail.type, decodeAny(detail.type, Buffer.from(detail.value, 'base64'))]),
      [['google.rpc.BadRequest', { fieldViolations: [{ field: 'username', description: TOO_SHORT, reason: 'string.min_len' }] }]],
    );

    const denied = await curl('{"username":"bob"}');
    assert.equal(denied.code, 'unauthenticated');
    const decoded = new Map(denied.details.map((detail) => [detail.type, detail.value]));
    assert.deepEqual(decodeAny('google.rpc.ErrorInfo', Buffer.from(decoded.get('google.rpc.ErrorInfo')!, 'base64')), {
      reason: 'INVALID_CREDENTIALS',
      domain: 'auth.v1',
      metadata: { username: 'bob' },
    });
    assert.deepEqual(decodeAny('google.rpc.RetryInfo', Buffer.from(decoded.get('google.rpc.RetryInfo')!, 'base64')), {
      retryDelay: '1.500s',
    });
    assert.deepEqual(
      denied.details.map((detail) => detail.type),
      [
        'google.rpc.ErrorInfo',
        'google.rpc.BadRequest',
        'google.rpc.RetryInfo',
        'google.rpc.QuotaFailure',
        'google.rpc.PreconditionFailure',
        'google.rpc.ResourceInfo',
        'google.rpc.RequestInfo',
        'google.rpc.Help',
        'google.rpc.LocalizedMessage',
        'shop.v1.RegisterResponse',
      ],
    );
  });

  test('a raw grpc-js client reads grpc-status-details-bin as bytes: a google.rpc.Status with the same code and message', async () => {
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const status = await new Promise<grpc.StatusObject>((resolve) => {
        const call = client.makeUnaryRequest(
          `/${METHOD}`,
          (bytes: Buffer) => bytes,
          (bytes: Buffer) => bytes,
          Buffer.from([10, 2, 98, 111]), // RegisterRequest { username: "bo" }
          () => undefined,
        );
        call.on('status', resolve);
      });
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
      const [value] = status.metadata.get('grpc-status-details-bin');
      assert.ok(Buffer.isBuffer(value), 'grpc-js hands -bin metadata over as a Buffer');
      const statusType = rpcRegistry.getMessage('google.rpc.Status')!;
      assert.deepEqual(toJson(statusType, fromBinary(statusType, value), { registry: rpcRegistry }), {
        code: grpc.status.INVALID_ARGUMENT,
        message: `invalid request: username: ${TOO_SHORT}`,
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [{ field: 'username', description: TOO_SHORT, reason: 'string.min_len' }],
          },
        ],
      });
    } finally {
      client.close();
    }
  });
});
