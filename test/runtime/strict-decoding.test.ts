import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createChannel, createClient, type Channel, type ServiceDefinition } from 'nice-grpc';
import {
  ClientError,
  Status,
  defineService,
  startServer,
  type CallRecord,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { buildDescriptorSet } from '../../src/contract/buf.ts';
import { UserServiceDefinition } from '../../fixtures/codegen/example/expected/services/user/src/gen/pb/user/v1/user.ts';

const example = join(import.meta.dirname, '../../fixtures/codegen/example');
const hex = (text: string) => new Uint8Array(Buffer.from(text.replaceAll(' ', ''), 'hex'));

/** `user.v1.UserService`'s GetUser and ImportUsers as bytes in, bytes out: the requests are sent exactly as written. */
function rawMethod(name: string, requestStream: boolean) {
  const bytes = (data: Uint8Array) => data;
  return {
    path: `/user.v1.UserService/${name}`,
    requestStream,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
    options: {},
  };
}
const RawUserService = { getUser: rawMethod('GetUser', false), importUsers: rawMethod('ImportUsers', true) } as const;
interface RawUserClient {
  getUser(request: Uint8Array): Promise<Uint8Array>;
  importUsers(requests: AsyncIterable<Uint8Array>): Promise<Uint8Array>;
}

async function* one(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

// ts-proto's decoders stop at a tag of 0 or an END_GROUP and answer with the fields read so far; a grpcforge server
// refuses such requests as INTERNAL (as grpc-go does with what it cannot unmarshal) and its store says so.
describe('strict decoding of requests', () => {
  const rows: CallRecord[] = [];
  const seen: string[] = [];
  let server: RunningServer;
  let channel: Channel;
  let client: RawUserClient;

  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      descriptorSet: await buildDescriptorSet(join(example, 'proto'), example),
      recordCall: (call) => rows.push(call),
      services: [
        defineService(UserServiceDefinition, {
          getUser: async (request) => {
            seen.push(request.id);
            return { user: { id: request.id }, requestedBy: '' };
          },
          listUsers: async function* () {},
          importUsers: async (requests) => {
            let createdCount = 0;
            for await (const request of requests) {
              seen.push(request.user?.id ?? '(none)');
              createdCount++;
            }
            return { createdCount };
          },
          syncUsers: async function* () {},
        }),
      ],
      health: false,
      reflection: false,
    });
    channel = createChannel(server.address);
    client = createClient(RawUserService as ServiceDefinition, channel) as unknown as RawUserClient;
  });

  after(async () => {
    channel.close();
    await server.shutdown(1000);
  });

  /** Sends `request` and requires INTERNAL for the client and in the call's row, with the handler never reached. */
  async function assertRefused(call: () => Promise<unknown>, method: string): Promise<void> {
    const before = { rows: rows.length, seen: seen.length };
    await assert.rejects(call(), (error: unknown) => {
      assert.ok(error instanceof ClientError, String(error));
      assert.equal(Status[error.code], 'INTERNAL');
      assert.match(error.details, /^the request could not be decoded: .* \(at byte \d+\)$/);
      return true;
    });
    assert.equal(seen.length, before.seen, 'the handler got no request');
    assert.equal(rows.length, before.rows + 1);
    assert.equal(rows.at(-1)?.method, method);
    assert.equal(Status[rows.at(-1)?.statusCode ?? 0], 'INTERNAL');
  }

  const refusedTopLevel: [string, string][] = [
    ['a tag of 0 after a field (today the field is kept and OK answered)', '0a 02 75 31 00'],
    ['a tag of 0 before a field (today the field is dropped)', '00 0a 02 75 31'],
    ['field number 0 with another wire type', '0a 02 75 31 02 00'],
    ['wire type 6', '0a 02 75 31 0e'],
    ['wire type 7', '0f 00'],
    ['a lone END_GROUP', '0a 02 75 31 0c'],
    ['an END_GROUP of another field than its START_GROUP', '5b 08 01 64'],
    ['a group without its END_GROUP', '5b 08 01'],
    ['a length past the end', '0a 05 75 31'],
    ['a truncated varint', '48 ff'],
    ['a tag beyond 32 bits', 'ff ff ff ff 7f'],
  ];
  for (const [name, bytes] of refusedTopLevel) {
    test(`refused: ${name}`, () => assertRefused(() => client.getUser(hex(bytes)), 'GetUser'));
  }

  const refusedNested: [string, string][] = [
    ['a tag of 0 inside a sub-message', '0a 04 0a 01 61 00'],
    ['a lone END_GROUP inside a sub-message', '0a 04 0a 01 61 0c'],
    ['wire type 7 inside a sub-message', '0a 04 0a 01 61 0f'],
    ['a field of a sub-message running past its end', '0a 03 0a 02 61 62'],
  ];
  for (const [name, bytes] of refusedNested) {
    test(`refused: ${name}`, () => assertRefused(() => client.importUsers(one(hex(bytes))), 'ImportUsers'));
  }

  test('unknown fields of every wire type, and a known field sent with a skippable other wire type, are accepted', async () => {
    // id "u1"; 9: varint; 10: length-delimited holding a 0 byte (unknown: not looked into); 11: a group; 12: fixed32;
    // 13: fixed64; then field 1 as a varint (a mismatch protobuf skips as an unknown field).
    const request = '0a 02 75 31  48 05  52 01 00  5b 08 01 5c  65 01 00 00 00  69 01 00 00 00 00 00 00 00';
    await client.getUser(hex(request));
    assert.equal(seen.at(-1), 'u1');
    assert.equal(Status[rows.at(-1)?.statusCode ?? -1], 'OK');
    // id "u1", then field 1 again as a varint: skipped, so the handler sees "u1". protobuf-es refuses such bytes;
    // validation (the example's id has a pattern) reads ts-proto's encoding of the request instead.
    await client.getUser(hex('0a 02 75 31  08 07'));
    assert.equal(seen.at(-1), 'u1');
    assert.equal(Status[rows.at(-1)?.statusCode ?? -1], 'OK');
    // A sub-message with an unknown field and an unknown group of its own.
    await client.importUsers(one(hex('0a 07 0a 01 61 48 01 5b 5c')));
    assert.equal(seen.at(-1), 'a');
    assert.equal(Status[rows.at(-1)?.statusCode ?? -1], 'OK');
  });
});
