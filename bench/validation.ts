// Request validation's cost (buf.validate rules, protovalidate), in two parts:
// 1. In process, per message: a LoginRequest (3 string rules: min_len/max_len, min_len, email) read with protobuf-es's
//    fromBinary and validated, side by side with ts-proto's decode of the same bytes (what the codec does anyway):
//    µs per message, p50 and p99 over rounds; then the example's own auth.v1.LoginRequest (what `init` writes).
// 2. Through a real server on 127.0.0.1: unary Ping (its messages have no rules) with validation on (the default)
//    against the same server with `validation: { requests: false }`: a method without rules must pay nothing.
//   node --import tsx bench/validation.ts [--rounds 200] [--messages 2000] [--calls 3000] [--server-rounds 6]
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { createValidator } from '@bufbuild/protovalidate';
import {
  closeServiceClient,
  createServiceClient,
  defineService,
  startServer,
  type RunningServer,
} from '../packages/runtime/src/index.ts';
import { createMethodValidators } from '../packages/runtime/src/validation/method-validators.ts';
import { buildDescriptorSet } from '../src/contract/buf.ts';
import { LoginRequest, ShopServiceDefinition } from '../fixtures/validation/gen/shop/v1/shop.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '200' },
    messages: { type: 'string', default: '2000' },
    calls: { type: 'string', default: '3000' },
    'server-rounds': { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '16' },
  },
});
const rounds = Number(values.rounds);
const messagesPerRound = Number(values.messages);
const callsPerRound = Number(values.calls);
const serverRounds = Number(values['server-rounds']);
const concurrency = Number(values.concurrency);

const fixture = join(import.meta.dirname, '../fixtures/validation');
const descriptorSet = await buildDescriptorSet(fixture, fixture);

// Start-up: what a server with rules pays once (the registry, planning and compiling the rules of its methods).
const startupStart = performance.now();
const validators = createMethodValidators(descriptorSet, ['/shop.v1.ShopService/Login']);
const startupMs = performance.now() - startupStart;
const validateRequest = validators.get('/shop.v1.ShopService/Login')?.request;
if (!validateRequest) throw new Error('LoginRequest has rules: expected a request validator');

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
const schema = registry.getMessage('shop.v1.LoginRequest');
if (!schema) throw new Error('shop.v1.LoginRequest is not in the descriptor set');
const validator = createValidator({ registry });

const valid = LoginRequest.encode({ username: 'ada', password: 'correct horse', email: 'ada@example.com' }).finish();
const invalid = LoginRequest.encode({ username: 'ab', password: 'short', email: 'not an address' }).finish();

/** µs per message of each round, then p50 and p99 over the rounds. */
function measure(run: (bytes: Uint8Array) => unknown, bytes: Uint8Array): { p50: number; p99: number } {
  for (let i = 0; i < 20_000; i++) run(bytes); // warm-up
  const perRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (let i = 0; i < messagesPerRound; i++) run(bytes);
    perRound.push(((performance.now() - start) * 1000) / messagesPerRound);
  }
  return { p50: +percentile(perRound, 0.5).toFixed(2), p99: +percentile(perRound, 0.99).toFixed(2) };
}

function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const swallow = (run: (bytes: Uint8Array) => unknown) => (bytes: Uint8Array) => {
  try {
    return run(bytes);
  } catch (error) {
    return error;
  }
};

/** `run` on ts-proto's encoding of the decoded `bytes`, decoded once outside the timing, as the codec has. */
const reencodeThen = (run: (bytes: Uint8Array) => unknown) => {
  const decoded = new Map<Uint8Array, LoginRequest>();
  return (bytes: Uint8Array) => {
    let message = decoded.get(bytes);
    if (!message) decoded.set(bytes, (message = LoginRequest.decode(bytes)));
    return run(LoginRequest.encode(message).finish());
  };
};

// The example's own LoginRequest (what `init` writes: username 3–64 characters and an RE2 pattern, password 1–128),
// from a copy of the workspace's contracts with the vendored validate.proto, as `generate` builds them.
const exampleDir = mkdtempSync(join(tmpdir(), 'grpcforge-bench-validation-'));
const exampleSet = await (async () => {
  try {
    const templates = join(import.meta.dirname, '../templates');
    cpSync(join(templates, 'workspace/buf.yaml'), join(exampleDir, 'buf.yaml'));
    cpSync(join(templates, 'workspace/proto'), join(exampleDir, 'proto'), { recursive: true });
    cpSync(join(templates, 'vendor'), join(exampleDir, 'proto'), { recursive: true });
    return await buildDescriptorSet(exampleDir, exampleDir);
  } finally {
    rmSync(exampleDir, { recursive: true, force: true });
  }
})();
const exampleRegistry = createFileRegistry(fromBinary(FileDescriptorSetSchema, exampleSet));
const exampleSchema = exampleRegistry.getMessage('auth.v1.LoginRequest');
if (!exampleSchema) throw new Error('auth.v1.LoginRequest is not in the example contracts');
const exampleValidator = createValidator({ registry: exampleRegistry });
const exampleValid = toBinary(exampleSchema, create(exampleSchema, { username: 'ada', password: 'demo' }));
if (exampleValidator.validate(exampleSchema, fromBinary(exampleSchema, exampleValid)).kind !== 'valid') {
  throw new Error('the example LoginRequest should be valid');
}

