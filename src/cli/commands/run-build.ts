import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { BuildServiceResult } from '../../build/build-service.js';
import type { ResolvedConfig } from '../../config/resolved.js';
import { UserError } from '../../util/errors.js';
import { loadConfigFor, requireService } from '../context.js';
import { err, errLabelled, out, printJson } from '../output/print.js';

/** The flags of `grpcforge build` (commander's camelCase names). */
export interface BuildFlags {
  readonly json?: boolean;
}

/** A service that did not build, in the `--json` result. */
interface BuildFailure {
  readonly service: string;
  readonly code: string;
  readonly message: string;
  readonly details: readonly string[];
}

/**
 * `grpcforge build [service…]`, loaded when the command runs (src/cli/commands/build.ts registers it). Builds every
 * named service (default: each one that serves something); one that fails does not stop the others.
 * `--json` prints `{ version: 1, services: BuildServiceResult[], failed: BuildFailure[], warnings: string[] }`.
 * @throws UserError `unknown-service` before anything is built; the error of the service that failed (or
 *   `build-failed` listing several) after the others were built.
 */
export async function runBuild(names: readonly string[], flags: BuildFlags, command: Command): Promise<void> {
  const config = await loadConfigFor(command);
  for (const name of names) requireService(config, name);
  const selected = names.length > 0 ? [...new Set(names)] : config.services.filter((s) => s.serves.length > 0).map((s) => s.name);
  if (selected.length === 0) {
    if (flags.json) printJson({ version: 1, services: [], failed: [], warnings: [] });
    else err('note: no service in grpcforge.yaml serves anything, so there is nothing to build');
    return;
  }
  const progress = flags.json ? () => {} : (line: string) => err(line);
  const warnings = [...(await staleGeneratedCode(config, selected)), ...(await missingProductionDependencies(config, selected))];
  if (!flags.json) for (const warning of warnings) errLabelled('yellow', `warning: ${warning}`);
  const [{ buildService }, { createSourceFileCache }] = await Promise.all([
    import('../../build/build-service.js'),
    import('../../build/compile-service.js'),
  ]);
  const cache = createSourceFileCache();
  const built: BuildServiceResult[] = [];
  const failed: { readonly service: string; readonly error: UserError }[] = [];
  for (const name of selected) {
    progress(`building ${name}: type-checking and compiling its src/`);
    try {
      const result = await buildService(config, name, { cache });
      built.push(result);
      progress(`built ${name} in ${result.durationMs} ms`);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      failed.push({ service: name, error });
      progress(`failed ${name} (${error.code})`);
    }
  }
  if (flags.json) {
    printJson({
      version: 1,
      services: built,
      failed: failed.map(({ service, error }): BuildFailure => ({
        service,
        code: error.code,
        message: error.message,
        details: error.details,
      })),
      warnings,
    });
  } else {
    for (const result of built) {
      out(
        `${result.service}: ${result.outDir}/ (${result.files.length} files, ${formatBytes(result.bytes)}, ${result.durationMs} ms)`,
      );
    }
    if (built.length > 0) out(`run: node ${built[0]!.outDir}/main.js`);
  }
  if (failed.length === 1) throw failed[0]!.error;
  if (failed.length > 1) {
    throw new UserError(
      'build-failed',
      `${failed.length} services did not build: ${failed.map((failure) => failure.service).join(', ')}`,
      failed.flatMap(({ error }) => [error.message, ...error.details.map((line) => `  ${line}`)]),
    );
  }
}

/**
 * Warnings for optional packages a service needs (a PostgreSQL store, telemetry and its exporters) that the
 * workspace's package.json does not list under `dependencies`: `grpcforge serve` may still find them (another
 * package may have brought them), but a production install (`npm ci --omit=dev`) does not, and the built service
 * would stop at start. Says nothing without a package.json.
 */
async function missingProductionDependencies(config: ResolvedConfig, names: readonly string[]): Promise<string[]> {
  let declared: Record<string, unknown>;
  try {
    const manifest = JSON.parse(await readFile(join(config.workspaceDir, 'package.json'), 'utf8')) as { dependencies?: unknown };
    declared = typeof manifest.dependencies === 'object' && manifest.dependencies !== null ? { ...manifest.dependencies } : {};
  } catch {
    return [];
  }
  const [{ optionalFeaturesOf, optionalPackagesOf }, { toServiceManifest }] = await Promise.all([
    import('@grpcforge/runtime'),
    import('../../build/service-manifest.js'),
  ]);
  const warnings: string[] = [];
  for (const name of names) {
    let features: ReturnType<typeof optionalFeaturesOf>;
    try {
      features = optionalFeaturesOf(toServiceManifest(config, name));
    } catch {
      continue; // a service the build itself refuses (nothing to serve): its error says why
    }
    const missing = optionalPackagesOf(features).filter((spec) => !(spec.replace(/(?<=.)@.*$/, '') in declared));
    if (missing.length === 0) continue;
    warnings.push(
      `${name} uses ${features.join(', ')}, whose packages are not in package.json "dependencies": a production ` +
        `install (npm ci --omit=dev) leaves them out and the built service stops at start; add them: ` +
        `npm install ${missing.join(' ')}`,
    );
  }
  return warnings;
}

/**
 * Warnings when the generated code of the selected services is not what `generate` would write now, from generate's
 * own cache (never buf): its inputs changed since the last run, or its cached plan differs from the disk. Says
 * nothing when there is no cache (`generate --no-cache`, a fresh clone).
 */
async function staleGeneratedCode(config: ResolvedConfig, services: readonly string[]): Promise<string[]> {
  const [{ CACHE_PATH, computeInputs, readCachedPlan }, { findBufWorkspace }, { diffPlan }, { isDrift }] = await Promise.all([
    import('../../codegen/cache.js'),
    import('../../contract/buf.js'),
    import('../../codegen/write.js'),
    import('../output/generate-report.js'),
  ]);
  if (!existsSync(join(config.workspaceDir, CACHE_PATH))) return [];
  const inputs = await computeInputs(config, findBufWorkspace(config.contract.root, config.workspaceDir));
  const plan = await readCachedPlan(config.workspaceDir, inputs);
  if (!plan) {
    return [
      'the contracts, grpcforge.yaml, buf.gen.yaml or grpcforge changed since the last `grpcforge generate`: ' +
        'the generated code may be out of date (run `grpcforge generate`)',
    ];
  }
  const drift = (await diffPlan(config.workspaceDir, plan)).filter((entry) => isDrift(entry) && services.includes(entry.service));
  return services.flatMap((service) => {
    const paths = drift.filter((entry) => entry.service === service).map((entry) => entry.path);
    if (paths.length === 0) return [];
    const shown = paths.slice(0, 3).join(', ') + (paths.length > 3 ? `, and ${paths.length - 3} more` : '');
    return [`generated code of "${service}" differs from what \`grpcforge generate\` writes (${shown}): run it`];
  });
}

/** `12.3 kB`-style size (1 kB = 1000 bytes). */
function formatBytes(bytes: number): string {
  return bytes < 1000 ? `${bytes} B` : bytes < 1_000_000 ? `${(bytes / 1000).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(2)} MB`;
}
