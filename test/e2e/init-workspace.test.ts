import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { listFilesRecursive } from '../../src/util/fs.ts';
import { bufPath, linkWorkspace, repoRoot, runCli, runProgram, startServe, tempDir, writeFiles } from '../helpers/workspace.ts';

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

// The example's contracts import protovalidate's rules and grpcforge's error options: init vendors both into proto/,
// so buf resolves them offline (no deps on the Buf Schema Registry), yet they are neither linted nor generated.
describe('init: the vendored validate.proto and errors.proto', () => {
  const VENDORED = ['buf/validate/validate.proto', 'buf/validate/LICENSE', 'grpcforge/v1/errors.proto'];

  test('buf lint is clean, generate writes no code for them, grpcforge lint is clean, reflection describes them', async () => {
    const repo = await tempDir();
    const ws = join(repo, 'platform');
    const git = (...args: string[]) => {
      const result = runProgram('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], repo);
      assert.equal(result.code, 0, result.stderr);
    };
    git('init', '-q', '-b', 'main');
    const init = runCli(['init', ws], repo);
    assert.equal(init.code, 0, init.stderr);
    for (const path of VENDORED) {
      assert.equal(
        readFileSync(join(ws, 'proto', path), 'utf8'),
        readFileSync(join(repoRoot, 'templates/vendor', path), 'utf8'),
        `proto/${path} is templates/vendor/${path}`,
      );
    }
    assert.match(readFileSync(join(ws, 'proto/buf/validate/LICENSE'), 'utf8'), /Apache License/);
    for (const [path, imports] of [
      ['auth/v1/auth.proto', ['buf/validate/validate.proto', 'grpcforge/v1/errors.proto']],
      ['user/v1/user.proto', ['buf/validate/validate.proto']],
    ] as const) {
      const text = readFileSync(join(ws, 'proto', path), 'utf8');
      for (const imported of imports) assert.ok(text.includes(`import "${imported}";`), `${path} imports ${imported}`);
    }

    // buf itself, as a user or an editor runs it: offline, no buf.lock, no findings.
    const bufLint = runProgram(bufPath, ['lint'], ws);
    assert.equal(bufLint.code, 0, bufLint.stdout + bufLint.stderr);
    assert.equal(existsSync(join(ws, 'buf.lock')), false);

    await linkWorkspace(ws);
    const generated = runCli(['generate'], ws);
    assert.equal(generated.code, 0, generated.stderr);
    // ts-proto's output is the example's own files and what they use: nothing of buf/validate, grpcforge/v1, or the
    // descriptor.proto and duration.proto that validate.proto imports.
    for (const [service, expected] of [
      ['auth', ['auth/v1/auth.ts', 'google/protobuf/timestamp.ts']],
      ['user', ['auth/v1/auth.ts', 'google/protobuf/timestamp.ts', 'user/v1/user.ts']],
    ] as const) {
      assert.deepEqual((await listFilesRecursive(join(ws, 'services', service, 'src/gen/pb'))).sort(), expected);
    }
    // Handlers: the example's services only (the vendored files declare none).
    assert.deepEqual(readdirSync(join(ws, 'services/auth/src/handlers')), ['auth.v1.AuthService']);
    assert.deepEqual(readdirSync(join(ws, 'services/user/src/handlers')), ['user.v1.UserService']);

    await writeFiles(repo, { '.gitignore': 'node_modules/\n.grpcforge/*.db*\n' });
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    const lint = runCli(['lint', '--against', 'main', '--format', 'json'], ws);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    const report = JSON.parse(lint.stdout) as { checks: { check: string; ran: boolean; findings: number }[] };
    assert.deepEqual(
      report.checks.map((check) => [check.check, check.ran, check.findings]),
      [
        ['lint', true, 0],
        ['breaking', true, 0],
        ['consistency', true, 0],
        ['drift', true, 0],
      ],
    );

    // buf curl resolves LoginRequest through server reflection, which needs every file auth.proto imports.
    const auth = await startServe(ws, 'auth');
    const login = runProgram(
      bufPath,
      [
        'curl',
        '--protocol',
        'grpc',
        '--http2-prior-knowledge',
        '-d',
        '{"username":"ada","password":"demo"}',
        `http://${auth.address}/auth.v1.AuthService/Login`,
      ],
      ws,
    );
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /"token": "[\w-]+"/);
    await auth.stop();
  });

  test('a change to a vendored file is neither a lint nor a breaking finding; it would be without buf.yaml ignoring it', async () => {
    const repo = await tempDir();
    const ws = join(repo, 'platform');
    const git = (...args: string[]) => {
      const result = runProgram('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], repo);
      assert.equal(result.code, 0, result.stderr);
    };
    git('init', '-q', '-b', 'main');
    assert.equal(runCli(['init', ws], repo).code, 0);
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    // A field no contract here sets, renamed: FIELD_SAME_NAME for buf breaking.
    const validate = join(ws, 'proto/buf/validate/validate.proto');
    const text = readFileSync(validate, 'utf8');
    writeFileSync(validate, text.replace('optional uint64 max_bytes = ', 'optional uint64 max_bytes_renamed = '));
    const check = (...args: string[]) => runProgram(bufPath, args, ws);
    const against = ['--against', `${join(repo, '.git')}#ref=main,subdir=platform`];
    assert.equal(check('lint').code, 0);
    const breaking = check('breaking', ...against);
    assert.equal(breaking.code, 0, breaking.stdout + breaking.stderr);

    writeFileSync(
      join(ws, 'buf.yaml'),
      'version: v2\nmodules:\n  - path: proto\nlint:\n  use: [STANDARD]\nbreaking:\n  use: [FILE]\n',
    );
    const unscoped = check('lint');
    assert.equal(unscoped.code, 100);
    assert.match(
      unscoped.stdout,
      /proto\/buf\/validate\/validate\.proto:\d+:\d+:Package name "buf\.validate" should be suffixed/,
    );
    const unscopedBreaking = check('breaking', ...against);
    assert.equal(unscopedBreaking.code, 100);
    assert.match(unscopedBreaking.stdout, /max_bytes/);
  });
});
