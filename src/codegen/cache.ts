import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedConfig } from '../config/resolved.js';
import { readTextIfExists, toPosix, writeFileAtomic } from '../util/fs.js';
import { grpcforgeVersion } from '../util/version.js';
import type { GenerationPlan, PlannedFile } from './plan-types.js';
import { tsProtoPluginPath } from './ts-proto.js';

/**
 * The content-hash cache of `generate`: `.grpcforge/cache/generate.json` holds the inputs of the last run that wrote
 * its plan, and that plan. When the inputs are the same, `generate` and `generate --check` apply the cached plan to
 * the disk (so a hand-edited generated file is still found and restored) without running buf or any plugin.
 */

/** Workspace-relative path of the cache file. */
export const CACHE_PATH = '.grpcforge/cache/generate.json';
/** The cache folder ignores itself (`*`): it is local state, unlike `.grpcforge/manifest.json`. */
const CACHE_GITIGNORE = '.grpcforge/cache/.gitignore';
const FORMAT = 1;

/** Everything the plan depends on, as versions and content hashes. Two runs with equal inputs plan the same files. */
export interface GenerateInputs {
  /** grpcforge's version. */
  readonly grpcforge: string;
  /** Hash of grpcforge's own templates and of its codegen and contract modules (size and mtime): a checkout changes. */
  readonly generator: string;
  /** Version of the `@bufbuild/buf` package that runs buf. */
  readonly buf: string;
  /** Version of the ts-proto buf runs: the workspace's own when it has one, else grpcforge's. */
  readonly tsProto: string;
  /** Each `local` plugin of buf.gen.yaml: the executable buf would find on PATH, with its size and mtime. */
  readonly plugins: Readonly<Record<string, string>>;
  /** sha256 of the resolved config (grpcforge.yaml after defaults, paths made absolute). */
  readonly config: string;
  /**
   * sha256 of each input file, workspace-relative: grpcforge.yaml, buf.gen.yaml, and every `.proto`, `buf.yaml`,
   * `buf.lock` and `buf.work.yaml` under the buf workspace folder.
   */
  readonly files: Readonly<Record<string, string>>;
}

/**
 * What a rerun needs to find the cache's inputs before grpcforge.yaml is validated: loading and resolving the config
 * is a pure function of its bytes and its path (and of grpcforge's code, in {@link GenerateInputs.generator}), so the
 * same bytes at the same path resolve to the config whose hash is {@link GenerateInputs.config}.
 */
interface ReplayKey {
  /** Absolute path of grpcforge.yaml (its bytes are among {@link GenerateInputs.files}). */
  readonly configPath: string;
  /** The resolved config's buf workspace folder and template, absolute. */
  readonly bufDir: string;
  readonly template: string;
  /** Each `local` of the template's plugins, as written (the template's bytes are among the inputs' files). */
  readonly locals: readonly (readonly string[])[];
}

/** Shape of the cache file. Contents are stored once and referred to by index (services share ts-proto files). */
interface CacheFile {
  readonly format: typeof FORMAT;
  readonly inputs: GenerateInputs;
  /** Present when a rerun may answer from the cache before loading the config ({@link readReplayablePlan}). */
  readonly replay?: ReplayKey;
  readonly plan: {
    readonly files: readonly (Omit<PlannedFile, 'content'> & { readonly content: number })[];
    readonly services: GenerationPlan['services'];
    readonly notes: GenerationPlan['notes'];
  };
  readonly contents: readonly string[];
}

const require = createRequire(import.meta.url);
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Computes the inputs of a run, reading no more than the files listed in {@link GenerateInputs}. Cheap: no buf.
 * @param bufDir the folder of the buf.yaml that covers the contracts.
 */
export async function computeInputs(config: ResolvedConfig, bufDir: string): Promise<GenerateInputs> {
  const where = { workspaceDir: config.workspaceDir, configPath: config.configPath, template: config.contract.template };
  return inputsAt(where, bufDir, sha256(JSON.stringify(config)));
}

/** Where a workspace's inputs are: its folder, grpcforge.yaml and buf.gen.yaml, absolute. */
interface InputPaths {
  readonly workspaceDir: string;
  readonly configPath: string;
  readonly template: string;
}

/**
 * {@link computeInputs} from the paths alone; `config` is the resolved config's hash. `locals`, the template's
 * plugins as a replay key recorded them, spare parsing the template (and loading yaml): if the template changed
 * since, its hash differs and so do the inputs.
 */
