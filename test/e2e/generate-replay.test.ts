import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CACHE_PATH } from '../../src/codegen/cache.ts';
import { imageToDescriptorSet } from '../../src/contract/buf-image.ts';
import { buildDescriptorSet, buildImage } from '../../src/contract/buf.ts';
import { repoRoot, runCli, tempDir } from '../helpers/workspace.ts';

// What makes the first run and the no-op fast (issue 23) must not show: generate compiles the contracts once, into a
// buf image whose FileDescriptorSet is buf's own, and a rerun with nothing changed is answered from the cache before
// grpcforge.yaml is loaded, printing what the full path prints.

const ECHO = 'services/echo/src/gen/pb/kinds/v1/echo.ts';

/** The rpc-kinds golden case (echo serves, caller consumes) in a new folder, without its expected output. */
async function workspace(): Promise<string> {
  const dir = await tempDir('grpcforge-replay-');
  const fixture = join(repoRoot, 'fixtures/codegen/rpc-kinds');
  const inputs = ['grpcforge.yaml', 'buf.yaml', 'buf.gen.yaml', 'proto'];
  await Promise.all(inputs.map((input) => cp(join(fixture, input), join(dir, input), { recursive: true })));
  return dir;
}

/**
 * The cache file without its replay key: the next run loads the config, then finds the same plan (a cache hit
 * rewrites nothing). Returns a function that puts the key back.
 */
async function dropReplayKey(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, CACHE_PATH);
  const text = await readFile(path, 'utf8');
  const cache = JSON.parse(text) as Record<string, unknown>;
  assert.ok(cache.replay, 'a run whose config printed nothing leaves a replay key');
  delete cache.replay;
  await writeFile(path, `${JSON.stringify(cache)}\n`);
  return () => writeFile(path, text);
}

describe('generate: one compile, and a no-op answered before the config is loaded', () => {
  test('the image FileDescriptorSet is byte for byte what buf build --as-file-descriptor-set writes', async () => {
    for (const fixture of ['codegen/pubsub', 'codegen/error-catalog', 'codegen/example', 'validation']) {
      const dir = join(repoRoot, 'fixtures', fixture);
      const image = await buildImage(dir, dir);
      try {
        assert.deepEqual(imageToDescriptorSet(image.bytes), await buildDescriptorSet(dir, dir), fixture);
      } finally {
        await image.dispose();
      }
    }
  });

  test('a replayed no-op and --check print and exit as the full path does', async () => {
    const dir = await workspace();
    assert.equal(runCli(['generate'], dir).code, 0);
    for (const args of [['generate'], ['generate', '--json'], ['generate', '--check', '--json'], ['generate', '-v']]) {
      const replayed = runCli(args, dir);
      const restore = await dropReplayKey(dir);
      const full = runCli(args, dir);
      assert.deepEqual(replayed, full, args.join(' '));
      await restore();
    }
  });

  test('a replayed --check finds a hand-edited file, and generate restores it', async () => {
    const dir = await workspace();
    assert.equal(runCli(['generate'], dir).code, 0);
    const original = await readFile(join(dir, ECHO), 'utf8');
    await writeFile(join(dir, ECHO), `${original}// edited\n`);
    const check = runCli(['generate', '--check'], dir);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /changed +services\/echo\/src\/gen\/pb\/kinds\/v1\/echo\.ts/);
    assert.equal(runCli(['generate'], dir).code, 0);
    assert.equal(await readFile(join(dir, ECHO), 'utf8'), original);
  });

  test('a grpcforge.yaml edit is not replayed: the config is loaded (and its errors reported) again', async () => {
    const dir = await workspace();
    assert.equal(runCli(['generate'], dir).code, 0);
    const configPath = join(dir, 'grpcforge.yaml');
    await writeFile(configPath, `${await readFile(configPath, 'utf8')}\nunknownKey: 1\n`);
    const run = runCli(['generate'], dir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknownKey/);
  });
});
