import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storeWorkspace } from '../helpers/dashboard.ts';
import { runCli } from '../helpers/workspace.ts';

test("keys create: a taken name and an unusable one are user errors (exit 2) with the store's message", async () => {
  const { ws } = await storeWorkspace();
  const created = runCli(['keys', 'create', '--name', 'ops', '--json'], ws);
  assert.equal(created.code, 0, created.stderr);
  const { id } = JSON.parse(created.stdout) as { id: string };

  const again = runCli(['keys', 'create', '--name', 'ops'], ws);
  assert.equal(again.code, 2);
  assert.equal(again.stdout, '');
  assert.equal(again.stderr, `grpcforge: an API key named "ops" exists (id ${id})\n`);

  const blank = runCli(['keys', 'create', '--name', ' '], ws);
  assert.equal(blank.code, 2);
  assert.equal(blank.stderr, 'grpcforge: API key name " ": expected a non-empty name without control characters\n');
});
