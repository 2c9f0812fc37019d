import { statSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { CallRollupTable, LogStoreDatabase, RequestLogTable } from '../../database.js';
import type { LogStoreRowWriter, LogStoreWriteConnection } from '../../dialect.js';
import { N, NUMBER_STRIDE, S, STRING_STRIDE, type RowBatch } from '../../row-batch.js';

/** Placeholder row: kysely compiles each statement once from it (typed against the schema); values are bound per run. */
const ROW: Omit<RequestLogTable, 'id'> = {
  request_id: '',
  started_at: 0,
  service: '',
  method: '',
  kind: '',
  status_code: 0,
  duration_ms: 0,
  principal: null,
  api_key_id: null,
  peer: null,
  request_bytes: 0,
  response_bytes: 0,
  request_messages: 0,
  response_messages: 0,
  error_message: null,
  trace_id: null,
  raw_path: null,
  error_reason: null,
  violation_field: null,
};

/** Placeholder rollup row, in the column order the upsert binds. */
const ROLLUP: CallRollupTable = {
  bucket_ms: 0,
  bucket_start: 0,
  service: '',
  method: '',
  status_code: 0,
  calls: 0,
  duration_sum_ms: 0,
  duration_min_ms: 0,
  duration_max_ms: 0,
  request_bytes: 0,
  response_bytes: 0,
  request_messages: 0,
  response_messages: 0,
  latency_sketch: new Uint8Array(),
};
const ROLLUP_COLUMNS = Object.keys(ROLLUP) as (keyof CallRollupTable)[];
const ROLLUP_KEY = ['bucket_ms', 'bucket_start', 'service', 'method', 'status_code'] as const;

/**
 * The writer's connection to a SQLite store: statements prepared once on one better-sqlite3 connection (in the writer
 * thread, or for `:memory:` the caller's), a run of rows in one IMMEDIATE transaction. Synchronous underneath: where
 * it runs, blocking on the disk stalls no request.
 * @param path - the database file, watched for deletion or replacement; `:memory:` for none.
 * @param ownsConnection - whether `close` closes it (not the caller's connection of a `:memory:` store: kysely does).
 * @param reader - the store's own kysely over the same connection (`:memory:`): each run holds its connection, so the
 *   store's queries wait for the run instead of landing inside its transaction (the run awaits between statements).
 */
export function createSqliteWriteConnection(
  sqlite: Database,
  path: string,
  ownsConnection = true,
  reader?: Kysely<LogStoreDatabase>,
): LogStoreWriteConnection {
  const db = new Kysely<LogStoreDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  const insertRow = sqlite.prepare(db.insertInto('request_logs').values(ROW).compile().sql);
  const selectRollup = sqlite.prepare<unknown[], CallRollupTable>(
    ROLLUP_KEY.reduce((query, column) => query.where(column, '=', 0), db.selectFrom('call_rollups').selectAll()).compile().sql,
  );
  // The merged row replaces the stored one in place (the SELECT before it runs in the same transaction).
  const upsertRollup = sqlite.prepare(
    db
      .insertInto('call_rollups')
      .values(ROLLUP)
      .onConflict((conflict) =>
        conflict
          .columns([...ROLLUP_KEY])
          .doUpdateSet((eb) =>
            Object.fromEntries(
              ROLLUP_COLUMNS.filter((column) => !(ROLLUP_KEY as readonly string[]).includes(column)).map((column) => [
                column,
                eb.ref(`excluded.${column}`),
              ]),
            ),
          ),
      )
      .compile().sql,
  );
  const addUsage = sqlite.prepare(
    'update api_keys set request_count = request_count + ?, last_used_at = max(coalesce(last_used_at, 0), ?) where id = ?',
  );

  const addUsages = sqlite.transaction((uses: Parameters<LogStoreWriteConnection['addKeyUsage']>[0]) => {
    for (const [id, count, lastUsedAt] of uses) addUsage.run(count, lastUsedAt, id);
  });

  const rows: LogStoreRowWriter = {
    insertRows: async (batches: readonly RowBatch[]) => {
      for (const { numbers, strings, count } of batches)
        for (let index = 0; index < count; index++) {
          const n = index * NUMBER_STRIDE;
          const s = index * STRING_STRIDE;
          // Positional, in the column order of ROW.
          insertRow.run(
            strings[s + S.requestId],
            numbers[n + N.startedAt],
            strings[s + S.service],
            strings[s + S.method],
            strings[s + S.kind],
            numbers[n + N.statusCode],
            numbers[n + N.durationMs],
            strings[s + S.principal],
            strings[s + S.apiKeyId],
            strings[s + S.peer],
            numbers[n + N.requestBytes],
            numbers[n + N.responseBytes],
            numbers[n + N.requestMessages],
            numbers[n + N.responseMessages],
            strings[s + S.errorMessage],
            strings[s + S.traceId],
            strings[s + S.rawPath],
            strings[s + S.errorReason],
            strings[s + S.violationField],
          );
        }
    },
    readRollups: async (deltas) =>
      deltas.map((delta) => selectRollup.get(delta.bucketMs, delta.bucketStart, delta.service, delta.method, delta.statusCode)),
    writeRollups: async (merged) => {
      for (const row of merged) upsertRollup.run(ROLLUP_COLUMNS.map((column) => row[column]));
    },
  };

  const identity = (): string | undefined => {
    if (path === ':memory:') return 'memory';
    const stat = statSync(path, { throwIfNoEntry: false });
    return stat ? `${stat.dev}:${stat.ino}` : undefined;
  };
  const openedAs = identity();

  return {
    db,
    // IMMEDIATE: the write lock is taken before the rollups are read, so another process's writer cannot interleave.
    // The writer core runs one request at a time; on a shared connection the reader's queries wait (see `reader`).
    transaction: async (write) => {
      const run = async () => {
        sqlite.exec('begin immediate');
        try {
          await write(rows);
          sqlite.exec('commit');
        } catch (error) {
          if (sqlite.inTransaction) sqlite.exec('rollback');
          throw error;
        }
      };
      await (reader ? reader.connection().execute(run) : run());
    },
    // One transaction: a busy error part-way would otherwise leave some keys counted, and the retry count them again.
    addKeyUsage: async (uses) => addUsages(uses),
    // A write rolled back: a read-only file or folder fails here, at start-up, not at the first batch. Taking the
    // write lock alone is not enough: it succeeds on a read-only file in a folder its owner may write.
    probe: async () => {
      sqlite.exec('begin immediate');
      try {
        sqlite.exec('create table grpcforge_write_probe (x integer)');
      } finally {
        sqlite.exec('rollback');
      }
    },
    gone: () =>
      identity() === openedAs ? undefined : `the database file ${path} was deleted or replaced while the store was open`,
    close: async () => {
      if (ownsConnection) sqlite.close();
    },
  };
}
