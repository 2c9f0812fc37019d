// A service's production install: the dependencies `grpcforge init` writes into a workspace's package.json
// (@grpcforge/runtime and what ts-proto's output imports; the grpcforge CLI is a dev dependency) against the anchor,
// the same service written by hand on nice-grpc and its health, reflection, deadline and retry packages, kysely,
// better-sqlite3, jose and @bufbuild/protobuf (issue 19's target: ≤ 1.2× the anchor's size).
//   node --import tsx bench/install-size.ts [--keep]
// Packs the runtime package (npm pack runs its build), then in two empty temp projects runs `npm install --omit=dev`
// of the workspace's dependencies and of the anchor's packages, at the ranges this repository pins. better-sqlite3 compiles
// from source in both (.prebuild-installrc is copied into each), as it does here. Prints JSON on stdout (progress on
// stderr): per install the packages, the bytes of their files (apparent size), the disk usage (du -sk, KiB) and the
// install's wall time, and the ratios of grpcforge to the anchor. Needs the npm registry; --keep leaves the projects.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { planWorkspace } from '../src/codegen/workspace.ts';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const readDependencies = (path: string) =>
  (JSON.parse(readFileSync(join(repoRoot, path), 'utf8')) as { dependencies: Record<string, string> }).dependencies;
/** The ranges this repository pins: the runtime's own, then the CLI's. */
const ranges = { ...readDependencies('package.json'), ...readDependencies('packages/runtime/package.json') };

/** What a hand-written service on nice-grpc installs for the same features (the anchor). */
const ANCHOR = [
  'nice-grpc',
  'nice-grpc-server-health',
  'nice-grpc-server-reflection',
  'nice-grpc-client-middleware-deadline',
  'nice-grpc-client-middleware-retry',
  'kysely',
  'better-sqlite3',
  'jose',
  '@bufbuild/protobuf',
] as const;

function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${String(result.status)} in ${cwd}`);
  return result.stdout;
}

/** Packages under node_modules (every folder holding a package.json, scoped ones included, nested ones too). */
function countPackages(modules: string): number {
  let count = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === '.bin' || entry.name === '.cache') continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith('@')) walk(path);
      else {
        count++;
        const nested = join(path, 'node_modules');
        if (statSync(nested, { throwIfNoEntry: false })?.isDirectory()) walk(nested);
      }
    }
  };
  walk(modules);
  return count;
}

/** The apparent size of every file under `dir`, in bytes (symbolic links not followed). */
function apparentBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

interface InstallFigures {
  readonly packages: number;
  readonly bytes: number;
  readonly diskKiB: number;
  readonly installMs: number;
}

function install(name: string, dependencies: Record<string, string>, allowScripts: readonly string[]): InstallFigures {
  const dir = mkdtempSync(join(tmpdir(), `grpcforge-install-${name}-`));
  process.stderr.write(`${name}: npm install --omit=dev in ${dir}\n`);
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify(
      {
        name: `bench-${name}`,
        private: true,
        type: 'module',
        dependencies,
        allowScripts: Object.fromEntries(allowScripts.map((spec) => [spec, true])),
      },
      null,
      2,
    )}\n`,
  );
  copyFileSync(join(repoRoot, '.prebuild-installrc'), join(dir, '.prebuild-installrc'));
  const start = performance.now();
  run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock'], dir);
  const installMs = Math.round(performance.now() - start);
  const modules = join(dir, 'node_modules');
  const figures = {
    packages: countPackages(modules),
    bytes: apparentBytes(modules),
    diskKiB: Number(run('du', ['-sk', modules], dir).split('\t')[0]),
    installMs,
  };
  process.stderr.write(`${name}: ${JSON.stringify(figures)}\n`);
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  return figures;
}

const packDir = mkdtempSync(join(tmpdir(), 'grpcforge-pack-'));
process.stderr.write('npm pack --workspace @grpcforge/runtime (builds its dist/)\n');
const [packed] = JSON.parse(
  run('npm', ['pack', '--workspace', '@grpcforge/runtime', '--json', '--pack-destination', packDir], repoRoot),
) as { filename: string }[];
const tarball = `file:${join(packDir, packed!.filename)}`;
// What init writes, with the runtime from the tarball: the workspace's production dependencies and allowScripts.
const workspaceManifest = JSON.parse(
  (await planWorkspace('bench', '^0.0.0', tarball)).find((file) => file.path === 'package.json')!.content,
) as { dependencies: Record<string, string>; allowScripts: Record<string, boolean> };

const anchorDependencies = Object.fromEntries(
  ANCHOR.map((name) => {
    const range = ranges[name];
    if (range === undefined) throw new Error(`package.json has no dependency ${name}: the anchor takes its range from there`);
    return [name, range];
  }),
);
const anchor = install('anchor', anchorDependencies, ['better-sqlite3']);
const grpcforge = install('grpcforge', workspaceManifest.dependencies, Object.keys(workspaceManifest.allowScripts));
rmSync(packDir, { recursive: true, force: true });

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
process.stdout.write(
  `${JSON.stringify(
    {
      node: process.version,
      anchor: { dependencies: anchorDependencies, ...anchor },
      grpcforge: { dependencies: workspaceManifest.dependencies, ...grpcforge },
      ratios: {
        packages: ratio(grpcforge.packages, anchor.packages),
        bytes: ratio(grpcforge.bytes, anchor.bytes),
        diskKiB: ratio(grpcforge.diskKiB, anchor.diskKiB),
      },
    },
    null,
    2,
  )}\n`,
);
