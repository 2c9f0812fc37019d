import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { buildImage, findBufWorkspace, type BufImage } from '../contract/buf.js';
import { CACHE_PATH } from './cache.js';

/**
 * A buf image started before grpcforge.yaml is validated: compiling the contracts needs only the folder of their
 * buf.yaml, and validating the config (its schema) takes longer than buf takes to start. `generate` uses the image
 * only when the validated config leads to the same folder, and disposes of it otherwise.
 */
export interface EarlyImage {
  /** The buf workspace folder the image was built in, as {@link findBufWorkspace} found it. */
  readonly bufDir: string;
  /** Rejects as {@link buildImage} does (the contracts do not compile). */
  readonly image: Promise<BufImage>;
}

/**
 * Starts `buf build` from the `contract.root` written in grpcforge.yaml (default `proto`) when a full run is likely:
 * no cache file (a clean checkout or a first run) or `--no-cache`. A run the cache may answer starts nothing, and so
 * does a file that cannot be read or parsed (the config's own errors are reported as usual).
 * @param configPath absolute or cwd-relative path of grpcforge.yaml.
 * @returns `undefined` when nothing was started. Never throws.
 */
export async function startEarlyImage(configPath: string, useCache: boolean): Promise<EarlyImage | undefined> {
  const absolutePath = resolve(configPath);
  const workspaceDir = dirname(absolutePath);
  if (useCache && existsSync(join(workspaceDir, CACHE_PATH))) return undefined;
  try {
    const { parse } = await import('yaml');
    const written = parse(await readFile(absolutePath, 'utf8')) as { contract?: { root?: unknown } } | null;
    const root = written?.contract?.root ?? 'proto';
    if (typeof root !== 'string' || root === '') return undefined;
    const bufDir = findBufWorkspace(isAbsolute(root) ? root : resolve(workspaceDir, root), workspaceDir);
    const image = buildImage(bufDir, workspaceDir);
    image.catch(() => undefined); // reported, if at all, by whoever uses it
    return { bufDir, image };
  } catch {
    return undefined;
  }
}

/** Removes an early image nobody used (waits for its build to end). */
export async function disposeEarlyImage(early: EarlyImage | undefined): Promise<void> {
  await (await early?.image.catch(() => undefined))?.dispose();
}
