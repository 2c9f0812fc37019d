import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli, runProgram, tempDir, writeFiles } from '../helpers/workspace.ts';

// What `grpcforge init` writes around the code: the .gitignore and package.json's allowScripts.

describe('init: the files around the code', () => {
  test(".gitignore: grpcforge's local state and built services' dist/ are ignored (dev's scratch folder too), the manifest is not", async () => {
    const dir = join(await tempDir(), 'ws');
    assert.equal(runCli(['init', dir, '--empty'], process.cwd()).code, 0);
    const local = [
      '.grpcforge/grpcforge.db',
      '.grpcforge/grpcforge.db-wal',
      '.grpcforge/cache/generate.json',
      '.grpcforge/dev/tsconfig.auth.json',
      'certs/ca.pem',
      'node_modules/x/index.js',
      'services/auth/dist/main.js',
    ];
    await writeFiles(dir, Object.fromEntries([...local, '.grpcforge/manifest.json'].map((path) => [path, '{}'])));
    assert.equal(runProgram('git', ['init', '-q'], dir).code, 0);
    const ignored = runProgram('git', ['check-ignore', '--no-index', ...local, '.grpcforge/manifest.json'], dir);
    assert.deepEqual(ignored.stdout.trim().split('\n'), local);
  });

  test('allowScripts approves a file: grpcforge by its spec (npm 11 does not match it by name), not a registry one', async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, 'grpcforge-0.1.0.tgz'), '');
    writeFileSync(join(dir, 'grpcforge-runtime-0.1.0.tgz'), '');
    const allowScripts = (name: string) =>
      (JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> })
        .allowScripts;
    const base = { '@bufbuild/buf': true, 'better-sqlite3': true, esbuild: true, protobufjs: true };

    assert.equal(runCli(['init', 'packed', '--grpcforge-spec', 'file:./grpcforge-0.1.0.tgz'], dir).code, 0);
    assert.deepEqual(allowScripts('packed'), { ...base, [`file:${join(dir, 'grpcforge-0.1.0.tgz')}`]: true });

    assert.equal(runCli(['init', 'registry', '--grpcforge-spec', '^0.1.0'], dir).code, 0);
    assert.deepEqual(allowScripts('registry'), base);

    // Run from this clone: the clone's folder, as the dependency names it.
    assert.equal(runCli(['init', 'clone'], dir).code, 0);
    const manifest = JSON.parse(readFileSync(join(dir, 'clone', 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
      allowScripts: Record<string, boolean>;
    };
    assert.match(manifest.devDependencies.grpcforge ?? '', /^file:\//);
    assert.equal(manifest.allowScripts[manifest.devDependencies.grpcforge!], true);
  });
});
