/**
 * `@grpcforge/runtime/vocabulary`: the words every layer of grpcforge shares — the CLI's config resolution, the
 * generator, the dashboard and its browser pages, and the runtime itself. A leaf: its modules (under `vocabulary/`)
 * import nothing but each other, no package and no Node built-in, so anything may import it, a browser page
 * included, and a value is defined once instead of being copied between layers and kept equal by tests.
 * @packageDocumentation
 */
export {
  GENERATED_SERVER_MODULE_EXPORTS,
  GENERATED_SERVER_MODULE_PATH,
  GENERATED_STUB_MODULE_EXPORTS,
  OPTIONAL_SERVER_MODULE_EXPORTS,
  SERVICE_MIDDLEWARE_PATH,
  generatedStubModulePath,
} from './vocabulary/generated-module.js';
