import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

interface PackageManifest {
  readonly version: string;
  readonly bugs?: { readonly url?: string };
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

/** Where grpcforge's bugs are reported: package.json's `bugs.url` (what `npm bugs grpcforge` opens). */
export function grpcforgeIssuesUrl(): string | undefined {
  return readManifest().bugs?.url;
}

/**
 * The installed version of a dependency, as this module resolves it (the CLI and the runtime share one copy of a
 * hoisted package); `undefined` when it is not installed or has no readable package.json.
 */
export function installedVersion(packageName: string): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${packageName}/package.json`) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
