import { readFileSync } from 'node:fs';

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

/** grpcforge's own version. */
export function grpcforgeVersion(): string {
  return readManifest().version;
}

/** The package's dependency ranges, so `init` writes a workspace that matches this grpcforge. */
export function grpcforgeDependencyRanges(): Record<string, string> {
  const { dependencies, devDependencies } = readManifest();
  return { ...devDependencies, ...dependencies };
}
