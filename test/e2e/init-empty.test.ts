import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { linkWorkspace, runCli, runProgram, tempDir, writeFiles } from '../helpers/workspace.ts';

// `grpcforge init --empty`: a workspace to bring your own contracts to. It must load, generate and lint cleanly
// before the first contract exists, and lint --against must work for the change that adds the first contract.

const GREETER_PROTO = `syntax = "proto3";

package acme.greeter.v1;

service GreeterService {
  rpc SayHello(SayHelloRequest) returns (SayHelloResponse);
}

message SayHelloRequest {
  string name = 1;
}

message SayHelloResponse {
  string message = 1;
}
`;

/** Runs git with a fixed identity, failing the test on a non-zero exit. */
function git(cwd: string, ...args: string[]): void {
  const result = runProgram('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], cwd);
  assert.equal(result.code, 0, result.stderr);
}

describe('init --empty', () => {
  test('writes the workspace without the example; its grpcforge.yaml loads with no services and no warnings', async () => {
    const dir = join(await tempDir(), 'collector');
    const init = runCli(['init', dir, '--empty'], process.cwd());
    assert.equal(init.code, 0, init.stderr);
    const created = [...init.stderr.matchAll(/^ {2}created {2}(\S+)$/gm)].map((match) => match[1]);
    assert.deepEqual(created, [
      '.github/workflows/grpcforge.yml',
      '.gitignore',
      'buf.gen.yaml',
      'buf.yaml',
      'grpcforge.yaml',
      'package.json',
      'proto/README.md',
      'README.md',
      'tsconfig.json',
    ]);
    assert.match(init.stdout, /^created workspace .*collector \(9 files\)$/m);
    assert.match(init.stdout, /add a contract under proto\/ and declare a service in grpcforge\.yaml/);
    assert.equal(existsSync(join(dir, 'services')), false);

    const loaded = await loadConfig(join(dir, 'grpcforge.yaml'));
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(loaded.warnings, []);
    assert.deepEqual(loaded.config?.services, []);

    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.deepEqual(Object.keys(manifest.scripts), ['generate', 'build', 'typecheck', 'test']);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const step of ['Add a contract', 'Declare a service', 'Generate', 'Serve']) assert.ok(readme.includes(step), step);
    // The commented example in grpcforge.yaml is a valid configuration once uncommented.
    const uncommented = readFileSync(join(dir, 'grpcforge.yaml'), 'utf8').replace(/^ {2}# {0,1}(?=[a-z ])/gm, '  ');
    await writeFile(join(dir, 'uncommented.yaml'), uncommented);
    const example = await loadConfig(join(dir, 'uncommented.yaml'));
    assert.deepEqual(example.errors, []);
    assert.deepEqual(
      example.config?.services.map((service) => service.name),
      ['greeter', 'web'],
    );
    assert.deepEqual(Object.keys(example.config.auth.methods), [
      'acme.greeter.v1.GreeterService/SayHello',
      'acme.greeter.v1.GreeterService/*',
    ]);
  });

  test('generate and lint before the first contract: exit 0, saying why there is nothing to do', async () => {
    const dir = join(await tempDir(), 'ws');
    assert.equal(runCli(['init', dir, '--empty'], process.cwd()).code, 0);
    const generate = runCli(['generate'], dir);
    assert.equal(generate.code, 0, generate.stderr);
    assert.match(
      generate.stderr,
      /^note: grpcforge\.yaml declares no services, so there is nothing to generate: add a contract under proto\/ and declare a service under services:$/m,
    );
    const lint = runCli(['lint'], dir);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    assert.match(lint.stdout, /^lint: skipped \(no \.proto files in proto\/ yet\)$/m);
    assert.match(lint.stdout, /^grpcforge lint: clean$/m);

    // A service declared before its contract exists: a consistency finding, not buf's "had no .proto files".
    const config = readFileSync(join(dir, 'grpcforge.yaml'), 'utf8');
    await writeFile(
      join(dir, 'grpcforge.yaml'),
      config.replace(
        /^services:\n/m,
        'services:\n  greeter:\n    serves: [acme.greeter.v1.GreeterService]\n    listen: 127.0.0.1:50051\n',
      ),
    );
    const named = runCli(['lint', '--format', 'json'], dir);
    assert.equal(named.code, 1, named.stderr);
    const report = JSON.parse(named.stdout) as { findings: { rule: string; message: string }[] };
    assert.deepEqual(
      report.findings.map((finding) => `${finding.rule}: ${finding.message}`),
      [
        'unknown-service: services.greeter.serves[0]: "acme.greeter.v1.GreeterService" is not a service in proto/ (the contracts declare no service)',
      ],
    );
  });

  test('lint --against: the first contract breaks nothing; deleting every contract is a breaking change', async () => {
    const dir = join(await tempDir(), 'ws');
    assert.equal(runCli(['init', dir, '--empty'], process.cwd()).code, 0);
    await linkWorkspace(dir);
    git(dir, 'init', '-q');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'empty workspace');

    const empty = runCli(['lint', '--against', 'HEAD', '--no-drift'], dir);
    assert.equal(empty.code, 0, empty.stdout + empty.stderr);
    assert.match(empty.stdout, /^breaking \(against git ref HEAD\): skipped \(no \.proto files, here or in git ref HEAD\)$/m);

    await writeFiles(dir, { 'proto/acme/greeter/v1/greeter.proto': GREETER_PROTO });
    const first = runCli(['lint', '--against', 'HEAD', '--no-drift'], dir);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /^lint: ok$/m);
    assert.match(
      first.stdout,
      /^breaking \(against git ref HEAD\): skipped \(git ref HEAD has no \.proto files: nothing to break\)$/m,
    );

    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'first contract');
    await rm(join(dir, 'proto/acme'), { recursive: true });
    const deleted = runCli(['lint', '--against', 'HEAD', '--no-drift', '--format', 'json'], dir);
    assert.equal(deleted.code, 1, deleted.stderr);
    const report = JSON.parse(deleted.stdout) as { findings: { check: string; rule: string; message: string }[] };
    assert.deepEqual(report.findings, [
      {
        check: 'breaking',
        rule: 'FILE_NO_DELETE',
        message: 'every .proto file was deleted (git ref HEAD has contracts, this workspace has none)',
      },
    ]);
  });
});
