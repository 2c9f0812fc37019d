import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CACHE_PATH } from '../../src/codegen/cache.ts';
import { generateFromConfig } from '../../src/codegen/generate.ts';
import { loadConfig } from '../../src/config/load.ts';
import { loadContract } from '../../src/contract/load-contract.ts';
import { repoRoot, runCli, tempDir } from '../helpers/workspace.ts';

// The content-hash cache of generate (.grpcforge/cache/generate.json): a run whose inputs did not change runs no
// buf and no plugin, yet still compares the disk with the plan; a change to a contract, buf.gen.yaml,
// grpcforge.yaml or the grpcforge version runs everything again.

const ECHO = 'services/echo/src/gen/pb/kinds/v1/echo.ts';

async function workspace(): Promise<string> {
  const dir = await tempDir('grpcforge-cache-');
  for (const input of ['grpcforge.yaml', 'buf.yaml', 'buf.gen.yaml', 'proto']) {
    await cp(join(repoRoot, 'fixtures/codegen/rpc-kinds', input), join(dir, input), { recursive: true });
  }
  return dir;
}

/** One `generate` through the library; `loads` counts the contract builds. */
async function generate(dir: string, options: { dryRun?: boolean; cache?: boolean } = {}) {
  const result = await loadConfig(join(dir, 'grpcforge.yaml'));
  assert.ok(result.config);
  const config = result.config;
  let loads = 0;
  const outcome = await generateFromConfig(
    config,
    () => {
      loads++;
      return loadContract(config.contract.root, config.workspaceDir);
    },
    options,
  );
  const changed = outcome.report.entries.filter((entry) => entry.action !== 'unchanged' && entry.action !== 'kept');
  return { ...outcome, loads, changed: changed.map((entry) => `${entry.action} ${entry.path}`) };
}

async function append(path: string, text: string): Promise<void> {
  await writeFile(path, `${await readFile(path, 'utf8')}${text}`);
}

describe('generate cache', () => {
  test('a rerun with the same inputs runs nothing and changes nothing', async () => {
    const dir = await workspace();
    const first = await generate(dir);
    assert.equal(first.cache, 'miss');
    assert.equal(first.tsProtoRuns, 1, 'one ts-proto run for both services');
    assert.equal(first.loads, 1);
    assert.match(await readFile(join(dir, '.grpcforge/cache/.gitignore'), 'utf8'), /^\*$/m);
    const second = await generate(dir);
    assert.equal(second.cache, 'hit');
    assert.equal(second.tsProtoRuns, 0);
    assert.equal(second.loads, 0, 'buf build did not run either');
    assert.deepEqual(second.changed, []);
    assert.deepEqual(second.plan, first.plan);
  });

  test('--check on a cache hit still finds a hand-edited generated file, and generate restores it', async () => {
    const dir = await workspace();
    await generate(dir);
    const original = await readFile(join(dir, ECHO), 'utf8');
    await writeFile(join(dir, ECHO), `${original}// edited\n`);
    const check = await generate(dir, { dryRun: true });
    assert.equal(check.cache, 'hit');
    assert.deepEqual(check.changed, [`written ${ECHO}`]);
    assert.equal(await readFile(join(dir, ECHO), 'utf8'), `${original}// edited\n`, '--check writes nothing');
    const fix = await generate(dir);
    assert.equal(fix.cache, 'hit');
    assert.deepEqual(fix.changed, [`written ${ECHO}`]);
    assert.equal(await readFile(join(dir, ECHO), 'utf8'), original);
  });

  test('a deleted generated file is recreated from the cache', async () => {
    const dir = await workspace();
    await generate(dir);
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, ECHO));
    const again = await generate(dir);
    assert.equal(again.cache, 'hit');
    assert.deepEqual(again.changed, [`created ${ECHO}`]);
  });

  const changes: Record<string, (dir: string) => Promise<void>> = {
    'a contract': (dir) => append(join(dir, 'proto/kinds/v1/echo.proto'), '\n// a comment\n'),
    'a new .proto file': (dir) => writeFile(join(dir, 'proto/kinds/v1/extra.proto'), 'syntax = "proto3";\npackage kinds.v1;\n'),
    'buf.yaml': (dir) => append(join(dir, 'buf.yaml'), '\n# a comment\n'),
    'buf.gen.yaml': (dir) => append(join(dir, 'buf.gen.yaml'), '\n# a comment\n'),
    'grpcforge.yaml': (dir) => append(join(dir, 'grpcforge.yaml'), '\n# a comment\n'),
    'the grpcforge version': async (dir) => {
      // The version is one of the recorded inputs: a cache written by another version does not match this one.
      const cache = JSON.parse(await readFile(join(dir, CACHE_PATH), 'utf8')) as { inputs: { grpcforge: string } };
      cache.inputs.grpcforge = '0.0.0-older';
      await writeFile(join(dir, CACHE_PATH), JSON.stringify(cache));
    },
    'the ts-proto version': async (dir) => {
      const cache = JSON.parse(await readFile(join(dir, CACHE_PATH), 'utf8')) as { inputs: { tsProto: string } };
      cache.inputs.tsProto = '0.0.0-older';
      await writeFile(join(dir, CACHE_PATH), JSON.stringify(cache));
    },
    'a damaged cache file': (dir) => writeFile(join(dir, CACHE_PATH), '{"format":1,'),
  };
  for (const [what, change] of Object.entries(changes)) {
    test(`is invalidated by ${what}`, async () => {
      const dir = await workspace();
      await generate(dir);
      await change(dir);
      const after = await generate(dir);
      assert.equal(after.cache, 'miss');
      assert.equal(after.tsProtoRuns, 1);
      assert.equal(after.loads, 1);
      assert.equal((await generate(dir)).cache, 'hit', 'the next run hits again');
    });
  }

  test('a contract change shows in the output of the next run', async () => {
    const dir = await workspace();
    await generate(dir);
    const proto = join(dir, 'proto/kinds/v1/echo.proto');
    await writeFile(
      proto,
      (await readFile(proto, 'utf8')).replace('  string text = 1;\n}', '  string text = 1;\n  string added_by_the_test = 2;\n}'),
    );
    const after = await generate(dir);
    assert.equal(after.cache, 'miss');
    assert.match(await readFile(join(dir, ECHO), 'utf8'), /addedByTheTest/);
  });

  test('--check on a cache miss writes no cache; --no-cache runs everything', async () => {
    const dir = await workspace();
    const check = await generate(dir, { dryRun: true });
    assert.equal(check.cache, 'miss');
    assert.equal((await generate(dir)).cache, 'miss', 'the check wrote no cache');
    const off = await generate(dir, { cache: false });
    assert.equal(off.cache, 'off');
    assert.equal(off.tsProtoRuns, 1);
  });

  test('through the CLI: the rerun says so, --check passes, then fails on a hand edit', async () => {
    const dir = await workspace();
    const first = runCli(['generate'], dir);
    assert.equal(first.code, 0, first.stderr);
    const second = runCli(['generate'], dir);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /generating nothing: no input changed since the last run/);
    assert.equal(runCli(['generate', '--check'], dir).code, 0);
    await append(join(dir, ECHO), '// edited\n');
    const drift = runCli(['generate', '--check'], dir);
    assert.equal(drift.code, 1, drift.stdout);
    assert.match(drift.stdout, /kinds\/v1\/echo\.ts/);
    const noCache = runCli(['generate', '--no-cache', '--json'], dir);
    assert.equal(noCache.code, 0, noCache.stderr);
  });
});
