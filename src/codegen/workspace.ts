import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';
import { listFilesRecursive, toPosix, writeFileAtomic } from '../util/fs.js';
import { grpcforgeDependencyRanges, grpcforgePackageRoot } from '../util/version.js';
import { renderTemplate, templatesDir } from './render/engine.js';

/** Options of {@link initWorkspace}. */
export interface InitOptions {
  /** Write into a folder that is not empty (existing files with the same names are replaced). */
  readonly force?: boolean;
  /** `name` in the workspace's package.json. @defaultValue the folder name */
  readonly packageName?: string;
  /** The npm spec of the `grpcforge` dev dependency in package.json. @defaultValue {@link resolveGrpcforgeDependency}'s */
  readonly grpcforgeSpec?: string;
  /** The npm spec of the `@grpcforge/runtime` dependency. @defaultValue {@link resolveRuntimeDependency}'s */
  readonly runtimeSpec?: string;
  /** Write the workspace without the example (see {@link PlanWorkspaceOptions.empty}). */
  readonly empty?: boolean;
}

/** Where the `grpcforge` dependency `init` writes comes from. */
export type GrpcforgeDependencySource =
  /** given by the user (`--grpcforge-spec`) */
  | 'flag'
  /** the running grpcforge is not under node_modules (a clone, or `npm install -g <clone>` / `npm link`): its folder */
  | 'checkout'
  /** the running grpcforge was installed from a `file:` spec (a tarball or folder, for example through npx): that file */
  | 'installed-from-file'
  /** an installed package: its version, from the registry */
  | 'registry';

/** The `grpcforge` entry of a new workspace's package.json. */
export interface GrpcforgeDependency {
  /** An npm spec: `file:<absolute path>` (a folder or a .tgz), `^<version>`, or what the user gave. */
  readonly spec: string;
  readonly source: GrpcforgeDependencySource;
}

/** Options of {@link resolveGrpcforgeDependency}. */
export interface GrpcforgeDependencyOptions {
  /** An npm spec from the user; a path or `file:` spec is made absolute against `cwd` and must exist. */
  readonly spec?: string;
  /** @defaultValue process.cwd() */
  readonly cwd?: string;
  /** The grpcforge package to point at. @defaultValue the running one */
  readonly packageRoot?: string;
}

/** Specs npm reads as a local folder or tarball (`file:...`, `./x`, `../x`, `/x`, `~/x`, `C:\\x`, `x.tgz`). */
const PATH_SPEC = /^(?:file:|\.{1,2}(?:[\\/]|$)|[\\/]|~[\\/]|[A-Za-z]:[\\/])|\.(?:tgz|tar\.gz|tar)$/;
/** A spec with a protocol (`https:`, `git+ssh:`, `npm:`), which npm fetches: never a local path, even `….tgz`. */
const REMOTE_SPEC = /^(?!file:)[a-z][a-z0-9+.-]+:/i;

/** Whether npm reads a spec as a local folder or tarball. */
function isPathSpec(spec: string): boolean {
  return !REMOTE_SPEC.test(spec) && PATH_SPEC.test(spec);
}

/**
 * The `grpcforge` dependency `init` writes, so that `npm install` in the workspace installs the grpcforge that ran
 * `init` even though it is not on the registry: the given spec; else `file:<package folder>` when the running
 * grpcforge is not under node_modules (a clone, also through the symlinks of `npm install -g <clone>` and `npm link`);
 * else the `file:` spec it was installed from, when the package.json next to its node_modules says so (npx of a
 * tarball, a workspace installed from one); else `^<version>`.
 * @throws UserError `bad-flag` for an empty spec, or a path spec that is not a grpcforge folder or a file.
 */
export function resolveGrpcforgeDependency(options: GrpcforgeDependencyOptions = {}): GrpcforgeDependency {
  if (options.spec !== undefined) {
    return givenDependency(options.spec, options.cwd, GRPCFORGE_PACKAGE, [
      'for example file:../grpcforge (a clone), file:./grpcforge-0.1.0.tgz (from `npm pack`) or ^0.1.0 (the registry)',
    ]);
  }
  const root = realpathSync(options.packageRoot ?? grpcforgePackageRoot());
  if (!root.split(/[\\/]/).includes('node_modules')) return { spec: `file:${toPosix(root)}`, source: 'checkout' };
  if (basename(dirname(root)) === 'node_modules') {
    const installedFrom = fileSpecOf(dirname(dirname(root)));
    if (installedFrom) return { spec: `file:${toPosix(installedFrom)}`, source: 'installed-from-file' };
  }
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { spec: `^${version}`, source: 'registry' };
}

