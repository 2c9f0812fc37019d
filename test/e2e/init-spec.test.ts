import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { resolveGrpcforgeDependency } from '../../src/codegen/workspace.ts';
import { linkWorkspace, repoRoot, runCli, tempDir } from '../helpers/workspace.ts';

// The grpcforge dependency `init` writes (grpcforge is not on the registry yet), and serve's hint when the workspace
// has not been installed. install-from-tarball.test.ts does the real `npm install`.

interface Manifest {
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
}
const readManifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
const own = readManifest(repoRoot) as Manifest & { version: string };

/** A fake installed grpcforge package at `dir` (a package.json is all the resolution reads). */
function fakePackage(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'grpcforge', version: '9.8.7' }));
  return dir;
}

describe('init: the grpcforge dependency', () => {
  test('run from this checkout, init depends on its folder (file:) and on @bufbuild/buf, and says so', async () => {
    const ws = join(await tempDir(), 'platform');
    const init = runCli(['init', ws], process.cwd());
    assert.equal(init.code, 0, init.stderr);
    const manifest = readManifest(ws);
    const clone = realpathSync(repoRoot).replace(/\\/g, '/');
    // The services run on the runtime (a dependency); the CLI develops and builds them (a dev dependency).
    assert.equal(manifest.devDependencies.grpcforge, `file:${clone}`);
    assert.equal(manifest.dependencies.grpcforge, undefined);
    assert.equal(manifest.dependencies['@grpcforge/runtime'], `file:${clone}/packages/runtime`);
    assert.equal(manifest.devDependencies['@bufbuild/buf'], own.dependencies['@bufbuild/buf']);
    assert.match(init.stdout, /^package\.json: "grpcforge": "file:.+" \(this grpcforge runs from a clone/m);
    assert.match(init.stdout, /^package\.json: "@grpcforge\/runtime": "file:.+\/packages\/runtime"/m);
  });

  test('--grpcforge-spec: a relative file: path is made absolute, a range is kept, both are reported', async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, 'grpcforge-1.2.3.tgz'), '');
    writeFileSync(join(dir, 'grpcforge-runtime-1.2.3.tgz'), '');
    const fromFile = runCli(['init', 'a', '--grpcforge-spec', 'file:./grpcforge-1.2.3.tgz'], dir);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(
      readManifest(join(dir, 'a')).devDependencies.grpcforge,
      `file:${join(dir, 'grpcforge-1.2.3.tgz').replace(/\\/g, '/')}`,
    );
    // The runtime's tarball, as `npm pack --workspace @grpcforge/runtime` names it, beside the CLI's.
    assert.equal(
      readManifest(join(dir, 'a')).dependencies['@grpcforge/runtime'],
      `file:${join(dir, 'grpcforge-runtime-1.2.3.tgz').replace(/\\/g, '/')}`,
    );
    assert.match(fromFile.stdout, /\(from --grpcforge-spec\)/);
    const fromBarePath = runCli(['init', 'b', '--grpcforge-spec', './grpcforge-1.2.3.tgz'], dir);
    assert.equal(fromBarePath.code, 0, fromBarePath.stderr);
    assert.equal(
      readManifest(join(dir, 'b')).devDependencies.grpcforge,
      `file:${join(dir, 'grpcforge-1.2.3.tgz').replace(/\\/g, '/')}`,
    );
    const range = runCli(['init', 'c', '--grpcforge-spec', '~0.1.0'], dir);
    assert.equal(range.code, 0, range.stderr);
    assert.equal(readManifest(join(dir, 'c')).devDependencies.grpcforge, '~0.1.0');
    assert.equal(readManifest(join(dir, 'c')).dependencies['@grpcforge/runtime'], '~0.1.0');
    // A tarball npm fetches is not a local path, whatever its name ends with.
    const url = 'https://registry.example.test/grpcforge/-/grpcforge-0.1.0.tgz';
    const remote = runCli(['init', 'd', '--grpcforge-spec', url], dir);
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(readManifest(join(dir, 'd')).devDependencies.grpcforge, url);
    assert.equal(readManifest(join(dir, 'd')).dependencies['@grpcforge/runtime'], `^${own.version}`);
    // --runtime-spec wins.
    const given = runCli(
      ['init', 'e', '--grpcforge-spec', '~0.1.0', '--runtime-spec', 'file:./grpcforge-runtime-1.2.3.tgz'],
      dir,
    );
    assert.equal(given.code, 0, given.stderr);
    assert.equal(
      readManifest(join(dir, 'e')).dependencies['@grpcforge/runtime'],
      `file:${join(dir, 'grpcforge-runtime-1.2.3.tgz').replace(/\\/g, '/')}`,
    );
  });

  test('--grpcforge-spec: a missing file, a folder that is not grpcforge, or nothing, exit 2 and write nothing', async () => {
    const dir = await tempDir();
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other/package.json'), '{ "name": "other" }');
    for (const [spec, message] of [
      ['file:./missing.tgz', /missing\.tgz" does not exist/],
      ['file:other', /is not a grpcforge package folder/],
      ['', /expected an npm spec/],
    ] as const) {
      const init = runCli(['init', 'ws', '--grpcforge-spec', spec], dir);
      assert.equal(init.code, 2, `${spec}: ${init.stdout}${init.stderr}`);
      assert.match(init.stderr, message);
    }
    assert.throws(() => readFileSync(join(dir, 'ws/package.json')), /ENOENT/);
    // A CLI tarball without the runtime's beside it: the fix is named, nothing written.
    writeFileSync(join(dir, 'grpcforge-2.0.0.tgz'), '');
    const alone = runCli(['init', 'ws', '--grpcforge-spec', 'file:./grpcforge-2.0.0.tgz'], dir);
    assert.equal(alone.code, 2, alone.stdout + alone.stderr);
    assert.match(alone.stderr, /no @grpcforge\/runtime package next to .*grpcforge-2\.0\.0\.tgz/);
    assert.match(alone.stderr, /npm pack --workspace @grpcforge\/runtime/);
    assert.throws(() => readFileSync(join(dir, 'ws/package.json')), /ENOENT/);
  });

  test('--help names the flag and what init writes without it', () => {
    const help = runCli(['init', '--help'], process.cwd());
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--grpcforge-spec <spec>/);
    assert.match(help.stdout, /file:<absolute path of the clone>/);
  });

  test('a package under node_modules: the file: spec it was installed from, else ^version; a symlink to a clone: the clone', async () => {
    const dir = realpathSync(await tempDir());
    // npx of a tarball, or a workspace installed from one: the package.json next to node_modules names the file.
    writeFileSync(join(dir, 'grpcforge-9.8.7.tgz'), '');
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app/package.json'), JSON.stringify({ dependencies: { grpcforge: 'file:../grpcforge-9.8.7.tgz' } }));
    assert.deepEqual(resolveGrpcforgeDependency({ packageRoot: fakePackage(join(dir, 'app/node_modules/grpcforge')) }), {
      spec: `file:${join(dir, 'grpcforge-9.8.7.tgz').replace(/\\/g, '/')}`,
      source: 'installed-from-file',
    });
    // A global install (no package.json next to lib/node_modules), or one from the registry.
    assert.deepEqual(resolveGrpcforgeDependency({ packageRoot: fakePackage(join(dir, 'lib/node_modules/grpcforge')) }), {
      spec: '^9.8.7',
      source: 'registry',
    });
    // `npm install -g <clone>` and `npm link` link the global package to the clone.
    const clone = fakePackage(join(dir, 'clone'));
    mkdirSync(join(dir, 'global/lib/node_modules'), { recursive: true });
    symlinkSync(clone, join(dir, 'global/lib/node_modules/grpcforge'), 'dir');
    assert.deepEqual(resolveGrpcforgeDependency({ packageRoot: join(dir, 'global/lib/node_modules/grpcforge') }), {
      spec: `file:${clone.replace(/\\/g, '/')}`,
      source: 'checkout',
    });
  });
});

