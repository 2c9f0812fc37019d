import { GENERATED_HEADER } from '../codegen/header.js';
import { CODEGEN_RUNTIME_MODULE } from '../codegen/runtime-symbols.js';
import type { SERVICE_MANIFEST_FILE } from '@grpcforge/runtime';

/** File name of the manifest in `dist/` (the runtime's `SERVICE_MANIFEST_FILE`; the type proves they are equal). */
export const MANIFEST_FILE: typeof SERVICE_MANIFEST_FILE = 'grpcforge.service.json';

/** File name of the entry `node <service dir>/dist/main.js` runs. */
export const MAIN_FILE = 'main.js';

/**
 * The runtime package a built service imports `runBuiltService` from: the generated code's runtime module without its
 * versioned subpath (`@grpcforge/runtime/codegen-v1` → `@grpcforge/runtime`), so a rename of the package reaches both.
 */
export function runtimePackageSpecifier(): string {
  return CODEGEN_RUNTIME_MODULE.replace(/\/codegen-v1$/, '');
}

/**
 * The text of `dist/main.js` for a service: the generated-code header, then a call of the runtime's
 * `runBuiltService` with the manifest beside it and the compiled server entry (`gen/server/index.js`), both found
 * relative to the file itself, so it runs from any working directory.
 * @param serviceName the service's name, for the comment line.
 */
export function renderMainEntry(serviceName: string): string {
  return [
    GENERATED_HEADER,
    `// The entry of the service "${serviceName}" built by \`grpcforge build\`: node <service dir>/dist/${MAIN_FILE}`,
    `import { runBuiltService } from '${runtimePackageSpecifier()}';`,
    '',
    'await runBuiltService({',
    `  manifestUrl: new URL('./${MANIFEST_FILE}', import.meta.url),`,
    "  loadEntry: () => import('./gen/server/index.js'),",
    '});',
    '',
  ].join('\n');
}
