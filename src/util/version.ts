import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** grpcforge's own version, from its package.json (two folders above this module in `src/` and in `dist/`). */
export function grpcforgeVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}

/** The package's dependency ranges, so `init` writes a workspace that matches this grpcforge. */
export function grpcforgeDependencyRanges(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  return { ...manifest.devDependencies, ...manifest.dependencies };
}
