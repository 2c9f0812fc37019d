import assert from 'node:assert/strict';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { TsProtoServiceDefinition } from 'nice-grpc';
import { loadContract } from '../../src/contract/load-contract.ts';
import type { ContractMethod } from '../../src/contract/model.ts';
import { methodLocalName, tsProtoModulePath, tsProtoServiceNames } from '../../src/contract/names.ts';
import type * as RuntimeModule from '../../packages/runtime/src/index.ts';
import {
  linkWorkspace,
  repoRoot,
  runCli,
  runProgram,
  publicContracts,
  startServe,
  tempDir,
  tscPath,
  writeFiles,
} from '../helpers/workspace.ts';

// What users bring: public contracts from fixtures/contracts, each generated, type-checked, served and called.

interface Case {
  readonly root: string;
  readonly services: readonly string[];
}

const CASES: readonly Case[] = [
  { root: 'grpc-node/examples/protos', services: ['helloworld.Greeter', 'routeguide.RouteGuide'] },
  { root: 'grpc-node/test/proto', services: ['grpc.testing.TestService', 'grpc.testing.UnimplementedService'] },
  { root: 'googleapis', services: ['google.pubsub.v1.Publisher', 'google.pubsub.v1.Subscriber'] },
  // What a team vendors to receive its own telemetry: an OTLP collector built with grpcforge.
  {
    root: 'opentelemetry-proto',
    services: [
      'opentelemetry.proto.collector.trace.v1.TraceService',
      'opentelemetry.proto.collector.metrics.v1.MetricsService',
      'opentelemetry.proto.collector.logs.v1.LogsService',
    ],
  },
];

type Runtime = typeof RuntimeModule;

async function* none(): AsyncIterable<object> {}

/** Reads a response stream to its end (or its error), discarding the messages. */
async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  const iterator = stream[Symbol.asyncIterator]();
  while (!(await iterator.next()).done) {
    // discard the message
  }
}

/** Calls a method with an empty request (or stream) the way its kind requires. */
async function call(client: Record<string, (...args: unknown[]) => unknown>, method: ContractMethod): Promise<void> {
  const fn = client[methodLocalName(method)]!;
  switch (method.kind) {
    case 'unary':
      await fn({});
      return;
    case 'clientStreaming':
      await fn(none());
      return;
    case 'serverStreaming':
      await drain(fn({}) as AsyncIterable<unknown>);
      return;
    case 'bidiStreaming':
      await drain(fn(none()) as AsyncIterable<unknown>);
      return;
  }
}

describe('public contracts: generate, type-check, serve, call every method', () => {
  for (const { root, services } of CASES) {
    test(root, async () => {
      const ws = await tempDir();
      await cp(join(publicContracts, root), join(ws, 'proto'), { recursive: true });
      await cp(join(repoRoot, 'templates/workspace/buf.gen.yaml'), join(ws, 'buf.gen.yaml'));
      await cp(join(repoRoot, 'templates/workspace/tsconfig.json'), join(ws, 'tsconfig.json'));
      const consumes = services.map((service) => `      - ${service}`).join('\n');
      await writeFiles(ws, {
        'buf.yaml': 'version: v2\nmodules:\n  - path: proto\n',
        'package.json': '{ "private": true, "type": "module" }\n',
        'grpcforge.yaml': `version: 1\nservices:\n  server:\n    serves: [${services.join(', ')}]\n    listen: 127.0.0.1:0\n  consumer:\n    consumes:\n${consumes}\nauth:\n  default: public\n`,
      });
      await linkWorkspace(ws);

      const generate = runCli(['generate'], ws);
      assert.equal(generate.code, 0, generate.stderr);
      const tsc = runProgram(tscPath, ['-p', ws], ws);
      assert.equal(tsc.code, 0, tsc.stdout);

      const server = await startServe(ws, 'server');
      const runtime = (await import(pathToFileURL(join(ws, 'node_modules/@grpcforge/runtime/dist/index.js')).href)) as Runtime;
      const { HealthDefinition } = await import('nice-grpc-server-health');
      const health = runtime.createServiceClient(HealthDefinition, { target: server.address });
      const { contract } = await loadContract(join(ws, 'proto'), ws);
      let called = 0;
      for (const service of contract.services.filter((candidate) => services.includes(candidate.fullName))) {
        assert.equal((await health.check({ service: service.fullName })).status, 1, `${service.fullName} SERVING`);
        const pb = join(ws, 'services/server/src/gen/pb', tsProtoModulePath(service.file));
        const module = (await import(pathToFileURL(pb).href)) as Record<string, TsProtoServiceDefinition>;
        const definition = module[tsProtoServiceNames(service).definition]!;
        const client = runtime.createServiceClient(definition, { target: server.address, deadlineMs: 5000 });
        for (const method of service.methods) {
          await assert.rejects(call(client, method), (error: unknown) => {
            assert.ok(error instanceof runtime.ClientError, `${method.path}: ${String(error)}`);
            assert.equal(runtime.Status[error.code], 'UNIMPLEMENTED', method.path);
            assert.equal(error.details, `${method.path} is not implemented yet`);
            return true;
          });
          called++;
        }
        runtime.closeServiceClient(client);
      }
      runtime.closeServiceClient(health);
      assert.ok(called >= services.length, `called ${called} methods`);
      assert.equal(await server.stop(), 0);

      // The consumer got a client factory and a stub per consumed service, and nothing to serve.
      const stub = await readFile(join(ws, `services/consumer/src/gen/stubs/${services[0]!}.ts`), 'utf8');
      assert.match(stub, /export function start\w+Stub\(/);
    });
  }
});
