import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createFileRegistry, fromBinary, fromJson, toBinary, type DescMessage, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { jsonTemplate } from '../../src/contract/json-template.ts';
import { loadContract } from '../../src/contract/load-contract.ts';
import { publicContracts, repoRoot, tempDir, writeFiles } from '../helpers/workspace.ts';

// Proto-JSON templates (the dashboard's catalog and explorer): each one is accepted by fromJson of its message, on
// every message of real contracts, and has the placeholders the module promises.

/** The registry of the contracts under `root` (a folder of .proto files), built with the real buf. */
async function registryOf(root: string): Promise<FileRegistry> {
  const dir = await tempDir();
  await cp(root, join(dir, 'proto'), { recursive: true });
  await writeFiles(dir, { 'buf.yaml': 'version: v2\nmodules:\n  - path: proto\n' });
  const { contract } = await loadContract(join(dir, 'proto'), dir);
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, contract.descriptorSet));
}

function messagesOf(registry: FileRegistry): DescMessage[] {
  const messages: DescMessage[] = [];
  for (const type of registry) if (type.kind === 'message') messages.push(type);
  return messages;
}

const ROOTS = {
  example: join(repoRoot, 'fixtures/codegen/example/proto'), // init's contracts with what it vendors (buf/validate, ...)
  googleapis: join(publicContracts, 'googleapis'),
  'grpc-node examples': join(publicContracts, 'grpc-node/examples/protos'),
  'grpc-node test': join(publicContracts, 'grpc-node/test/proto'),
  'grpc-proto': join(publicContracts, 'grpc-proto'),
};

describe('JSON templates of messages', () => {
  for (const [name, root] of Object.entries(ROOTS)) {
    test(`${name}: fromJson accepts the template of every message`, async () => {
      const registry = await registryOf(root);
      const messages = messagesOf(registry);
      assert.ok(messages.length > 3, `messages of ${name}: ${messages.length}`);
      for (const message of messages) {
        const template = jsonTemplate(message);
        assert.doesNotThrow(
          () => toBinary(message, fromJson(message, template, { registry })),
          `${message.typeName}: ${JSON.stringify(template)}`,
        );
      }
    });
  }

  test('the example: auth.v1 messages, a Timestamp and a nested message', async () => {
    const registry = await registryOf(ROOTS.example);
    const template = (typeName: string) => jsonTemplate(registry.getMessage(typeName)!);
    assert.deepEqual(template('auth.v1.LoginRequest'), { username: '', password: '' });
    assert.deepEqual(template('auth.v1.LoginResponse'), { token: '', expireTime: '1970-01-01T00:00:00Z' });
    assert.deepEqual(template('auth.v1.ValidateTokenResponse'), { valid: false, subject: '', roles: [''] });
    assert.deepEqual(template('auth.v1.ListSessionsResponse'), {
      session: { subject: '', createTime: '1970-01-01T00:00:00Z', expireTime: '1970-01-01T00:00:00Z' },
    });
  });

  test('every kind of field: scalars, int64, bytes, enums, maps, oneofs, wrappers, Struct, Any, cycles', async () => {
    const dir = await tempDir();
    await writeFiles(dir, {
      'kinds/v1/kinds.proto': `syntax = "proto3";
package kinds.v1;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/wrappers.proto";
enum Color { COLOR_UNSPECIFIED = 0; COLOR_RED = 1; }
message Node {
  string name = 1;
  repeated Node children = 2;
  Node parent = 3;
  map<string, Node> by_name = 4;
}
message Kinds {
  double d = 1; float f = 2; int64 i64 = 3; uint64 u64 = 4; int32 i32 = 5; sint64 s64 = 6; bool b = 7;
  bytes raw = 8; Color color = 9; repeated Color colors = 10; repeated int64 ids = 11;
  map<int32, string> names = 12; map<bool, Color> flags = 13; map<string, Node> nodes = 14;
  oneof choice { string text = 15; int32 number = 16; }
  optional string maybe = 17;
  google.protobuf.Int64Value wrapped_i64 = 18; google.protobuf.StringValue wrapped_s = 19;
  google.protobuf.BoolValue wrapped_b = 20; google.protobuf.Duration timeout = 21; google.protobuf.FieldMask mask = 22;
  google.protobuf.Struct meta = 23; google.protobuf.Value value = 24; google.protobuf.ListValue list = 25;
  google.protobuf.Any detail = 26; repeated google.protobuf.Value values = 27; Node tree = 28;
}
`,
    });
    const registry = await registryOf(dir);
    const kinds = registry.getMessage('kinds.v1.Kinds')!;
    const template = jsonTemplate(kinds);
    const node = { name: '', children: [{}], parent: {}, byName: { key: {} } };
    assert.deepEqual(template, {
      d: 0,
      f: 0,
      i64: '0',
      u64: '0',
      i32: 0,
      s64: '0',
      b: false,
      raw: '',
      color: 'COLOR_UNSPECIFIED',
      colors: ['COLOR_UNSPECIFIED'],
      ids: ['0'],
      names: { '0': '' },
      flags: { false: 'COLOR_UNSPECIFIED' },
      nodes: { key: node },
      text: '',
      maybe: '',
      wrappedI64: '0',
      wrappedS: '',
      wrappedB: false,
      timeout: '0s',
      mask: '',
      meta: {},
      value: null,
      list: [],
      detail: {},
      values: [null],
      tree: node,
    });
    assert.doesNotThrow(() => toBinary(kinds, fromJson(kinds, template, { registry })));
    const recursive = registry.getMessage('kinds.v1.Node')!;
    assert.deepEqual(jsonTemplate(recursive), { name: '', children: [{}], parent: {}, byName: { key: {} } });
  });
});
