import type { CompatServiceDefinition } from 'nice-grpc';
import { ServerReflection, ServerReflectionService } from 'nice-grpc-server-reflection';
import { BUILTIN_DESCRIPTOR_SET_BASE64, BUILTIN_FILES } from './builtin-descriptors.js';

/** Fully-qualified name of the gRPC health service. */
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/** Fully-qualified names of the reflection services {@link createReflectionServices} serves. */
export const REFLECTION_SERVICE_NAMES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

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
 * `base` followed by the files of `extra` that `include` accepts and `base` does not already have (by file name).
 * FileDescriptorSet has one field, `repeated FileDescriptorProto file = 1`, so sets concatenate: each file is copied
 * with its bytes untouched.
 */
function mergeDescriptorSets(base: Uint8Array, extra: Uint8Array, include: (fileName: string) => boolean): Uint8Array {
  const present = new Set(descriptorSetFiles(base).map((file) => file.name));
  const added = descriptorSetFiles(extra).filter((file) => include(file.name) && !present.has(file.name));
  if (added.length === 0) return base;
  return Buffer.concat([base, ...added.map((file) => file.record)]);
}

/** The files of a FileDescriptorSet: each file's name and its whole field record (tag, length, bytes). */
function descriptorSetFiles(set: Uint8Array): { name: string; record: Uint8Array }[] {
  const files: { name: string; record: Uint8Array }[] = [];
  forEachField(set, (field, wireType, value, record) => {
    if (field !== 1 || wireType !== 2 || !value) return;
    let name = '';
    forEachField(value, (inner, innerType, innerValue) => {
      if (inner === 1 && innerType === 2 && innerValue) name = Buffer.from(innerValue).toString('utf8');
    });
    files.push({ name, record });
  });
  return files;
}

/**
 * Walks the top-level fields of a protobuf message: `value` is the payload of a length-delimited field, `record` the
 * whole field (tag included).
 */
function forEachField(
  bytes: Uint8Array,
  visit: (field: number, wireType: number, value: Uint8Array | undefined, record: Uint8Array) => void,
): void {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length) throw new Error('malformed descriptor set: truncated varint');
      const byte = bytes[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
    }
  };
  while (pos < bytes.length) {
    const start = pos;
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    let value: Uint8Array | undefined;
    if (wireType === 0) varint();
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const length = varint();
      value = bytes.subarray(pos, pos + length);
      pos += length;
    } else throw new Error(`malformed descriptor set: wire type ${wireType}`);
    if (pos > bytes.length) throw new Error('malformed descriptor set: truncated field');
    visit(field, wireType, value, bytes.subarray(start, pos));
  }
}
