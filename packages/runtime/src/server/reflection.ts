import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { CompatServiceDefinition } from 'nice-grpc';
import { ServerReflection, ServerReflectionService } from 'nice-grpc-server-reflection';
import { BUILTIN_DESCRIPTOR_SET_BASE64, BUILTIN_FILES } from './builtin-descriptors.js';
import { HEALTH_SERVICE_NAME, REFLECTION_SERVICE_NAMES } from '../vocabulary/builtin-services.js';

/** Options of {@link createReflectionServices}. */
export interface ReflectionOptions {
  /** The server serves `grpc.health.v1.Health`: list and describe it too. @defaultValue true */
  readonly health?: boolean;
}

/** A reflection service as `server.add` takes it: its definition and its implementation. */
export interface ReflectionService {
  readonly definition: CompatServiceDefinition;
  /** nice-grpc-server-reflection's implementation, which serves both definitions. */
  readonly implementation: object;
}

/**
 * gRPC server reflection over a FileDescriptorSet: `grpc.reflection.v1.ServerReflection` (from
 * nice-grpc-server-reflection) and `grpc.reflection.v1alpha.ServerReflection` for older clients. The v1alpha messages
 * are wire-identical to v1 (grpc/grpc-proto `reflection/v1alpha/reflection.proto`), so the same implementation serves
 * both under the two method paths.
 *
 * Besides `serviceNames`, reflection lists and describes the two reflection services and, unless `health: false`,
 * `grpc.health.v1.Health`, from descriptors embedded in the runtime ({@link builtinDescriptorSet}), so that
 * `buf curl .../grpc.health.v1.Health/Check` works without the .proto. A file the given set already has (same name)
 * is not added twice.
 * @param descriptorSet protobuf-encoded FileDescriptorSet with every file the services need (imports included).
 * @param serviceNames the fully-qualified services to list.
 */
export function createReflectionServices(
  descriptorSet: Uint8Array,
  serviceNames: readonly string[],
  options: ReflectionOptions = {},
): ReflectionService[] {
  const health = options.health ?? true;
  const builtin: string[] = [
    BUILTIN_FILES.reflectionV1,
    BUILTIN_FILES.reflectionV1alpha,
    ...(health ? [BUILTIN_FILES.health] : []),
  ];
  const merged = mergeDescriptorSets(descriptorSet, builtinDescriptorSet(), (name) => builtin.includes(name));
  const listed = [...new Set([...serviceNames, ...(health ? [HEALTH_SERVICE_NAME] : []), ...REFLECTION_SERVICE_NAMES])];
  const implementation = ServerReflection(merged, listed);
  const v1alphaDefinition = {
    serverReflectionInfo: {
      ...ServerReflectionService.serverReflectionInfo,
      path: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
    },
  };
  return [
    { definition: ServerReflectionService, implementation },
    { definition: v1alphaDefinition, implementation },
  ];
}

let builtinSet: Uint8Array | undefined;

/**
 * The FileDescriptorSet (protobuf binary) of `grpc/health/v1/health.proto`, `grpc/reflection/v1/reflection.proto`
 * and `grpc/reflection/v1alpha/reflection.proto`, embedded at build time (scripts/build-builtin-descriptors.mjs).
 */
export function builtinDescriptorSet(): Uint8Array {
  builtinSet ??= new Uint8Array(Buffer.from(BUILTIN_DESCRIPTOR_SET_BASE64, 'base64'));
  return builtinSet;
}

/**
 * `base` followed by the files of `extra` that `include` accepts and `base` does not already have (by file name),
 * decoded and encoded with protobuf-es's descriptor schema (no hand-written wire code).
 */
function mergeDescriptorSets(base: Uint8Array, extra: Uint8Array, include: (fileName: string) => boolean): Uint8Array {
  const baseSet = fromBinary(FileDescriptorSetSchema, base);
  const present = new Set(baseSet.file.map((file) => file.name));
  const added = fromBinary(FileDescriptorSetSchema, extra).file.filter((file) => include(file.name) && !present.has(file.name));
  if (added.length === 0) return base;
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: [...baseSet.file, ...added] }));
}
