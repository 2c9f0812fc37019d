import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

/** Reads a UTF-8 file, or returns `undefined` when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Writes a file through a temporary sibling and a rename, so a crash never leaves half a file behind.
 * Parent folders are created.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, content);
  await rename(temp, path);
}

/** Lists every file below `root` as a POSIX path relative to `root`, sorted; `[]` when `root` is missing. */
export async function listFilesRecursive(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => toPosix(relative(root, join(entry.parentPath, entry.name))))
    .sort();
}

/**
 * `path` (absolute) relative to `root` in POSIX form, `''` for `root` itself; `undefined` when it lies outside `root`
 * (another drive, or above it).
 */
export function pathInside(root: string, path: string): string | undefined {
  const inside = relative(root, path);
  return inside.startsWith('..') || isAbsolute(inside) ? undefined : toPosix(inside);
}

/** Converts a platform path to forward slashes, the form used in plans, manifests and messages. */
export function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
