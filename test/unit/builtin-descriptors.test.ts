import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';
import { ChannelCredentials } from 'nice-grpc';
import { createReflectionClient } from '../../src/call/reflection-client.ts';
import { registryFromFiles } from '../../src/call/dynamic-call.ts';
import { startServer } from '../../packages/runtime/src/server/start-server.ts';
import { builtinDescriptorSet } from '../../packages/runtime/src/server/reflection.ts';
import { EchoDefinition } from '../helpers/json-definition.ts';
import { repoRoot } from '../helpers/workspace.ts';
// @ts-expect-error plain .mjs script
import { BUILTIN_DESCRIPTORS_MODULE, renderBuiltinDescriptors } from '../../scripts/build-builtin-descriptors.mjs';

// The health and reflection descriptors the runtime embeds (scripts/build-builtin-descriptors.mjs), and reflection
// serving them next to the served services' own.

/** A FileDescriptorSet with `test.v1.EchoService` (one unary method), as `generate` would embed for it. */
function echoDescriptorSet(): Uint8Array {
  const file = create(FileDescriptorProtoSchema, {
    name: 'test/v1/echo.proto',
    package: 'test.v1',
    syntax: 'proto3',
    messageType: [
      {
        name: 'EchoMessage',
        field: [
          {
            name: 'text',
            number: 1,
            type: FieldDescriptorProto_Type.STRING,
            label: FieldDescriptorProto_Label.OPTIONAL,
            jsonName: 'text',
          },
        ],
      },
    ],
    service: [
      { name: 'EchoService', method: [{ name: 'Echo', inputType: '.test.v1.EchoMessage', outputType: '.test.v1.EchoMessage' }] },
    ],
  });
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: [file] }));
}

async function reflect(health: boolean, descriptorSet = echoDescriptorSet()) {
  const server = await startServer({
    services: [
      {
        definition: EchoDefinition,
        implementation: Object.fromEntries(Object.keys(EchoDefinition.methods).map((key) => [key, async () => ({})])),
      },
    ],
    host: '127.0.0.1',
    port: 0,
    descriptorSet,
    health,
  });
  const client = createReflectionClient(server.address, { credentials: ChannelCredentials.createInsecure() });
  return {
    client,
    async close() {
      client.close();
      await server.shutdown(1000);
    },
  };
}

describe('built-in descriptors (health, reflection v1 and v1alpha)', () => {
  test('the committed packages/runtime/src/server/builtin-descriptors.ts is what the script writes (run `npm run descriptors`)', async () => {
    const committed = await readFile(join(repoRoot, BUILTIN_DESCRIPTORS_MODULE as string), 'utf8');
    assert.equal(committed, (renderBuiltinDescriptors as () => string)(), 'stale: run `npm run descriptors`');
  });

  test('the set has the three files; v1alpha is v1 in package grpc.reflection.v1alpha', () => {
    const set = fromBinary(FileDescriptorSetSchema, builtinDescriptorSet());
    assert.deepEqual(
      set.file.map((file) => [file.name, file.package]),
      [
        ['grpc/health/v1/health.proto', 'grpc.health.v1'],
        ['grpc/reflection/v1/reflection.proto', 'grpc.reflection.v1'],
        ['grpc/reflection/v1alpha/reflection.proto', 'grpc.reflection.v1alpha'],
      ],
    );
    const registry = createFileRegistry(set);
    // What nice-grpc-server-health serves: upstream's List is left out, so reflection never offers an RPC that
    // answers UNIMPLEMENTED.
    assert.deepEqual(
      registry
        .getService('grpc.health.v1.Health')
        ?.methods.map((method) => method.name)
        .sort(),
      ['Check', 'Watch'],
    );
    assert.equal(registry.getMessage('grpc.health.v1.HealthListResponse'), undefined);
    const v1 = registry.getService('grpc.reflection.v1.ServerReflection')!;
    const v1alpha = registry.getService('grpc.reflection.v1alpha.ServerReflection')!;
    assert.equal(v1alpha.methods[0]?.input.typeName, 'grpc.reflection.v1alpha.ServerReflectionRequest');
    const shape = (message: (typeof v1.methods)[number]['input']) =>
      message.fields.map((field) => [field.number, field.name, field.fieldKind]);
    assert.deepEqual(shape(v1alpha.methods[0].input), shape(v1.methods[0]!.input), 'wire-identical requests');
    assert.deepEqual(shape(v1alpha.methods[0].output), shape(v1.methods[0]!.output), 'wire-identical responses');
  });

  test('reflection lists and describes health and both reflection services next to the served ones', async () => {
    const server = await reflect(true);
    try {
      assert.deepEqual(await server.client.listServices(), [
        'grpc.health.v1.Health',
        'grpc.reflection.v1.ServerReflection',
        'grpc.reflection.v1alpha.ServerReflection',
        'test.v1.EchoService',
      ]);
      for (const [service, method] of [
        ['grpc.health.v1.Health', 'Check'],
        ['grpc.reflection.v1.ServerReflection', 'ServerReflectionInfo'],
        ['grpc.reflection.v1alpha.ServerReflection', 'ServerReflectionInfo'],
        ['test.v1.EchoService', 'Echo'],
      ] as const) {
        const registry = registryFromFiles(await server.client.filesForSymbol(service));
        assert.ok(
          registry.getService(service)?.methods.some((candidate) => candidate.name === method),
          `${service}/${method}`,
        );
      }
    } finally {
      await server.close();
    }
  });

  test('without health, health is neither listed nor described', async () => {
    const server = await reflect(false);
    try {
      assert.deepEqual(await server.client.listServices(), [
        'grpc.reflection.v1.ServerReflection',
        'grpc.reflection.v1alpha.ServerReflection',
        'test.v1.EchoService',
      ]);
      await assert.rejects(server.client.filesForSymbol('grpc.health.v1.Health'), /Symbol not found: grpc\.health\.v1\.Health/);
    } finally {
      await server.close();
    }
  });

  test('a served set that already has health.proto keeps its own copy (no file twice)', async () => {
    const served = fromBinary(FileDescriptorSetSchema, echoDescriptorSet());
    const ownHealth = create(FileDescriptorProtoSchema, {
      name: 'grpc/health/v1/health.proto',
      package: 'grpc.health.v1',
      syntax: 'proto3',
      messageType: [{ name: 'HealthCheckRequest' }, { name: 'HealthCheckResponse' }],
      service: [
        {
          name: 'Health',
          method: [
            { name: 'Check', inputType: '.grpc.health.v1.HealthCheckRequest', outputType: '.grpc.health.v1.HealthCheckResponse' },
          ],
        },
      ],
    });
    const server = await reflect(
      true,
      toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: [...served.file, ownHealth] })),
    );
    try {
      const files = (await server.client.filesForSymbol('grpc.health.v1.Health')).map((bytes) =>
        fromBinary(FileDescriptorProtoSchema, bytes),
      );
      assert.deepEqual(
        files.map((file) => [file.name, file.service[0]?.method.map((method) => method.name)]),
        [['grpc/health/v1/health.proto', ['Check']]],
      );
    } finally {
      await server.close();
    }
  });
});