/**
 * A spec the user gave (`--grpcforge-spec`, `--runtime-spec`): kept as it is, or, for a path, made absolute against
 * `cwd` and checked ({@link checkLocalSpec}).
 * @throws UserError `bad-flag` for an empty spec (`examples` are the hint), or a path that is not the package.
 */
function givenDependency(
  spec: string,
  cwd: string | undefined,
  expected: LocalPackage,
  examples: readonly string[],
): GrpcforgeDependency {
  const given = spec.trim();
  if (given === '' || given === 'file:') {
    throw new UserError('bad-flag', `${expected.flag}: expected an npm spec, got "${spec}"`, examples);
  }
  if (!isPathSpec(given)) return { spec: given, source: 'flag' };
  const path = given.replace(/^file:/, '').replace(/^~(?=[\\/])/, homedir());
  return { spec: `file:${toPosix(checkLocalSpec(resolve(cwd ?? process.cwd(), path), given, expected))}`, source: 'flag' };
}

/** What a local spec must hold: the package's name and a file its build writes. */
interface LocalPackage {
  readonly flag: string;
  readonly name: string;
  readonly builtFile: string;
}

const GRPCFORGE_PACKAGE: LocalPackage = { flag: '--grpcforge-spec', name: 'grpcforge', builtFile: 'dist/cli/main.js' };
const RUNTIME_PACKAGE: LocalPackage = { flag: '--runtime-spec', name: '@grpcforge/runtime', builtFile: 'dist/index.js' };

/** A path given as a package's spec: a tarball, or that package's folder once built. */
function checkLocalSpec(path: string, given: string, expected: LocalPackage): string {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (!stats) {
    throw new UserError('bad-flag', `${expected.flag} "${given}": "${path}" does not exist`, [
      `give a ${expected.name} folder (a clone) or the .tgz that \`npm pack\` writes there`,
    ]);
  }
  if (!stats.isDirectory()) return path;
  const manifest = join(path, 'package.json');
  const name = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name : undefined;
  if (name !== expected.name) {
    throw new UserError('bad-flag', `${expected.flag} "${given}": "${path}" is not a ${expected.name} package folder`, [
      name === undefined ? 'it has no package.json' : `its package.json names ${JSON.stringify(name)}`,
    ]);
  }
  if (!existsSync(join(path, expected.builtFile))) {
    throw new UserError('bad-flag', `${expected.flag} "${given}": "${path}" is not built (no dist/)`, [
      `run \`npm install\` in the clone`,
    ]);
  }
  return path;
}

/** The absolute path of a `file:` dependency on `name` in `installRoot/package.json`, when it names one that exists. */
function fileSpecOf(installRoot: string, name = 'grpcforge'): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(installRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
      const spec = (manifest[field] as Record<string, unknown> | undefined)?.[name];
      if (typeof spec === 'string' && spec.startsWith('file:')) {
        const path = resolve(installRoot, spec.slice('file:'.length));
        if (existsSync(path)) return path;
      }
    }
  } catch {
    // no package.json there (a global install): nothing says where grpcforge came from
  }
  return undefined;
}

/** Options of {@link resolveRuntimeDependency}. */
export interface RuntimeDependencyOptions {
  /** An npm spec from the user (`--runtime-spec`); a path or `file:` spec is made absolute against `cwd`. */
  readonly spec?: string;
  /** @defaultValue process.cwd() */
  readonly cwd?: string;
}

/** A version range npm reads from the registry (`^0.1.0`, `0.1.x`, `~1.2`): the runtime is released with the CLI. */
const VERSION_RANGE = /^[~^]?\d+(?:\.(?:\d+|x|\*)){0,2}(?:-[\w.]+)?$/;

/**
 * The `@grpcforge/runtime` dependency `init` writes next to the `grpcforge` one, released and installed together:
 * the given spec; else, for a grpcforge folder (a clone), its `packages/runtime`; for a grpcforge tarball, the runtime
 * tarball `npm pack` writes beside it (`grpcforge-0.1.0.tgz` → `grpcforge-runtime-0.1.0.tgz`), or the `file:` spec
 * the install root names; else the same version range, or `^<the running runtime's version>`.
 * @throws UserError `bad-flag` when a local grpcforge has no runtime beside it, or a given path spec is not one.
 */
