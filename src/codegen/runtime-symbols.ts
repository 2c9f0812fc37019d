/**
 * Every name generated code imports from grpcforge's runtime, and the one subpath it imports them from. Generated
 * files never import `@grpcforge/runtime` (the user API) or anything else of grpcforge; the views build their import
 * lines with {@link runtimeImport}, which refuses a name that is not listed here. The golden fixtures compile
 * against `packages/runtime/src/codegen-v1.ts`, proving each name exists, and a unit test checks that module exports exactly
 * these names. A breaking change to any of them needs a new subpath (`codegen-v2`), not an edit here.
 */
export const CODEGEN_RUNTIME_MODULE = '@grpcforge/runtime/codegen-v1';

/** Values generated code uses. */
export const CODEGEN_RUNTIME_VALUES = [
  'createServiceClient',
  'decodeBase64',
  'defineService',
  'fromEnv',
  'fromEnvTemplate',
  'startStub',
  'catalogError',
  'isCatalogError',
] as const;

/** Types generated code uses. */
export const CODEGEN_RUNTIME_TYPES = [
  'CheckedServerModule',
  'ClientCallOptions',
  'GeneratedStubModule',
  'HandlerContextExtension',
  'RunningStub',
  'ServiceClientOptions',
  'ServiceRegistration',
  'StubOptions',
  'CatalogClientError',
  'CatalogMetadataValue',
  'DomainError',
] as const;

/** A value of {@link CODEGEN_RUNTIME_VALUES}. */
export type CodegenRuntimeValue = (typeof CODEGEN_RUNTIME_VALUES)[number];
/** A type of {@link CODEGEN_RUNTIME_TYPES}. */
export type CodegenRuntimeType = (typeof CODEGEN_RUNTIME_TYPES)[number];

/**
 * The import line of a generated file from {@link CODEGEN_RUNTIME_MODULE}: values, then `type` names, each sorted.
 * @example runtimeImport(['defineService'], ['ServiceRegistration'])
 *   // import { defineService, type ServiceRegistration } from '@grpcforge/runtime/codegen-v1';
 */
export function runtimeImport(values: readonly CodegenRuntimeValue[], types: readonly CodegenRuntimeType[] = []): string {
  const names = [...[...new Set(values)].sort(), ...[...new Set(types)].sort().map((name) => `type ${name}`)];
  return `import { ${names.join(', ')} } from '${CODEGEN_RUNTIME_MODULE}';`;
}
