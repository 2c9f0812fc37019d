import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';

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
  /** Single files: grpcforge.yaml, buf.gen.yaml, buf.yaml. Their folders are watched, not recursively. */
  readonly configFiles: readonly string[];
  /** Each service and its folder; `<dir>/src` is watched, `src/gen/**` ignored. */
  readonly services: readonly { readonly name: string; readonly dir: string }[];
}

/** Running watchers; {@link close} ends them all. */
export interface WorkspaceWatcher {
  /** Folders that did not exist and are not watched (workspace-relative to nothing: absolute). */
  readonly missing: readonly string[];
  close(): void;
}

/** Files nobody edits: temporaries of atomic writes and editors' swap and backup files. */
const NOISE = /(?:\.\d+\.tmp|\.swp|\.swx|~|\.tmp)$|(?:^|[\\/])(?:4913|\.#[^\\/]*)$/;

/**
 * Watches the contract root and each service's `src/` with `fs.watch(dir, { recursive: true })` (native on macOS and
 * Windows; on Linux Node ≥ 20 walks the tree with inotify), and the folders of the config files without recursion.
 * Generated code (`src/gen/**`), `node_modules` and `.grpcforge` are never reported.
 * @param onChange called once per file event, not debounced (the caller debounces).
 * @throws Error from fs.watch when the system refuses a watcher (for example the inotify limit).
 */
export function watchWorkspace(targets: WatchTargets, onChange: (change: WorkspaceChange) => void): WorkspaceWatcher {
  const watchers: FSWatcher[] = [];
  const missing: string[] = [];
  const watchDir = (dir: string, recursive: boolean, handle: (path: string) => void) => {
    if (!existsSync(dir)) {
      missing.push(dir);
      return;
    }
    const watcher = watch(dir, { recursive }, (_event, filename) => {
      if (filename === null) return;
      const path = join(dir, filename);
      if (NOISE.test(path)) return;
      handle(path);
    });
    // A watched folder that is deleted ends its watcher with an error; the next config reload watches again.
    watcher.on('error', () => watcher.close());
    watchers.push(watcher);
  };
  const isInside = (path: string, dir: string) => {
    const rel = relative(dir, path);
    return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep);
  };
  const skipped = (rel: string) => rel.split(sep).some((part) => part === 'node_modules' || part === '.grpcforge');

  watchDir(targets.contractRoot, true, (path) => {
    const rel = relative(targets.contractRoot, path);
    if (skipped(rel)) return;
    if (path.endsWith('.proto') || basename(path) === 'buf.yaml') onChange({ kind: 'contract', path });
  });
  const byFolder = new Map<string, Set<string>>();
  for (const file of targets.configFiles) {
    // A config file inside the contract root is reported by that watcher already.
    if (isInside(file, targets.contractRoot)) continue;
    const names = byFolder.get(dirname(file)) ?? new Set<string>();
    names.add(basename(file));
    byFolder.set(dirname(file), names);
  }
  for (const [folder, names] of byFolder) {
    watchDir(folder, false, (path) => {
      if (names.has(basename(path)) && dirname(path) === folder) onChange({ kind: 'config', path });
    });
  }
  for (const service of targets.services) {
    const src = join(service.dir, 'src');
    watchDir(src, true, (path) => {
      const rel = relative(src, path);
      if (rel === 'gen' || rel.startsWith(`gen${sep}`) || skipped(rel)) return;
      onChange({ kind: 'service', path, service: service.name });
    });
  }
  return {
    missing,
    close: () => {
      for (const watcher of watchers) watcher.close();
    },
  };
}
