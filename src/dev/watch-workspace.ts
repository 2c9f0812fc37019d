import { existsSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { watch } from 'chokidar';

/** One file the watcher saw change, with what it belongs to. */
export type WorkspaceChange =
  /** A `.proto` file or buf.yaml under the contract root: lint and regenerate. */
  | { readonly kind: 'contract'; readonly path: string }
  /** grpcforge.yaml, buf.gen.yaml or a buf.yaml outside the contract root: reload, regenerate, restart everything. */
  | { readonly kind: 'config'; readonly path: string }
  /** A user-owned file of a service (handlers, middleware, context): restart that service. */
  | { readonly kind: 'service'; readonly path: string; readonly service: string };

/** What {@link watchWorkspace} watches; every path absolute. */
export interface WatchTargets {
  readonly contractRoot: string;
  /** Single files: grpcforge.yaml, buf.gen.yaml, buf.yaml. */
  readonly configFiles: readonly string[];
  /** Each service and its folder; `<dir>/src` is watched, `src/gen/**` ignored. */
  readonly services: readonly { readonly name: string; readonly dir: string }[];
}

/** A running watcher. */
export interface WorkspaceWatcher {
  /** Folders that did not exist and are not watched (absolute); the next config reload looks again. */
  readonly missing: readonly string[];
  /** Resolves when the first scan is done: every change after it is reported. */
  readonly ready: Promise<void>;
  /** Stops watching; resolves when every file handle is closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * Files nobody edits: temporaries of atomic writes (`x.ts.1234.tmp`, GNU `sed -i`'s `sedXXXXXX`), editors' swap and
 * backup files (vim's `.swp` and `4913` probe, emacs's `.#x`, `x~`).
 */
const NOISE = /(?:\.\d+\.tmp|\.swp|\.swx|~|\.tmp)$|(?:^|[\\/])(?:4913|\.#[^\\/]*|sed[A-Za-z0-9]{6})$/;

/**
 * Watches the contract root and each service's `src/` recursively, and the config files, with chokidar: a folder
 * watcher per folder and a file watcher per file, re-armed when a file is replaced. An editor's atomic save (write a
 * temporary, rename it over the file) is one `change`, and the file is still watched after it. Node's own
 * `fs.watch(dir, { recursive: true })` on Linux stops reporting a file once it has been replaced by a rename (Node 20
 * and 22; fixed in 24), so dev went deaf to a handler after the first save of such an editor.
 * Generated code (`src/gen/**`), `node_modules` and `.grpcforge` are neither watched nor reported.
 * @param onChange called once per changed, added or removed file, not debounced (the caller debounces).
 * @param onError called with a watcher's error (for example the system's inotify limit); watching goes on.
 */
export function watchWorkspace(
  targets: WatchTargets,
  onChange: (change: WorkspaceChange) => void,
  onError: (error: Error) => void,
): WorkspaceWatcher {
  const contractRoot = resolve(targets.contractRoot);
  const configFiles = new Set(targets.configFiles.map((file) => resolve(file)));
  const services = targets.services.map((service) => ({ name: service.name, src: resolve(service.dir, 'src') }));
  const roots = [contractRoot, ...services.map((service) => service.src)];
  const missing = roots.filter((dir) => !existsSync(dir));
  // Config files that do not exist yet are watched too: chokidar reports them when they are created (buf.gen.yaml).
  const paths = [...roots.filter((dir) => existsSync(dir)), ...configFiles];

  /** What a path is; undefined for a path nothing reacts to. */
  const classify = (path: string): WorkspaceChange | undefined => {
    if (NOISE.test(path)) return undefined;
    const inContract = relativeInside(path, contractRoot);
    if (inContract !== undefined) {
      if (skipped(inContract)) return undefined;
      return path.endsWith('.proto') || basename(path) === 'buf.yaml' ? { kind: 'contract', path } : undefined;
    }
    if (configFiles.has(path)) return { kind: 'config', path };
    for (const service of services) {
      const rel = relativeInside(path, service.src);
      if (rel === undefined) continue;
      if (isGenerated(rel) || skipped(rel)) return undefined;
      return { kind: 'service', path, service: service.name };
    }
    return undefined;
  };

  const watcher = watch(paths, {
    ignoreInitial: true,
    // Folders and files that are never reported are not watched either (src/gen can hold thousands of files).
    ignored: (path: string) => {
      const absolute = resolve(path);
      if (NOISE.test(absolute)) return true;
      const inContract = relativeInside(absolute, contractRoot);
      if (inContract !== undefined) return skipped(inContract);
      for (const service of services) {
        const rel = relativeInside(absolute, service.src);
        if (rel !== undefined) return isGenerated(rel) || skipped(rel);
      }
      return false;
    },
  });
  watcher.on('all', (event, path) => {
    if (event !== 'add' && event !== 'change' && event !== 'unlink') return;
    const change = classify(resolve(path));
    if (change) onChange(change);
  });
  watcher.on('error', (error) => onError(error instanceof Error ? error : new Error(String(error))));
  const ready = new Promise<void>((done) => watcher.once('ready', done));
  let closed: Promise<void> | undefined;
  return { missing, ready, close: () => (closed ??= watcher.close()) };
}

/** `path` relative to `dir` when it is inside it (`''` for `dir` itself), else undefined. */
function relativeInside(path: string, dir: string): string | undefined {
  const rel = relative(dir, path);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : rel;
}

/** Whether a path relative to a service's `src/` is generated code. */
function isGenerated(rel: string): boolean {
  return rel === 'gen' || rel.startsWith(`gen${sep}`);
}

/** Whether a relative path is inside `node_modules` or `.grpcforge`. */
function skipped(rel: string): boolean {
  return rel.split(sep).some((part) => part === 'node_modules' || part === '.grpcforge');
}
