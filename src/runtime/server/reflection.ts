import type { CompatServiceDefinition, ServiceImplementation } from 'nice-grpc';
import { ServerReflection, ServerReflectionService } from 'nice-grpc-server-reflection';

/** Fully-qualified names of the reflection services {@link createReflectionServices} serves. */
export const REFLECTION_SERVICE_NAMES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

/**
 * gRPC server reflection over a FileDescriptorSet: `grpc.reflection.v1.ServerReflection` (from
 * nice-grpc-server-reflection) and `grpc.reflection.v1alpha.ServerReflection` for older clients. The v1alpha messages
 * are wire-identical to v1 (grpc/grpc-proto `reflection/v1alpha/reflection.proto`), so the same implementation serves
 * both under the two method paths.
 * @param descriptorSet protobuf-encoded FileDescriptorSet with every file the services need (imports included).
 * @param serviceNames the fully-qualified services to list.
 */
export function createReflectionServices(
  descriptorSet: Uint8Array,
  serviceNames: readonly string[],
): { definition: CompatServiceDefinition; implementation: ServiceImplementation<CompatServiceDefinition> }[] {
  const implementation = ServerReflection(descriptorSet, serviceNames);
  const v1alphaDefinition = {
    serverReflectionInfo: {
      ...ServerReflectionService.serverReflectionInfo,
      path: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
    },
  };
  return [
    { definition: ServerReflectionService, implementation: implementation as ServiceImplementation<CompatServiceDefinition> },
    { definition: v1alphaDefinition as CompatServiceDefinition, implementation: implementation as ServiceImplementation<CompatServiceDefinition> },
  ];
}
