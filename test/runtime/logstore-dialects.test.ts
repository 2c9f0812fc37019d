import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { postgresDialect } from '../../packages/runtime/src/logstore/dialects/postgres/dialect.ts';
import { sqliteDialect } from '../../packages/runtime/src/logstore/dialects/sqlite/dialect.ts';
import { createLogStore } from '../../packages/runtime/src/index.ts';
import { requestIdOf } from '../helpers/dashboard.ts';
import { MINUTE, call, describeLogStoreDialect, type SuiteDialect } from '../helpers/logstore-dialect-suite.ts';
import { postgresAvailable, startTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { tempDir } from '../helpers/workspace.ts';

// One suite, every dialect (as kysely's own tests run theirs): SQLite always; PostgreSQL when GRPCFORGE_TEST_PG_URL
// is set or initdb is installed (a throwaway cluster; .ci/run installs postgresql, so CI runs both). The suite is
// test/helpers/logstore-dialect-suite.ts; logstore-dialect-seam.test.ts runs it on an engine that exists only there.

let postgres: TestPostgres | undefined;
const dialects: SuiteDialect[] = [{ ...sqliteDialect, fresh: async () => `sqlite:${join(await tempDir(), 'store.db')}` }];
if (postgresAvailable()) {
  dialects.push({
    ...postgresDialect,
    fresh: async () => {
      postgres ??= await startTestPostgres();
      return postgres.createDatabase('dialects');
    },
  });
} else {
  process.stdout.write('# PostgreSQL: not installed and GRPCFORGE_TEST_PG_URL unset: the postgres dialect does not run\n');
}
after(() => postgres?.stop());

for (const dialect of dialects) describeLogStoreDialect(dialect);

if (postgresAvailable()) {
  describe('log store on postgres: lost connections', { timeout: 120_000 }, () => {
    test("the writer's connections killed mid-ingest: every call is written once, none twice", async () => {
      postgres ??= await startTestPostgres();
      const url = await postgres.createDatabase('killed');
      const { default: pg } = await import('pg');
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const store = await createLogStore({ url });
      try {
        const now = Math.floor(Date.now() / MINUTE) * MINUTE;
        let killed = 0;
        for (let index = 0; index < 6000; index++) {
          store.logs.record({ ...call(index, now - 60_000 + (index % 60) * 1000), requestId: requestIdOf(now, index) });
          if (index % 1000 === 999) {
            // Ends the writer thread's backends (SQLSTATE 57P01 on its next statement), as a failover would.
            const result = await admin.query(
              "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'grpcforge-writer'",
            );
            killed += result.rowCount ?? 0;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
        await store.flush();
        assert.ok(killed > 0, 'some writer connections were terminated');
        assert.deepEqual([store.counters().written, store.counters().dropped], [6000, 0]);
        const { rows } = await admin.query<{ calls: string; distinct: string }>(
          'select count(*) as calls, count(distinct request_id) as distinct from request_logs',
        );
        assert.deepEqual([Number(rows[0]?.calls), Number(rows[0]?.distinct)], [6000, 6000]);
        assert.equal((await store.statistics.summary({ since: now - 120_000 })).calls, 6000);
      } finally {
        await store.close();
        await admin.end();
      }
    });
  });

  describe('log store on postgres: refusals', () => {
    test('a server that does not answer is a clear error naming the URL without its password', async () => {
      const started = Date.now();
      await assert.rejects(
        createLogStore({ url: 'postgres://grpcforge:s3cret-pass@127.0.0.1:1/nowhere', postgres: { connectTimeoutMs: 2000 } }),
        (error: Error) => {
          assert.match(error.message, /^the log store postgres:\/\/grpcforge:\*\*\*@127\.0\.0\.1:1\/nowhere cannot be used/);
          assert.doesNotMatch(error.message, /s3cret-pass/);
          return true;
        },
      );
      assert.ok(Date.now() - started < 10_000);
    });
  });
}
