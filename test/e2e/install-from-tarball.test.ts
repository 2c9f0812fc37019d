import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { npm, npmChildEnv, packPackages, repoRoot, tempDir } from '../helpers/workspace.ts';

// A workspace installs where grpcforge is not on the registry: `npm pack` of this checkout -> `grpcforge init
// --grpcforge-spec file:<tarball>` -> `npm install` from the real registry -> the packaged CLI generates, serves and
// inits, and the workspace's own `npm test` and `npm run typecheck` pass. Whatever templates/workspace holds is what
// runs: nothing here depends on the example's files beyond package.json and the auth service.
//
// The tarball is packed from dist/ as built (`npm test` builds first) with --ignore-scripts, so packing never
// rebuilds dist/ under other tests. `npm install` runs with --ignore-scripts: the only install script that matters is
// better-sqlite3's compile from source (~60-90 s, the rest of the install takes ~25 s), which does not depend on
// where grpcforge comes from, is what the repository's own install already does, and is not needed by what is
// asserted here (generate, the workspace's tests and tsc, serve with --no-log-store).

// scripts/run-tests.mjs gives the whole file 180 s (--test-timeout): about 50 s with a warm npm cache.
const STEP_TIMEOUT_MS = 60_000;
const INSTALL_TIMEOUT_MS = 150_000;
const isWindows = process.platform === 'win32';
const npx = isWindows ? 'npx.cmd' : 'npx';

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** The absolute file a `file:` spec names, symlinks resolved. */
const fileOf = (spec: string | undefined): string => realpathSync(String(spec).replace(/^file:/, ''));

/** Runs a command to completion, bounded by `timeoutMs` (then killed: code null). */
function run(command: string, args: readonly string[], cwd: string, timeoutMs = STEP_TIMEOUT_MS): Run {
  const result = spawnSync(command, args, {
    cwd,
    env: npmChildEnv(),
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    shell: isWindows,
    maxBuffer: 64 * 1024 * 1024,
  });
  const error = result.error
    ? `\n(${(result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `killed after ${timeoutMs} ms` : result.error.message})`
    : '';
  return { code: result.status, output: `$ ${command} ${args.join(' ')}\n${result.stdout}${result.stderr}${error}` };
}

function assertSuccess(result: Run): void {
  assert.equal(result.code, 0, result.output);
}

let tmp: string;
let tarball: string;
let runtimeTarball: string;
let ws: string;
let version: string;

describe('a workspace installs from an npm pack of this checkout', { timeout: 175_000 }, () => {
  before(
    async () => {
      version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
      assert.ok(existsSync(join(repoRoot, 'dist/cli/main.js')), 'dist/ is missing: run `npm run build` first');
      tmp = await tempDir('grpcforge-install-');
      // Both packages, as a release would publish them: the CLI and the runtime (grpcforge-runtime-<version>.tgz).
      const packed = packPackages(tmp);
      const filename = packed.cli;
      tarball = join(tmp, filename);
      runtimeTarball = join(tmp, packed.runtime);

      // A relative file: spec, as a user types it next to the tarball: init writes it absolute.
      const init = run(
        process.execPath,
        [join(repoRoot, 'bin/grpcforge'), 'init', 'platform', '--grpcforge-spec', `file:./${filename}`],
        tmp,
      );
      assertSuccess(init);
      assert.match(init.output, /package\.json: "grpcforge": "file:.*\.tgz" \(from --grpcforge-spec\)/);
      assert.match(init.output, /package\.json: "@grpcforge\/runtime": "file:.*grpcforge-runtime-.*\.tgz"/);
      ws = join(tmp, 'platform');

      // Should an install script run, better-sqlite3 builds from source here, never from a download.
      copyFileSync(join(repoRoot, '.prebuild-installrc'), join(ws, '.prebuild-installrc'));
      assertSuccess(run(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund'], ws, INSTALL_TIMEOUT_MS));
    },
    { timeout: 175_000 },
  );

  test('package.json depends on both tarballs (absolute) and on @bufbuild/buf; npm installed copies of them', () => {
    const manifest = JSON.parse(readFileSync(join(ws, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    // The runtime is what the services run on; the CLI only develops and builds them.
    assert.equal(manifest.dependencies.grpcforge, undefined);
    assert.match(manifest.devDependencies.grpcforge!, /^file:/);
    assert.equal(fileOf(manifest.devDependencies.grpcforge), realpathSync(tarball));
    assert.equal(fileOf(manifest.dependencies['@grpcforge/runtime']), realpathSync(runtimeTarball));
    const runtime = join(ws, 'node_modules/@grpcforge/runtime');
    assert.equal(lstatSync(runtime).isSymbolicLink(), false, 'the runtime is a copy from its tarball');
    assert.equal((JSON.parse(readFileSync(join(runtime, 'package.json'), 'utf8')) as { version: string }).version, version);
    // One runtime for the CLI and the services: the CLI's dependency is the workspace's tarball, not a second copy.
    assert.equal(existsSync(join(ws, 'node_modules/grpcforge/node_modules/@grpcforge/runtime')), false);
    const own = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.equal(manifest.devDependencies['@bufbuild/buf'], own.dependencies['@bufbuild/buf']);
    const installed = join(ws, 'node_modules/grpcforge');
    assert.equal(
      lstatSync(installed).isSymbolicLink(),
      false,
      'grpcforge is a copy from the tarball, not a link to this checkout',
    );
    assert.equal((JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string }).version, version);
    assertSuccess(run(npx, ['buf', '--version'], ws));
  });

  test('npx grpcforge generate', () => {
    assertSuccess(run(npx, ['grpcforge', 'generate'], ws));
  });

  test("the workspace's npm test", () => {
    assertSuccess(run(npm, ['test'], ws));
  });

  test("the workspace's npm run typecheck", () => {
    assertSuccess(run(npm, ['run', 'typecheck'], ws));
  });

  test('the installed grpcforge serves auth and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [join(ws, 'node_modules/grpcforge/bin/grpcforge'), 'serve', 'auth', '--port', '0', '--no-log-store'],
      {
        cwd: ws,
        env: npmChildEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve auth did not listen in 30 s:\n${output}`)), 30_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (/^listening on \S+:\d+$/m.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`serve auth exited with ${String(code)}:\n${output}`));
        });
      });
      child.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        new Promise<string>((resolve) => setTimeout(() => resolve('no exit in 15 s'), 15_000)),
      ]);
      assert.equal(code, 0, output);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  test('the installed grpcforge inits a workspace that depends on the tarball it was installed from', () => {
    const init = run(npx, ['grpcforge', 'init', join(tmp, 'second')], ws);
    assertSuccess(init);
    assert.match(init.output, /\(the file this grpcforge was installed from\)/);
    const manifest = JSON.parse(readFileSync(join(tmp, 'second/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    assert.equal(fileOf(manifest.devDependencies.grpcforge), realpathSync(tarball));
    assert.equal(fileOf(manifest.dependencies['@grpcforge/runtime']), realpathSync(runtimeTarball));
  });
});
