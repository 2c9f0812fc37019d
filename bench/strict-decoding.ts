// Per-message CPU cost of decoding a request in the codec stage, with and without the strict wire check, for a small
// request (GetUserRequest, 6 bytes) and one with a sub-message (ImportUsersRequest, 45 bytes), in process; and the
// start-up cost of reading the request shapes from the example contract's descriptors.
//   node --import tsx bench/strict-decoding.ts [--messages 1000000]
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkWireFormat, type MessageWireShape } from '../packages/runtime/src/server/check-wire-format.ts';
import {
  GetUserRequest,
  ImportUsersRequest,
} from '../fixtures/codegen/example/expected/services/user/src/gen/pb/user/v1/user.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' } } });
const messages = Number(values.messages);
const TOP_LEVEL: MessageWireShape = new Map();
const example = join(import.meta.dirname, '../fixtures/codegen/example');
const descriptorSet = new Uint8Array(
  execFileSync(join(import.meta.dirname, '../node_modules/.bin/buf'), ['build', 'proto', '-o', '-#format=binpb'], {
    cwd: example,
  }),
);

// Start-up: the module (protobuf-es's descriptor code) and the walk over the descriptors, each once.
const loadStart = performance.now();
const { readRequestWireShapes } = await import('../packages/runtime/src/server/request-wire-shapes.ts');
const loadMs = performance.now() - loadStart;
const readStart = performance.now();
const shapes = readRequestWireShapes(descriptorSet);
const readMs = performance.now() - readStart;

function perMessageUs(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): number {
  for (let i = 0; i < 100_000; i++) decode(bytes); // warm-up
  const start = performance.now();
  for (let i = 0; i < messages; i++) decode(bytes);
  return ((performance.now() - start) * 1000) / messages;
}

const small = GetUserRequest.encode({ id: 'u1-42' }).finish();
const nested = ImportUsersRequest.encode({
  user: { id: 'u1-42', displayName: 'Ada Lovelace', email: 'ada@example.com' },
}).finish();
const strict = (shape: MessageWireShape, decode: (bytes: Uint8Array) => unknown) => (bytes: Uint8Array) => {
  checkWireFormat(bytes, shape);
  return decode(bytes);
};
const importShape = shapes.get('/user.v1.UserService/ImportUsers') ?? TOP_LEVEL;
const result = {
  node: process.version,
  messages,
  startup: { importMs: +loadMs.toFixed(1), readShapesMs: +readMs.toFixed(2) },
  smallBytes: small.length,
  nestedBytes: nested.length,
  usPerMessage: {
    small: {
      decodeOnly: +perMessageUs((bytes) => GetUserRequest.decode(bytes), small).toFixed(3),
      strict: +perMessageUs(
        strict(shapes.get('/user.v1.UserService/GetUser') ?? TOP_LEVEL, (bytes) => GetUserRequest.decode(bytes)),
        small,
      ).toFixed(3),
    },
    nested: {
      decodeOnly: +perMessageUs((bytes) => ImportUsersRequest.decode(bytes), nested).toFixed(3),
      strictTopLevel: +perMessageUs(
        strict(TOP_LEVEL, (bytes) => ImportUsersRequest.decode(bytes)),
        nested,
      ).toFixed(3),
      strict: +perMessageUs(
        strict(importShape, (bytes) => ImportUsersRequest.decode(bytes)),
        nested,
      ).toFixed(3),
    },
  },
};
console.log(JSON.stringify(result, null, 2));