export function resolveRuntimeDependency(
  grpcforge: GrpcforgeDependency,
  options: RuntimeDependencyOptions = {},
): GrpcforgeDependency {
  if (options.spec !== undefined) {
    return givenDependency(options.spec, options.cwd, RUNTIME_PACKAGE, [
      'for example file:../grpcforge/packages/runtime (a clone) or file:./grpcforge-runtime-0.1.0.tgz (from `npm pack`)',
    ]);
  }
  if (grpcforge.spec.startsWith('file:')) {
    const path = grpcforge.spec.slice('file:'.length);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      const folder = join(path, 'packages', 'runtime');
      return { spec: `file:${toPosix(checkLocalSpec(folder, folder, RUNTIME_PACKAGE))}`, source: grpcforge.source };
    }
    const tarball = join(dirname(path), basename(path).replace(/^grpcforge-/, 'grpcforge-runtime-'));
    if (tarball !== path && existsSync(tarball)) return { spec: `file:${toPosix(tarball)}`, source: grpcforge.source };
    // npx of a tarball, or a workspace installed from one: the install root's package.json may name the runtime's.
    const root = realpathSync(grpcforgePackageRoot());
    const installedFrom =
      basename(dirname(root)) === 'node_modules' ? fileSpecOf(dirname(dirname(root)), RUNTIME_PACKAGE.name) : undefined;
    if (installedFrom) return { spec: `file:${toPosix(installedFrom)}`, source: grpcforge.source };
    throw new UserError('bad-flag', `no @grpcforge/runtime package next to ${path}`, [
      'pack it too, in the clone: `npm pack --workspace @grpcforge/runtime` (writes grpcforge-runtime-<version>.tgz)',
      'or pass --runtime-spec file:<its .tgz>',
    ]);
  }
  if (VERSION_RANGE.test(grpcforge.spec)) return { spec: grpcforge.spec, source: grpcforge.source };
  const range = grpcforgeDependencyRanges()[RUNTIME_PACKAGE.name] ?? '0.0.0';
  return { spec: `^${range.replace(/^[~^]/, '')}`, source: 'registry' };
}

/** A file of a new workspace. */
export interface WorkspaceFile {
  /** Path relative to the workspace, POSIX form. */
  readonly path: string;
  readonly content: string;
}

/**
 * Packages a workspace needs at run time besides `@grpcforge/runtime` (ts-proto's output imports them): a production
 * install (`npm ci --omit=dev`) is these and the runtime.
 */
const WORKSPACE_DEPENDENCIES = ['@bufbuild/protobuf', 'nice-grpc', 'nice-grpc-common'];
/**
 * Packages a workspace needs to develop, besides the `grpcforge` CLI: `@bufbuild/buf` at grpcforge's own pinned
 * version (so `npx buf curl` works), the compiler and its Node types, tsx for the workspace's own tests.
 */
const WORKSPACE_DEV_DEPENDENCIES = ['@bufbuild/buf', '@types/node', 'tsx', 'typescript'];
/** Dependencies whose install scripts must run (buf's binary, the SQLite driver, tsx's esbuild, protobufjs). */
const WORKSPACE_ALLOW_SCRIPTS = ['@bufbuild/buf', 'better-sqlite3', 'esbuild', 'protobufjs'];

/**
 * The workspace's `allowScripts` (npm 11's list of dependencies whose install scripts were reviewed; npm 12 runs no
 * other). A grpcforge from a `file:` spec is a non-registry source, so npm counts its `prepare` script (which builds
 * a clone's dist/) and warns on every install unless the entry is the spec itself, as written in `dependencies`:
 * the package name does not cover it (npm 11.19).
 */
function allowScriptsOf(grpcforgeSpec: string): string[] {
  return [...WORKSPACE_ALLOW_SCRIPTS, ...(grpcforgeSpec.startsWith('file:') ? [grpcforgeSpec] : [])];
}

/** Escaped for JSON: the template quotes it (a user's spec may hold a quote or a backslash). */
const jsonText = (value: string) => JSON.stringify(value).slice(1, -1);

/** Options of {@link planWorkspace}. */
export interface PlanWorkspaceOptions {
  /**
   * No example: `templates/workspace-empty/` (a grpcforge.yaml without services, an empty proto/, a README of next
   * steps) in place of the example's grpcforge.yaml, README.md, proto/ and services/.
   */
  readonly empty?: boolean;
}

/** The example's files that an empty workspace replaces or leaves out (paths relative to `templates/workspace/`). */
const EXAMPLE_ONLY = /^(?:grpcforge\.yaml|buf\.yaml|README\.md|proto\/.*|services\/.*)$/;

/**
 * Where the example's contracts find `templates/vendor/` (protovalidate's `buf/validate/validate.proto` with its
 * licence, grpcforge's `grpcforge/v1/errors.proto`): inside the one buf module, so the imports resolve offline, with
 * no `deps:` on the Buf Schema Registry, and also for tools given `-I proto`. buf.yaml leaves them out of lint and
 * breaking; buf.gen.yaml maps them away from ts-proto (they are imported for their options only).
 */
