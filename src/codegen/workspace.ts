import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';
import { listFilesRecursive, writeFileAtomic } from '../util/fs.js';
import { grpcforgeDependencyRanges, grpcforgeVersion } from '../util/version.js';
import { renderTemplate, templatesDir } from './render/engine.js';

/** Options of {@link initWorkspace}. */
export interface InitOptions {
  /** Write into a folder that is not empty (existing files with the same names are replaced). */
  readonly force?: boolean;
  /** `name` in the workspace's package.json. @defaultValue the folder name */
  readonly packageName?: string;
}

/** A file of a new workspace. */
export interface WorkspaceFile {
  /** Path relative to the workspace, POSIX form. */
  readonly path: string;
  readonly content: string;
}

/** Packages a workspace needs at run time (generated code imports them) and to type-check. */
const WORKSPACE_DEPENDENCIES = ['@bufbuild/protobuf', 'nice-grpc', 'nice-grpc-common', 'tsx'];
const WORKSPACE_DEV_DEPENDENCIES = ['@types/node', 'typescript'];

/**
 * The example workspace, computed from `templates/workspace/` without touching the disk: `*.hbs` files are rendered,
 * `_gitignore` becomes `.gitignore` (npm drops dot-files named .gitignore from packages).
 */
export async function planWorkspace(packageName: string): Promise<WorkspaceFile[]> {
  const root = fileURLToPath(new URL('workspace/', templatesDir()));
  const ranges = grpcforgeDependencyRanges();
  const view = {
    packageName,
    dependencies: [
      { name: 'grpcforge', range: `^${grpcforgeVersion()}` },
      ...WORKSPACE_DEPENDENCIES.map((name) => ({ name, range: ranges[name] ?? '*' })),
    ].sort((a, b) => a.name.localeCompare(b.name)),
    devDependencies: WORKSPACE_DEV_DEPENDENCIES.map((name) => ({ name, range: ranges[name] ?? '*' })),
  };
  const files: WorkspaceFile[] = [];
  for (const path of await listFilesRecursive(root)) {
    const target = path.replace(/(^|\/)_gitignore$/, '$1.gitignore').replace(/\.hbs$/, '');
    const content = path.endsWith('.hbs')
      ? renderTemplate(`workspace/${path}`, view)
      : (await readFile(join(root, path), 'utf8')).replace(/\r\n/g, '\n');
    files.push({ path: target, content });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Creates an example workspace in `dir`: grpcforge.yaml, buf.yaml, buf.gen.yaml, contracts, implemented handlers,
 * package.json, tsconfig.json, .gitignore.
 * @returns the files written, workspace-relative.
 * @throws UserError `init-not-empty` when `dir` has files and `force` is not set.
 */
export async function initWorkspace(dir: string, options: InitOptions = {}): Promise<WorkspaceFile[]> {
  const target = resolve(dir);
  const existing = await readdir(target).catch(() => [] as string[]);
  if (existing.length > 0 && !options.force) {
    throw new UserError('init-not-empty', `${dir} is not empty (${existing.length} entries)`, [
      'choose a new folder, or pass --force to write the example over it',
    ]);
  }
  const packageName = (options.packageName ?? basename(target)).toLowerCase().replace(/[^a-z0-9-_.]/g, '-');
  const files = await planWorkspace(packageName);
  for (const file of files) await writeFileAtomic(join(target, file.path), file.content);
  return files;
}
