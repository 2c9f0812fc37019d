import { readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { listFilesRecursive, readTextIfExists, writeFileAtomic } from '../util/fs.js';
import { GENERATED_HEADER, hasGeneratedHeader } from './header.js';
import { MANIFEST_PATH, type GenerationPlan, type PlannedFile } from './plan-types.js';

/** What happened to one file. */
export type WriteAction =
  /** A generated file whose content changed. */
  | 'written'
  /** A file that did not exist (generated or scaffold). */
  | 'created'
  /** A generated file already up to date. */
  | 'unchanged'
  /** A user-owned file that exists and was left alone. */
  | 'kept'
  /** A generated file that no longer belongs, deleted. */
  | 'removed'
  /** A handler whose RPC left the contract: reported, never deleted. */
  | 'orphaned'
  /** A file in a generated folder without grpcforge's header: not ours to delete, reported. */
  | 'foreign';

/** One line of the report. */
export interface WriteEntry {
  /** Workspace-relative POSIX path. */
  readonly path: string;
  readonly action: WriteAction;
  readonly service: string;
}

/** Everything {@link applyPlan} did. */
export interface WriteReport {
  /** Sorted by path. */
  readonly entries: readonly WriteEntry[];
}

/** Shape of `.grpcforge/manifest.json`: every generated file of the last run. */
interface Manifest {
  readonly version: 1;
  readonly generator: string;
  readonly files: Record<string, string>;
}

/**
 * Files that would change on disk if the plan were applied: what `generate --check` and lint's drift check report.
 * Scaffold files count only when missing.
 */
export async function diffPlan(workspaceDir: string, plan: GenerationPlan): Promise<WriteEntry[]> {
  const report = await applyPlan(workspaceDir, plan, { dryRun: true });
  return report.entries.filter((entry) => entry.action !== 'unchanged' && entry.action !== 'kept');
}

/**
 * Applies a plan: overwrites generated files whose content differs, creates missing scaffold files and never touches
 * existing ones, deletes generated files that no longer belong (listed in the previous manifest or found in a
 * `src/gen/` folder, and only when they still carry the header), and reports handlers whose RPC is gone.
 * @param options.dryRun compute the report without writing.
 */
export async function applyPlan(
  workspaceDir: string,
  plan: GenerationPlan,
  options: { dryRun?: boolean } = {},
): Promise<WriteReport> {
  const entries: WriteEntry[] = [...(await applyPlannedFiles(workspaceDir, plan.files, options))];
  const planned = new Set(plan.files.map((file) => file.path));

  // Generated files that no longer belong: the last manifest's, plus anything in a current src/gen/ folder.
  const previous = await readManifest(workspaceDir);
  // A manifest is a file in the repository anyone can edit: only entries inside some src/gen/ folder, below the
  // workspace, may be deleted (the header check below is the second guard).
  const candidates = new Map<string, string>(Object.entries(previous?.files ?? {}).filter(([path]) => isGeneratedPath(path)));
  for (const service of plan.services) {
    for (const path of await listFilesRecursive(join(workspaceDir, service.genDir))) {
      candidates.set(posix.join(service.genDir, path), service.name);
    }
  }
  const plannedByLowerCase = new Map(plan.files.map((file) => [file.path.toLowerCase(), file.path]));
  for (const [path, service] of [...candidates].sort(([a], [b]) => a.localeCompare(b))) {
    if (planned.has(path)) continue;
    // Renamed only in case: on a case-insensitive file system (macOS, Windows) the old name is the planned file.
    const twin = plannedByLowerCase.get(path.toLowerCase());
    if (twin !== undefined && (await isSameFile(join(workspaceDir, path), join(workspaceDir, twin)))) continue;
    const text = await readTextIfExists(join(workspaceDir, path));
    if (text === undefined) continue;
    if (!hasGeneratedHeader(text)) {
      entries.push({ path, action: 'foreign', service });
      continue;
    }
    if (!options.dryRun) {
      await unlink(join(workspaceDir, path));
      await pruneEmptyGenFolders(workspaceDir, path);
    }
    entries.push({ path, action: 'removed', service });
  }

  // Handlers whose RPC (or whole service) left the contract.
  const scaffolds = new Set(plan.files.filter((file) => file.ownership === 'scaffold').map((file) => file.path));
  for (const service of plan.services) {
    for (const path of await listFilesRecursive(join(workspaceDir, service.handlersDir))) {
      const full = posix.join(service.handlersDir, path);
      if (full.endsWith('.ts') && path.includes('/') && !scaffolds.has(full)) {
        entries.push({ path: full, action: 'orphaned', service: service.name });
      }
    }
  }

  if (!options.dryRun) {
    for (const service of plan.services) await removeEmptyFolders(join(workspaceDir, service.genDir));
    const manifest: Manifest = {
      version: 1,
      generator: GENERATED_HEADER.replace(/^\/\/ /, ''),
      files: Object.fromEntries(
        plan.files.filter((file) => file.ownership === 'generated').map((file) => [file.path, file.service]),
      ),
    };
    await writeFileAtomic(join(workspaceDir, MANIFEST_PATH), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return { entries: entries.sort((a, b) => a.path.localeCompare(b.path)) };
}

/**
 * Writes planned files: a generated file is overwritten when its content differs, a scaffold file is created only
 * when missing. Deletes nothing; returns one entry per file, in the order given.
 * @param options.dryRun compute the entries without writing.
 */
export async function applyPlannedFiles(
  workspaceDir: string,
  files: readonly PlannedFile[],
  options: { dryRun?: boolean } = {},
): Promise<WriteEntry[]> {
  const write = async (path: string, content: string) => {
    if (!options.dryRun) await writeFileAtomic(join(workspaceDir, path), content);
  };
  // Files are independent: read and written concurrently (a workspace of 8 services has hundreds), reported by path.
  const applyFile = async (file: PlannedFile): Promise<WriteEntry> => {
    const existing = await readTextIfExists(join(workspaceDir, file.path));
    if (file.ownership === 'scaffold') {
      if (existing === undefined) await write(file.path, file.content);
      return { path: file.path, action: existing === undefined ? 'created' : 'kept', service: file.service };
    }
    if (existing === file.content) return { path: file.path, action: 'unchanged', service: file.service };
    await write(file.path, file.content);
    return { path: file.path, action: existing === undefined ? 'created' : 'written', service: file.service };
  };
  const CONCURRENCY = 16;
  const entries: WriteEntry[] = [];
  for (let start = 0; start < files.length; start += CONCURRENCY) {
    entries.push(...(await Promise.all(files.slice(start, start + CONCURRENCY).map(applyFile))));
  }
  return entries;
}

/** Whether two paths name one file (same device and inode), for example two spellings on a case-insensitive disk. */
async function isSameFile(a: string, b: string): Promise<boolean> {
  try {
    const [first, second] = await Promise.all([stat(a, { bigint: true }), stat(b, { bigint: true })]);
    return first.dev === second.dev && first.ino === second.ino;
  } catch {
    return false; // one of them is missing
  }
}

/** Whether a manifest path is a workspace-relative file inside a `src/gen/` folder: no `..`, no absolute path, no node_modules. */
function isGeneratedPath(path: string): boolean {
  const normalized = posix.normalize(path);
  const segments = path.split('/');
  return (
    normalized === path &&
    !posix.isAbsolute(path) &&
    !segments.includes('..') &&
    !segments.includes('node_modules') &&
    /(^|\/)src\/gen\//.test(path)
  );
}

async function readManifest(workspaceDir: string): Promise<Manifest | undefined> {
  const text = await readTextIfExists(join(workspaceDir, MANIFEST_PATH));
  if (text === undefined) return undefined;
  try {
    // Written by an older or newer grpcforge, or edited by hand: only a version-1 shape is trusted.
    const manifest = JSON.parse(text) as Partial<Manifest> | null;
    return manifest?.version === 1 && typeof manifest.files === 'object' ? (manifest as Manifest) : undefined;
  } catch {
    return undefined; // A damaged manifest only means less to clean up; the src/gen/ scan still runs.
  }
}

/** Deletes the folders of a removed file that are now empty, going up but never above a `src/gen` folder. */
async function pruneEmptyGenFolders(workspaceDir: string, removedPath: string): Promise<void> {
  for (let dir = posix.dirname(removedPath); /(^|\/)src\/gen(\/|$)/.test(dir); dir = posix.dirname(dir)) {
    try {
      await rmdir(join(workspaceDir, dir));
    } catch {
      return; // not empty (or already gone): stop here
    }
  }
}

/** Deletes empty folders below `root` (and `root` itself when it ends up empty). */
async function removeEmptyFolders(root: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return false;
  }
  let empty = true;
  for (const entry of entries) {
    if (entry.isDirectory() && (await removeEmptyFolders(join(root, entry.name)))) continue;
    empty = false;
  }
  if (empty) await rmdir(root).catch(() => undefined);
  return empty;
}
