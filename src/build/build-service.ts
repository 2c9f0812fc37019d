import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ResolvedConfig } from '../config/resolved.js';
import { UserError } from '../util/errors.js';
import { toPosix } from '../util/fs.js';
import { compileService, type SourceFileCache } from './compile-service.js';
import { MAIN_FILE, MANIFEST_FILE, renderMainEntry } from './main-entry.js';
import { toServiceManifest } from './service-manifest.js';

/** Where the compiled service goes, relative to its folder. */
export const DIST_DIR = 'dist';

/** One file `grpcforge build` wrote. */
export interface BuiltFile {
  /** Workspace-relative POSIX path, for example `services/auth/dist/main.js`. */
  readonly path: string;
  /** Size in bytes. */
  readonly bytes: number;
}

/** What {@link buildService} did for one service. */
export interface BuildServiceResult {
  /** The service's name in grpcforge.yaml. */
  readonly service: string;
  /** Its output folder, workspace-relative POSIX (`services/auth/dist`). */
  readonly outDir: string;
  /** Every file written, sorted by path. */
  readonly files: readonly BuiltFile[];
  /** Sum of the files' sizes, in bytes. */
  readonly bytes: number;
  /** Wall time of type-check, compile and write, in milliseconds. */
  readonly durationMs: number;
}

/** Options of {@link buildService}. */
export interface BuildServiceOptions {
  /** Declarations parsed by an earlier build of the same run (see `createSourceFileCache`). */
  readonly cache?: SourceFileCache;
}

/**
 * Builds one service into `<service dir>/dist/`: type-checks and compiles its `src/` (see `compileService`), then
 * replaces the previous `dist/` with the compiled JavaScript and source maps, `grpcforge.service.json` (the manifest
 * from `toServiceManifest`, 2-space JSON) and `main.js` (runs the service with the runtime's `runBuiltService`). The
 * new folder is written beside the old one and renamed into place, so a failed or interrupted build never leaves a
 * mix; when the code has type errors the previous `dist/` is removed, so a stale build cannot be started either.
 * @throws UserError `unknown-service`, `nothing-to-serve` (from the manifest), `not-generated` when the service has
 *   no generated server code, `type-errors` with one `path:line:col: message` detail per error (paths relative to the
 *   workspace root).
 */
export async function buildService(
  config: ResolvedConfig,
  serviceName: string,
  options: BuildServiceOptions = {},
): Promise<BuildServiceResult> {
  const started = performance.now();
  const manifest = toServiceManifest(config, serviceName);
  const service = config.services.find((candidate) => candidate.name === serviceName)!;
  const label = (path: string) => toPosix(relative(config.workspaceDir, path)) || '.';
  if (!existsSync(join(service.dir, 'src/gen/server/index.ts'))) {
    throw new UserError('not-generated', `service "${serviceName}" has no generated server code`, [
      `${label(join(service.dir, 'src/gen/server/index.ts'))} is missing: run \`grpcforge generate\` first`,
    ]);
  }
  const outDir = join(service.dir, DIST_DIR);
  const compiled = await compileService({
    serviceDir: service.dir,
    workspaceDir: config.workspaceDir,
    outDir,
    ...(options.cache ? { cache: options.cache } : {}),
  });
  if (!compiled.ok) {
    await rm(outDir, { recursive: true, force: true });
    const count = compiled.errors.length;
    throw new UserError(
      'type-errors',
      `service "${serviceName}" has ${count} type error${count === 1 ? '' : 's'}: nothing built, ${label(outDir)}/ removed`,
      compiled.errors.flatMap((error) => error.split('\n')),
    );
  }
  const files = [
    ...compiled.files,
    { path: MANIFEST_FILE, content: `${JSON.stringify(manifest, null, 2)}\n` },
    { path: MAIN_FILE, content: renderMainEntry(serviceName) },
  ];
  const staging = join(service.dir, `.${DIST_DIR}-${process.pid}.tmp`);
  await rm(staging, { recursive: true, force: true });
  try {
    for (const file of files) {
      const path = join(staging, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content);
    }
    await rm(outDir, { recursive: true, force: true });
    await rename(staging, outDir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const written = files
    .map((file) => ({ path: label(join(outDir, file.path)), bytes: Buffer.byteLength(file.content) }))
    .sort((a, b) => a.path.localeCompare(b.path));
  return {
    service: serviceName,
    outDir: label(outDir),
    files: written,
    bytes: written.reduce((sum, file) => sum + file.bytes, 0),
    durationMs: Math.round(performance.now() - started),
  };
}
