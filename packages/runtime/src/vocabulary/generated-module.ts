/**
 * Where `grpcforge generate` writes a service's server module, relative to the service's folder; `grpcforge serve`,
 * `dev` and `build` load it from there (a built service from `dist/gen/server/index.js`).
 */
export const GENERATED_SERVER_MODULE_PATH = 'src/gen/server/index.ts';

/**
 * The exports of a generated server module, by name (the runtime's `GeneratedServerModule` types them):
 * `services` and `descriptorSet` are generated; the others are re-exported from the service's user-owned files
 * (`src/context.ts`, `src/middleware/auth.ts`, `src/middleware/logging.ts`, `src/middleware/index.ts`).
 */
export const GENERATED_SERVER_MODULE_EXPORTS = {
  services: 'services',
  descriptorSet: 'descriptorSet',
  createServiceContext: 'createServiceContext',
  authHooks: 'authHooks',
  loggingHooks: 'loggingHooks',
  middleware: 'middleware',
} as const;

/** Exports a server module generated before they existed may lack; the service host then uses none. */
export const OPTIONAL_SERVER_MODULE_EXPORTS = ['authHooks', 'loggingHooks', 'middleware'] as const;

/** The user-owned module that exports the service's middleware list, relative to the service's folder. */
export const SERVICE_MIDDLEWARE_PATH = 'src/middleware/index.ts';

/** Where `generate` writes the stub of a consumed service `fullName` (`auth.v1.AuthService`), in the consumer's folder. */
export function generatedStubModulePath(fullName: string): string {
  return `src/gen/stubs/${fullName}.ts`;
}

/** The exports of a generated stub module that `grpcforge serve <full name> --stub` reads, by name. */
export const GENERATED_STUB_MODULE_EXPORTS = { definition: 'definition' } as const;