describe('serve: workspaces it cannot run, and the fix it names', () => {
  test('"cannot load the handlers" says to run npm install and names the package', async () => {
    // Generated, never installed: the generated code imports packages the workspace's node_modules would hold.
    const ws = join(await tempDir(), 'platform');
    assert.equal(runCli(['init', ws], process.cwd()).code, 0);
    const generate = runCli(['generate'], ws);
    assert.equal(generate.code, 0, generate.stderr);
    const serve = runCli(['serve', 'auth', '--port', '0', '--no-log-store'], ws);
    assert.equal(serve.code, 2, serve.stdout + serve.stderr);
    assert.match(serve.stderr, /cannot load the handlers of "auth": Cannot find package '([^']+)'/);
    const named = /Cannot find package '([^']+)'/.exec(serve.stderr)![1]!;
    assert.match(
      serve.stderr,
      new RegExp(
        `run \`npm install\` in the workspace \\(package "${named.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is not installed\\)`,
      ),
    );
  });

  test('generated code without createServiceContext (from an older grpcforge) is refused with the fix', async () => {
    const ws = join(await tempDir(), 'platform');
    assert.equal(runCli(['init', ws], process.cwd()).code, 0);
    await linkWorkspace(ws);
    assert.equal(runCli(['generate'], ws).code, 0);
    const index = join(ws, 'services/auth/src/gen/server/index.ts');
    writeFileSync(index, readFileSync(index, 'utf8').replace(/^export \{ createServiceContext \} from .*\n/m, ''));
    const serve = runCli(['serve', 'auth', '--port', '0', '--no-log-store'], ws);
    assert.equal(serve.code, 2, serve.stdout + serve.stderr);
    assert.match(serve.stderr, /the generated server code of "auth" has no createServiceContext/);
    assert.match(serve.stderr, /run `grpcforge generate`/);
  });
});
