import { dirname, join } from 'node:path';

/** Node.js majors by the ABI version (`process.versions.modules`) their native addons are built for. */
const NODE_MAJOR_BY_ABI: Readonly<Record<string, number>> = {
  '108': 18,
  '115': 20,
  '120': 21,
  '127': 22,
  '131': 23,
  '137': 24,
  '141': 25,
};

function describeAbi(abi: string): string {
  const major = NODE_MAJOR_BY_ABI[abi];
  return major === undefined ? `NODE_MODULE_VERSION ${abi}` : `Node.js ${major} (NODE_MODULE_VERSION ${abi})`;
}

/**
 * Explains a native addon built for another Node.js than the running one (what `nvm use` after `npm install` leads
 * to): which Node each side is, and the command that fixes it, run in the folder whose node_modules holds the addon.
 * Returns undefined for any other error.
 *
 * @param error what loading the addon threw (Node's `ERR_DLOPEN_FAILED`, whose message names both ABI versions)
 * @param packageName the npm package that owns the addon, e.g. `better-sqlite3`
 */
export function explainNativeAddonMismatch(error: unknown, packageName: string): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const built = /using\s+NODE_MODULE_VERSION (\d+)/.exec(error.message)?.[1];
  if (built === undefined) return undefined;
  const addon = /The module '([^']+)'/.exec(error.message)?.[1];
  const marker = join('node_modules', packageName);
  const at = addon?.lastIndexOf(marker) ?? -1;
  const folder = addon !== undefined && at > 0 ? dirname(addon.slice(0, at + 'node_modules'.length)) : undefined;
  return (
    `${packageName}'s native addon was built for ${describeAbi(built)}, but this is Node.js ` +
    `${process.versions.node} (NODE_MODULE_VERSION ${process.versions.modules}): run \`npm rebuild ${packageName}\`` +
    `${folder === undefined ? '' : ` in ${folder}`} with this Node (needed after switching Node versions, e.g. with nvm)`
  );
}