const perMessage = {
  tsProtoDecode: measure((bytes) => LoginRequest.decode(bytes), valid),
  fromBinary: measure((bytes) => fromBinary(schema, bytes, { readUnknownFields: false }), valid),
  fromBinaryAndValidate: measure(
    (bytes) => validator.validate(schema, fromBinary(schema, bytes, { readUnknownFields: false })),
    valid,
  ),
  // What the codec adds for a method with rules, after its ts-proto decode: ts-proto's encoding of the decoded
  // request (what is validated is what the handler sees) and the request validator (fromBinary + validate).
  requestValidatorValid: measure(reencodeThen(validateRequest), valid),
  // 3 violations: the InvalidArgumentError with its BadRequest is built and thrown.
  requestValidatorInvalid: measure(swallow(reencodeThen(validateRequest)), invalid),
  // The example's auth.v1.LoginRequest (a pattern rule too): fromBinary + validate.
  exampleLoginRequest: measure(
    (bytes) => exampleValidator.validate(exampleSchema, fromBinary(exampleSchema, bytes, { readUnknownFields: false })),
    exampleValid,
  ),
};

// 2. A method without rules, validation on vs off, through a real server (one HTTP/2 connection, N in flight).
async function serve(requests: boolean): Promise<RunningServer> {
  return startServer({
    host: '127.0.0.1',
    port: 0,
    descriptorSet,
    health: false,
    reflection: false,
    validation: { requests },
    services: [
      defineService(ShopServiceDefinition, {
        login: async () => ({ token: 't' }),
        placeOrder: async () => ({ orderId: '' }),
        importLogins: async () => ({ importedCount: 0 }),
        ping: async (request) => ({ text: request.text }),
      }),
    ],
  });
}

/** Calls per second and p50/p99 latency (ms) of `callsPerRound` Ping calls, `concurrency` in flight. */
async function pingRound(server: RunningServer): Promise<{ callsPerSecond: number; p50Ms: number; p99Ms: number }> {
  const client = createServiceClient(ShopServiceDefinition, { target: server.address, retry: false });
  try {
    for (let i = 0; i < 300; i++) await client.ping({ text: 'warm' });
    const latencies: number[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < callsPerRound) {
          const callStart = performance.now();
          await client.ping({ text: 'hello' });
          latencies.push(performance.now() - callStart);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    return {
      callsPerSecond: Math.round(callsPerRound / seconds),
      p50Ms: +percentile(latencies, 0.5).toFixed(3),
      p99Ms: +percentile(latencies, 0.99).toFixed(3),
    };
  } finally {
    closeServiceClient(client);
  }
}

const on = await serve(true);
const off = await serve(false);
const server: Record<'validationOn' | 'validationOff', Awaited<ReturnType<typeof pingRound>>[]> = {
  validationOn: [],
  validationOff: [],
};
// Alternated, the order swapped every round, so neither variant always runs first.
for (let round = 0; round < serverRounds; round++) {
  const order = round % 2 === 0 ? (['validationOn', 'validationOff'] as const) : (['validationOff', 'validationOn'] as const);
  for (const variant of order) server[variant].push(await pingRound(variant === 'validationOn' ? on : off));
}
await Promise.all([on.shutdown(1000), off.shutdown(1000)]);
const median = (rows: readonly { callsPerSecond: number; p50Ms: number; p99Ms: number }[]) => ({
  callsPerSecond: percentile(
    rows.map((row) => row.callsPerSecond),
    0.5,
  ),
  p50Ms: percentile(
    rows.map((row) => row.p50Ms),
    0.5,
  ),
  p99Ms: percentile(
    rows.map((row) => row.p99Ms),
    0.5,
  ),
});

console.log(
  JSON.stringify(
    {
      node: process.version,
      rounds,
      messagesPerRound,
      bytes: { valid: valid.length, invalid: invalid.length },
      startup: { createMethodValidatorsMs: +startupMs.toFixed(1) },
      usPerMessage: perMessage,
      pingWithoutRules: {
        callsPerRound,
        concurrency,
        rounds: serverRounds,
        medianOfRounds: { validationOn: median(server.validationOn), validationOff: median(server.validationOff) },
      },
    },
    null,
    2,
  ),
);
