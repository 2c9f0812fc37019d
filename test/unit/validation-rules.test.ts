import assert from 'node:assert/strict';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { loadContract } from '../../src/contract/load-contract.ts';
import { ValidationRulesUserError } from '../../src/contract/validation-rules.ts';
import { checkWorkspaceValidationRules } from '../../src/cli/runtime-options.ts';
import { repoRoot, runCli, tempDir, writeFiles } from '../helpers/workspace.ts';

// generate compiles the buf.validate rules of what the workspace serves and consumes (fixtures/validation): a CEL
// expression that does not compile fails it with exit 2 and `<file>: <message>.<field>: <reason>`.

const BROKEN = /^broken\/v1\/broken\.proto: broken\.v1\.Profile\.nickname: failed to compile nickname\.broken: syntax error/;

/** A workspace with fixtures/validation's contract whose services are `services` (grpcforge.yaml's section). */
async function workspace(services: string): Promise<string> {
  const dir = await tempDir();
  await cp(join(repoRoot, 'fixtures/validation/proto'), join(dir, 'proto'), { recursive: true });
  await writeFiles(dir, {
    'buf.yaml': 'version: v2\nmodules:\n  - path: proto\n',
    'buf.gen.yaml': await readFile(join(repoRoot, 'templates/workspace/buf.gen.yaml'), 'utf8'),
    'grpcforge.yaml': `version: 1\nservices:\n${services}\ncodegen:\n  annotateVersion: false\n`,
  });
  return dir;
}

/** The check `generate` runs on the workspace in `dir` once its contract is built. */
async function check(dir: string): Promise<void> {
  const { config } = await loadConfig(join(dir, 'grpcforge.yaml'));
  assert.ok(config, 'grpcforge.yaml is valid');
  await checkWorkspaceValidationRules(config, (await loadContract(config.contract.root, config.workspaceDir)).contract);
}

describe('generate checks the buf.validate rules', () => {
  let broken: string;
  before(async () => {
    broken = await workspace('  signup:\n    serves: [broken.v1.BrokenService]\n    listen: 127.0.0.1:50071\n');
  });

  test('a rule that does not compile fails the check, naming file, message and field', async () => {
    await assert.rejects(check(broken), (error: unknown) => {
      assert.ok(error instanceof ValidationRulesUserError, String(error));
      assert.equal(error.code, 'validation-rules-invalid');
      assert.equal(error.details.length, 1);
      assert.match(error.details[0] ?? '', BROKEN);
      return true;
    });
  });

  test('a consumer of the service fails the same way', async () => {
    const consumer = await workspace(
      '  caller:\n    consumes:\n      - service: broken.v1.BrokenService\n        target: 127.0.0.1:50073\n',
    );
    await assert.rejects(check(consumer), ValidationRulesUserError);
  });

  test('rules that compile pass; a service that is neither served nor consumed is not checked', async () => {
    await check(await workspace('  shop:\n    serves: [shop.v1.ShopService]\n    listen: 127.0.0.1:50072\n'));
  });

  test('`grpcforge generate` exits 2 with the rule on stderr', () => {
    const result = runCli(['generate'], broken);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /buf\.validate rules do not compile/);
    assert.match(result.stderr, /broken\/v1\/broken\.proto: broken\.v1\.Profile\.nickname: failed to compile nickname\.broken/);
  });
});
