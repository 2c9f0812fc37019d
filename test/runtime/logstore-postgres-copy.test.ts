import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createLogStore, type CallRecord, type LogStore } from '../../packages/runtime/src/index.ts';
import type pg from 'pg';
import { postgresAvailable, startTestPostgres, type TestPostgres } from '../helpers/postgres.ts';

// The PostgreSQL store writes request_logs with a binary COPY (dialects/postgres/copy-binary.ts): every column's
// value must come back as it went in, whatever its text (empty, multi-byte, a surrogate pair, a lone surrogate,
// NUL, long enough to span the encoder's 256 KiB chunks), its nulls and its numbers.

let postgres: TestPostgres | undefined;
after(() => postgres?.stop());

const base = Date.UTC(2026, 11, 7, 12, 0, 0);

function call(index: number, overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    requestId: `copy-${index}`,
    startedAt: base + index,
    service: 'auth.v1.AuthService',
    method: 'Login',
    kind: 'unary',
    statusCode: 0,
    durationMs: 1.25,
    principal: null,
    apiKeyId: null,
    peer: null,
    requestBytes: 0,
    responseBytes: 0,
    requestMessages: 1,
    responseMessages: 1,
    errorMessage: null,
    ...overrides,
  };
}

/** Every column the store writes, as the reader returns it (an absent optional column reads as null). */
const COLUMNS = [
  'requestId',
  'startedAt',
  'service',
  'method',
  'kind',
  'statusCode',
  'durationMs',
  'principal',
  'apiKeyId',
  'peer',
  'requestBytes',
  'responseBytes',
  'requestMessages',
  'responseMessages',
  'errorMessage',
  'traceId',
  'rawPath',
  'errorReason',
  'violationField',
] as const satisfies readonly (keyof CallRecord)[];
const columnsOf = (record: CallRecord) => Object.fromEntries(COLUMNS.map((column) => [column, record[column] ?? null]));

/** Runs `check` with a store on a new database and a plain pg client on the same one; closes both. */
async function withStoreAndClient(name: string, check: (store: LogStore, admin: pg.Client) => Promise<void>): Promise<void> {
  postgres ??= await startTestPostgres();
  const url = await postgres.createDatabase(name);
  const store = await createLogStore({ url });
  const { default: pgModule } = await import('pg');
  const admin = new pgModule.Client({ connectionString: url });
  await admin.connect();
  try {
    await check(store, admin);
  } finally {
    await store.close();
    await admin.end();
  }
}

if (postgresAvailable()) {
  describe('log store on postgres: rows through binary COPY', { timeout: 120_000 }, () => {
    test('every column comes back as recorded: nulls, empty and multi-byte text, extreme numbers', async () => {
      postgres ??= await startTestPostgres();
      const store = await createLogStore({ url: await postgres.createDatabase('copy') });
      try {
        const calls = [
          call(0),
          call(1, {
            kind: 'bidiStreaming',
            statusCode: 16,
            durationMs: 0.000_123_456_789,
            principal: 'jwt:ädå 😀 中文',
            apiKeyId: '',
            peer: '[::1]:50051',
            requestBytes: 2_147_483_647,
            responseBytes: 0,
            requestMessages: 123_456,
            responseMessages: 0,
            errorMessage: 'tab\there, new\nline, back\\slash, quote " and \' and \r',
            traceId: '0af7651916cd43dd8448eb211c80319c',
            rawPath: '/x.y/Z',
            errorReason: 'USER_NOT_FOUND',
            violationField: 'items[0].name',
          }),
          // A lone surrogate is stored as U+FFFD (as UTF-8 cannot hold it), NUL as U+FFFD (PostgreSQL's text cannot).
          call(2, { errorMessage: 'lone \uD800 surrogate', principal: 'a\u0000b', durationMs: 86_400_000.5 }),
          call(3, { startedAt: 4_102_444_800_000, durationMs: 0 }), // 2100-01-01: above 2^32 ms in both halves
        ];
        for (const record of calls) store.logs.record(record);
        await store.flush();
        assert.deepEqual([store.counters().written, store.counters().dropped], [calls.length, 0]);
        const expected = calls.map((record) =>
          columnsOf({
            ...record,
            errorMessage: record.errorMessage?.replace('\uD800', '\uFFFD') ?? null,
            principal: record.principal?.replace('\u0000', '\uFFFD') ?? null,
          }),
        );
        for (const [index, record] of expected.entries()) {
          const stored = await store.logs.get(`copy-${index}`);
          assert.ok(stored, `copy-${index}`);
          assert.deepEqual(columnsOf(stored), record);
        }
      } finally {
        await store.close();
      }
    });

    test('a run longer than a COPY chunk (rows of 4 KiB): every row once, in order', async () => {
      await withStoreAndClient('copy_chunks', async (store, admin) => {
        // ~4 KiB of 3-byte characters per row, in `peer` (which the store keeps whole, unlike error messages): 2,000
        // rows are ~8 MiB, dozens of chunks, rows across every chunk boundary.
        const message = (index: number) => `${index}:${'€'.repeat(1000 + (index % 400))}`;
        for (let index = 0; index < 2000; index++) store.logs.record(call(index, { peer: message(index) }));
        await store.flush();
        assert.deepEqual([store.counters().written, store.counters().dropped], [2000, 0]);
        const { rows } = await admin.query<{ request_id: string; peer: string }>(
          'select request_id, peer from request_logs order by id',
        );
        assert.equal(rows.length, 2000);
        rows.forEach((row, index) => assert.deepEqual(row, { request_id: `copy-${index}`, peer: message(index) }));
      });
    });

    test('a COPY the server fails midway (after megabytes were sent) is rolled back and retried: every row once, the writer alive', async () => {
      await withStoreAndClient('copy_fail', async (store, admin) => {
        // The server sleeps on the first row (the writer's chunks back up in the socket and wait for 'drain'), then
        // row 100 fails once with a transient SQLSTATE while megabytes are still to come; a sequence is not rolled
        // back, so the retried run passes the trigger.
        await admin.query(`create sequence copy_fail_rows;
        create function copy_fail_once() returns trigger language plpgsql as $$
        declare row_number bigint := nextval('copy_fail_rows');
        begin
          if row_number = 1 then perform pg_sleep(1); end if;
          if row_number = 100 then raise exception 'injected failure' using errcode = '40001'; end if;
          return new;
        end $$;
        create trigger copy_fail_once before insert on request_logs for each row execute function copy_fail_once();`);
        // 8,000 rows of ~4 KiB: ~32 MiB, more than the kernel's socket buffers hold while the server sleeps.
        const rows = 8000;
        const message = (index: number) => `${index}:${'€'.repeat(1000 + (index % 400))}`;
        for (let index = 0; index < rows; index++) store.logs.record(call(index, { peer: message(index) }));
        await store.flush();
        const { rows: failed } = await admin.query<{ n: string }>('select last_value as n from copy_fail_rows');
        assert.ok(Number(failed[0]?.n) > rows, 'the injected failure ran and the run was sent again');
        store.logs.record(call(rows));
        await store.flush();
        assert.deepEqual([store.counters().written, store.counters().dropped], [rows + 1, 0]);
        const { rows: stored } = await admin.query<{ request_id: string }>('select request_id from request_logs order by id');
        assert.deepEqual(
          stored.map((row) => row.request_id),
          Array.from({ length: rows + 1 }, (_, index) => `copy-${index}`),
        );
      });
    });
  });
} else {
  process.stdout.write('# PostgreSQL: not installed and GRPCFORGE_TEST_PG_URL unset: the COPY tests do not run\n');
}
