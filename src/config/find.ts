import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';

/** File name that marks a grpcforge workspace. */
export const CONFIG_FILE_NAME = 'grpcforge.yaml';

/**
 * Finds `grpcforge.yaml` in `startDir` or the nearest parent folder.
 * @returns the absolute path.
 * @throws UserError `config-not-found` when no folder up to the file-system root has one.
 */
export function findConfigFile(startDir: string): string {
  let dir = resolve(startDir);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new UserError('config-not-found', `no ${CONFIG_FILE_NAME} in ${resolve(startDir)} or its parent folders`, [
        'run `grpcforge init <dir>` to create a workspace, or pass --config PATH',
      ]);
    }
    dir = parent;
  }
}
