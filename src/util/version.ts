import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface PackageManifest {
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

let manifest: PackageManifest | undefined;

/** grpcforge's package.json (two folders above this module in `src/` and in `dist/`), read once. */
function readManifest(): PackageManifest {
  manifest ??= JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageManifest;
  return manifest;
}

/** The folder of the running grpcforge package (its package.json), as loaded (Node resolves symlinks). */
export function grpcforgePackageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** grpcforge's own version. */
export function grpcforgeVersion(): string {
  return readManifest().version;
}

/** The package's dependency ranges, so `init` writes a workspace that matches this grpcforge. */
export function grpcforgeDependencyRanges(): Record<string, string> {
  const { dependencies, devDependencies } = readManifest();
  return { ...devDependencies, ...dependencies };
}
