import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explainNativeAddonMismatch } from '../../packages/runtime/src/logstore/native-addon.ts';

// What Node 20 threw, verbatim, for a better-sqlite3 built by Node 24 (after `nvm use 20` in a checkout installed
// with 24): the message names both ABI versions.
const mismatch = Object.assign(
  new Error(
    "The module '/home/ada/platform/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\n" +
      'was compiled against a different Node.js version using\n' +
      'NODE_MODULE_VERSION 137. This version of Node.js requires\n' +
      `NODE_MODULE_VERSION ${process.versions.modules}. Please try re-compiling or re-installing\n` +
      'the module (for instance, using `npm rebuild` or `npm install`).',
  ),
  { code: 'ERR_DLOPEN_FAILED' },
);

test('a native addon built for another Node names both Nodes and the command that fixes it, in the right folder', () => {
  assert.equal(
    explainNativeAddonMismatch(mismatch, 'better-sqlite3'),
    "better-sqlite3's native addon was built for Node.js 24 (NODE_MODULE_VERSION 137), but this is Node.js " +
      `${process.versions.node} (NODE_MODULE_VERSION ${process.versions.modules}): run \`npm rebuild better-sqlite3\` ` +
      'in /home/ada/platform with this Node (needed after switching Node versions, e.g. with nvm)',
  );
});

test('other errors are left to their own message', () => {
  assert.equal(
    explainNativeAddonMismatch(new Error('SQLITE_CANTOPEN: unable to open database file'), 'better-sqlite3'),
    undefined,
  );
  assert.equal(explainNativeAddonMismatch('not an error', 'better-sqlite3'), undefined);
});
