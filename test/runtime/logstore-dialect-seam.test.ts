import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogStore, registerLogStoreDialect } from '../../packages/runtime/src/index.ts';
import { kyselySqliteDialect } from '../helpers/kysely-sqlite-dialect/dialect.ts';
import { call, describeLogStoreDialect } from '../helpers/logstore-dialect-suite.ts';
import { repoRoot, tempDir } from '../helpers/workspace.ts';

// The seam, proven: an engine that lives only in test/helpers/kysely-sqlite-dialect/ (two files: its dialect and its
// write connection), registered by one call, passes the suite every built-in engine passes. Nothing in the runtime
// names it; its writer thread imports it from its own module.

registerLogStoreDialect(kyselySqliteDialect);

describeLogStoreDialect({ ...kyselySqliteDialect, fresh: async () => `kysely-sqlite:${join(await tempDir(), 'store.db')}` });

test("a registered engine's URL opens with it: migrated with its column types (a rowid rollup table here)", async () => {
  const path = join(await tempDir(), 'columns.db');
  const store = await createLogStore({ url: `kysely-sqlite:${path}` });
  try {
    store.logs.record(call(1));
    await store.flush();
    assert.equal(store.counters().written, 1);
    const table = await store.db
      .selectFrom('sqlite_master' as never)
      .select('sql' as never)
      .where('name' as never, '=', 'call_rollups' as never)
      .executeTakeFirst();
    assert.doesNotMatch(String((table as { sql?: string } | undefined)?.sql), /without rowid/i);
  } finally {
    await store.close();
  }
});

test('the test engine reaches the runtime only through its public entry point, as an engine in its own package would', async () => {
  const folder = join(repoRoot, 'test/helpers/kysely-sqlite-dialect');
  const specifiers = [];
  for (const file of await readdir(folder)) {
    const text = await readFile(join(folder, file), 'utf8');
    specifiers.push(...[...text.matchAll(/from '([^']+)'/g)].map((match) => match[1]));
  }
  const outside = specifiers.filter((specifier) => specifier?.startsWith('..'));
  assert.deepEqual([...new Set(outside)], ['../../../packages/runtime/src/index.ts']);
});