const VENDOR_TARGET = 'proto/';

/**
 * The example workspace, computed from `templates/workspace/` without touching the disk: `*.hbs` files are rendered,
 * `_gitignore` becomes `.gitignore` (npm drops dot-files named .gitignore from packages); the contracts' vendored
 * imports come from `templates/vendor/` (see {@link VENDOR_TARGET}). With `empty`, the example's own files give way
 * to `templates/workspace-empty/`, and nothing is vendored.
 */
export async function planWorkspace(
  packageName: string,
  grpcforgeSpec: string,
  runtimeSpec: string,
  options: PlanWorkspaceOptions = {},
): Promise<WorkspaceFile[]> {
  const empty = options.empty === true;
  const ranges = grpcforgeDependencyRanges();
  const view = {
    packageName,
    example: !empty,
    dependencies: [
      { name: '@grpcforge/runtime', range: jsonText(runtimeSpec) },
      ...WORKSPACE_DEPENDENCIES.map((name) => ({ name, range: ranges[name] ?? '*' })),
    ].sort((a, b) => a.name.localeCompare(b.name)),
    devDependencies: [
      { name: 'grpcforge', range: jsonText(grpcforgeSpec) },
      ...WORKSPACE_DEV_DEPENDENCIES.map((name) => ({ name, range: ranges[name] ?? '*' })),
    ].sort((a, b) => a.name.localeCompare(b.name)),
    allowScripts: allowScriptsOf(grpcforgeSpec).map(jsonText),
  };
  const files: WorkspaceFile[] = [];
  const addFolder = async (folder: string, include: (path: string) => boolean, targetPrefix = '') => {
    const root = fileURLToPath(new URL(`${folder}/`, templatesDir()));
    for (const path of (await listFilesRecursive(root)).filter(include)) {
      const target = targetPrefix + path.replace(/(^|\/)_gitignore$/, '$1.gitignore').replace(/\.hbs$/, '');
      const content = path.endsWith('.hbs')
        ? renderTemplate(`${folder}/${path}`, view)
        : (await readFile(join(root, path), 'utf8')).replace(/\r\n/g, '\n');
      files.push({ path: target, content });
    }
  };
  await addFolder('workspace', (path) => !empty || !EXAMPLE_ONLY.test(path));
  if (empty) await addFolder('workspace-empty', () => true);
  else await addFolder('vendor', () => true, VENDOR_TARGET);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** What {@link initWorkspace} wrote. */
export interface InitResult {
  /** The files written, workspace-relative. */
  readonly files: readonly WorkspaceFile[];
  /** The `grpcforge` dev dependency of its package.json, and why that one. */
  readonly dependency: GrpcforgeDependency;
  /** Its `@grpcforge/runtime` dependency (see {@link resolveRuntimeDependency}). */
  readonly runtimeDependency: GrpcforgeDependency;
}

/**
 * Creates an example workspace in `dir`: grpcforge.yaml, buf.yaml, buf.gen.yaml, contracts, implemented handlers,
 * package.json (its `grpcforge` dependency from {@link resolveGrpcforgeDependency}), tsconfig.json, .gitignore; with
 * `empty`, no contracts and no services (grpcforge.yaml declares none, proto/ holds a README, README.md says what next).
 * @throws UserError `init-not-empty` when `dir` has files and `force` is not set; `bad-flag` for a bad spec.
 */
export async function initWorkspace(dir: string, options: InitOptions = {}): Promise<InitResult> {
  const target = resolve(dir);
  const existing = await readdir(target).catch(() => [] as string[]);
  if (existing.length > 0 && !options.force) {
    throw new UserError('init-not-empty', `${dir} is not empty (${existing.length} entries)`, [
      `choose a new folder, or pass --force to write the ${options.empty ? 'workspace' : 'example'} over it`,
    ]);
  }
  const packageName = (options.packageName ?? basename(target)).toLowerCase().replace(/[^a-z0-9-_.]/g, '-');
  const dependency = resolveGrpcforgeDependency(options.grpcforgeSpec !== undefined ? { spec: options.grpcforgeSpec } : {});
  const runtimeDependency = resolveRuntimeDependency(
    dependency,
    options.runtimeSpec !== undefined ? { spec: options.runtimeSpec } : {},
  );
  const files = await planWorkspace(packageName, dependency.spec, runtimeDependency.spec, { empty: options.empty === true });
  for (const file of files) await writeFileAtomic(join(target, file.path), file.content);
  return { files, dependency, runtimeDependency };
}