async function inputsAt(
  where: InputPaths,
  bufDir: string,
  config: string,
  locals?: readonly (readonly string[])[],
): Promise<GenerateInputs> {
  const paths = [where.configPath, where.template, ...(await listBufInputs(bufDir))];
  // Read and hashed concurrently; the record is keyed in sorted order whatever the order they finish in.
  const hashes = await Promise.all(paths.map(async (path) => sha256(await readFile(path))));
  const files: Record<string, string> = {};
  paths.forEach((path, index) => (files[toPosix(relative(where.workspaceDir, path))] = hashes[index]!));
  const plugins = locals ?? (await localPluginsOf(await readFile(where.template, 'utf8')));
  return {
    grpcforge: grpcforgeVersion(),
    generator: await generatorFingerprint(),
    buf: packageVersion(require.resolve('@bufbuild/buf/package.json')),
    tsProto: tsProtoVersion(where.workspaceDir),
    plugins: resolveLocalPlugins(plugins, where.workspaceDir, bufDir),
    config,
    files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** The cached plan when the cache was written for exactly these inputs, else `undefined` (missing, damaged, stale). */
export async function readCachedPlan(workspaceDir: string, inputs: GenerateInputs): Promise<GenerationPlan | undefined> {
  const cache = await readCacheFile(workspaceDir);
  return cache && JSON.stringify(cache.inputs) === JSON.stringify(inputs) ? planOf(cache) : undefined;
}

/**
 * The cached plan, found before grpcforge.yaml is loaded: when the last run left a replay key (it printed no
 * warning for the config), grpcforge.yaml has the same bytes at the same path, and every other input is unchanged.
 * Else `undefined`, and the caller loads the config as usual.
 * @param configPath grpcforge.yaml, absolute or relative to the current folder.
 */
export async function readReplayablePlan(configPath: string): Promise<GenerationPlan | undefined> {
  const absolutePath = resolve(configPath);
  const workspaceDir = dirname(absolutePath);
  const cache = await readCacheFile(workspaceDir);
  const key = cache?.replay;
  if (!cache || key?.configPath !== absolutePath) return undefined;
  try {
    const where = { workspaceDir, configPath: absolutePath, template: key.template };
    const inputs = await inputsAt(where, key.bufDir, cache.inputs.config, key.locals);
    return JSON.stringify(cache.inputs) === JSON.stringify(inputs) ? planOf(cache) : undefined;
  } catch {
    return undefined; // a file went missing: the full path reports it
  }
}

async function readCacheFile(workspaceDir: string): Promise<CacheFile | undefined> {
  const text = await readTextIfExists(join(workspaceDir, CACHE_PATH));
  if (text === undefined) return undefined;
  try {
    const cache = JSON.parse(text) as CacheFile;
    return (cache as { format?: unknown }).format === FORMAT ? cache : undefined;
  } catch {
    return undefined; // edited or from another grpcforge: a full run rewrites it
  }
}

function planOf(cache: CacheFile): GenerationPlan | undefined {
  try {
    const files = cache.plan.files.map((file) => {
      const content = cache.contents[file.content];
      if (typeof content !== 'string') throw new Error('damaged');
      return { path: file.path, ownership: file.ownership, service: file.service, content };
    });
    return { files, services: cache.plan.services, notes: cache.plan.notes };
  } catch {
    return undefined; // edited or from another grpcforge: a full run rewrites it
  }
}

/**
 * Writes the cache file (and the `.gitignore` of its folder).
 * @param replay the config and its buf workspace, when a rerun may find the plan before loading the config
 *   ({@link readReplayablePlan}); the caller passes it only when loading the config printed nothing.
 */
export async function writeCache(
  workspaceDir: string,
  inputs: GenerateInputs,
  plan: GenerationPlan,
  replay?: { readonly config: ResolvedConfig; readonly bufDir: string },
): Promise<void> {
  const contents: string[] = [];
  const index = new Map<string, number>();
  const files = plan.files.map((file) => {
    let at = index.get(file.content);
    if (at === undefined) {
      at = contents.push(file.content) - 1;
      index.set(file.content, at);
    }
    return { path: file.path, ownership: file.ownership, service: file.service, content: at };
  });
  const replayKey: ReplayKey | undefined = replay && {
    configPath: replay.config.configPath,
    bufDir: replay.bufDir,
    template: replay.config.contract.template,
    locals: await localPluginsOf(await readFile(replay.config.contract.template, 'utf8')),
  };
  const cache: CacheFile = {
    format: FORMAT,
    inputs,
    ...(replayKey ? { replay: replayKey } : {}),
    plan: { files, services: plan.services, notes: plan.notes },
    contents,
  };
  const ignore = join(workspaceDir, CACHE_GITIGNORE);
  if (!existsSync(ignore)) await writeFileAtomic(ignore, '# local state of grpcforge generate; never commit it\n*\n');
  await writeFileAtomic(join(workspaceDir, CACHE_PATH), `${JSON.stringify(cache)}\n`);
}

/**
 * Every file under `bufDir` buf may read to build the contracts: `.proto` files and buf's own configuration. Only
 * `.git` and `.grpcforge` are skipped, and `node_modules` unless buf's configuration names it (a module vendored
 * from npm), so that no file buf compiles is left out.
 */
async function listBufInputs(bufDir: string): Promise<string[]> {
  const configs = await Promise.all(['buf.yaml', 'buf.work.yaml'].map((name) => readTextIfExists(join(bufDir, name))));
  const skip = new Set(['.git', '.grpcforge']);
  if (!configs.some((text) => text?.includes('node_modules'))) skip.add('node_modules');
  const found: string[] = [];
  const visited = new Set<string>();
  const walk = async (dir: string) => {
    const real = realpathSync(dir);
    if (visited.has(real)) return; // a symbolic link back up
    visited.add(real);
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(dir, entry.name);
      // buf follows symbolic links: so does the walk
      const isDirectory =
        entry.isDirectory() || (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isDirectory());
      if (isDirectory) {
        if (!skip.has(entry.name)) await walk(path);
      } else if (/\.proto$|^buf\.(yaml|lock|work\.yaml)$/.test(entry.name)) {
        found.push(path);
      }
    }
  };
  await walk(bufDir);
  return found.sort();
}

let generator: Promise<string> | undefined;
/**
 * grpcforge's templates (content) and its codegen, contract and config modules and the runtime's vocabulary (size,
 * mtime), hashed once per process. The config modules count because a rerun may skip loading the config
 * ({@link readReplayablePlan}); the vocabulary holds the config's defaults.
 */
function generatorFingerprint(): Promise<string> {
  generator ??= (async () => {
    const hash = createHash('sha256');
    const templates = fileURLToPath(new URL('../../templates/', import.meta.url));
    for (const folder of ['gen', 'scaffold']) {
      const root = join(templates, folder);
      for (const path of await listAll(root)) hash.update(`${toPosix(relative(root, path))}\0`).update(await readFile(path));
    }
    const here = dirname(fileURLToPath(import.meta.url));
    const vocabulary = vocabularyPath();
    // The vocabulary's entry re-exports its modules (vocabulary/*.js beside it): a default changed there counts too.
    const folders = [here, join(here, '..', 'contract'), join(here, '..', 'config'), vocabulary.replace(/\.[cm]?[jt]s$/, '')];
    for (const path of [...(await Promise.all(folders.map(listAll))).flat(), vocabulary]) {
      const stats = await stat(path).catch(() => undefined);
      hash.update(`${toPosix(relative(here, path))}\0${stats ? `${stats.size}\0${stats.mtimeMs}` : 'missing'}\0`);
    }
    return hash.digest('hex');
  })();
  return generator;
}

function vocabularyPath(): string {
  try {
    return fileURLToPath(import.meta.resolve('@grpcforge/runtime/vocabulary'));
  } catch {
    return 'no vocabulary';
  }
}

async function listAll(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function packageVersion(manifestPath: string): string {
  try {
    return String((JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: unknown }).version);
  } catch {
    return 'unknown';
  }
}

/** The version of the ts-proto `protoc-gen-ts_proto` resolves to (the first folder of {@link tsProtoPluginPath}). */
function tsProtoVersion(workspaceDir: string): string {
  const [first] = tsProtoPluginPath(workspaceDir);
  if (first === undefined) return 'none';
  const manifest = first.endsWith(join('node_modules', '.bin'))
    ? join(first, '..', 'ts-proto', 'package.json')
    : join(first, 'package.json');
  return packageVersion(manifest);
}

/**
 * Each `local` plugin of the template: where buf would find it (grpcforge's plugin folders first, then PATH; a path
 * relative to `bufDir`, where buf runs), and every argument that names a file (`local: [node, tools/gen.mjs]`): a
 * changed plugin or script changes the key. What such a script imports is not followed (`--no-cache` then).
 */
function resolveLocalPlugins(
  locals: readonly (readonly string[])[],
  workspaceDir: string,
  bufDir: string,
): Record<string, string> {
  const folders = [...tsProtoPluginPath(workspaceDir), ...(process.env.PATH ?? '').split(delimiter)];
  const plugins: Record<string, string> = {};
  for (const local of locals) {
    const [command, ...args] = local;
    if (!command) continue;
    const files = args.filter((arg) => !arg.startsWith('-')).map((arg) => locate(arg, [], bufDir));
    plugins[local.join(' ')] = [locate(command, folders, bufDir), ...files.filter((file) => file !== 'not found')].join('\0');
  }
  return plugins;
}

/** The `local` of each plugin of a buf.gen.yaml (a command, or a command and its arguments), as strings. */
async function localPluginsOf(templateText: string): Promise<string[][]> {
  const { parse } = await import('yaml');
  const template = parse(templateText) as { plugins?: { local?: unknown }[] } | null;
  return (template?.plugins ?? []).map((plugin) => [plugin.local ?? []].flat().map(String));
}

function locate(command: string, folders: readonly string[], bufDir: string): string {
  const candidates =
    command.includes('/') || folders.length === 0
      ? [resolve(bufDir, command)]
      : folders.filter(Boolean).map((folder) => join(folder, command));
  for (const candidate of candidates) {
    try {
      const real = realpathSync(candidate);
      const stats = statSync(real);
      if (stats.isFile()) return `${real}\0${stats.size}\0${stats.mtimeMs}`;
    } catch {
      // not in this folder
    }
  }
  return 'not found';
}
