import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { checkWireFormat, type MessageWireShape } from '../../packages/runtime/src/server/check-wire-format.ts';
import { readRequestWireShapes } from '../../packages/runtime/src/server/request-wire-shapes.ts';
import { buildDescriptorSet } from '../../src/contract/buf.ts';
import { tempDir } from '../helpers/workspace.ts';

const varint = (value: number): number[] => (value < 0x80 ? [value] : [(value & 0x7f) | 0x80, ...varint(value >>> 7)]);
const TOP_LEVEL: MessageWireShape = new Map();
const hex = (text: string) => new Uint8Array(Buffer.from(text.replaceAll(' ', ''), 'hex'));

// A recursive message with a group (proto2) and a map of messages: the field kinds strict decoding walks into.
const NODE_PROTO = `syntax = "proto2";
package t.v1;
message Node {
  optional string name = 1;
  optional Node child = 2;
  repeated group Item = 3 {
    optional int32 n = 4;
    optional Node node = 5;
  }
  map<string, Node> named = 6;
}
service TreeService {
  rpc Put(Node) returns (Node);
}
`;

describe('checkWireFormat with shapes read from descriptors', () => {
  let node: MessageWireShape;

  before(async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'proto/t/v1'), { recursive: true });
    await writeFile(join(dir, 'proto/buf.yaml'), 'version: v2\n');
    await writeFile(join(dir, 'proto/t/v1/node.proto'), NODE_PROTO);
    const shapes = readRequestWireShapes(await buildDescriptorSet(join(dir, 'proto'), dir));
    assert.deepEqual([...shapes.keys()], ['/t.v1.TreeService/Put']);
    node = shapes.get('/t.v1.TreeService/Put')!;
  });

  const cases: [string, string, RegExp | undefined][] = [
    ['a recursive sub-message two levels down', '12 05 12 03 0a 01 61', undefined],
    ['a tag of 0 two levels down', '12 03 12 01 00', /illegal tag: field no 0 wire type 0 \(at byte 5\)$/],
    ['a group with a sub-message', '1b 20 01 2a 03 0a 01 61 1c', undefined],
    ['a tag of 0 in a sub-message of a group', '1b 2a 01 00 1c', /illegal tag: field no 0/],
    ['a group closed by the END_GROUP of another field', '1b 20 01 24', /END_GROUP of field 4 without its START_GROUP/],
    ['a map whose value is a message', '32 08 0a 01 6b 12 03 0a 01 61', undefined],
    ['a lone END_GROUP in a map value', '32 06 0a 01 6b 12 01 0c', /END_GROUP of field 1 without its START_GROUP/],
    ['a sub-message longer than its parent', '12 02 12 05 0a', /field 2's length 5 runs past the end of its message/],
  ];
  for (const [name, bytes, refused] of cases) {
    test(`${refused ? 'refused' : 'accepted'}: ${name}`, () => {
      if (refused) assert.throws(() => checkWireFormat(hex(bytes), node), refused);
      else checkWireFormat(hex(bytes), node);
    });
  }

  test('an empty shape walks the top level only: a sub-message is an opaque length-delimited field', () => {
    checkWireFormat(hex('12 03 12 01 00'), TOP_LEVEL);
    assert.throws(() => checkWireFormat(hex('12 03 12 01 00 00'), TOP_LEVEL), /field no 0/);
  });

  test('messages nested deeper than 100 levels are refused, as protobuf parsers refuse them', () => {
    const nest = (levels: number): Uint8Array => {
      let bytes = new Uint8Array();
      for (let i = 0; i < levels; i++) bytes = new Uint8Array([0x12, ...varint(bytes.length), ...bytes]);
      return bytes;
    };
    checkWireFormat(nest(99), node);
    assert.throws(() => checkWireFormat(nest(101), node), /nested more than 100 levels/);
  });
});
