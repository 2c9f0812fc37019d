import { sql, type Kysely, type Migration } from 'kysely';
import type { LogStoreDatabase } from '../database.js';
import { RollupAccumulator, mergedRollupRow } from '../rollups.js';

/** Rows of the previous version read per step of the backfill (bounded memory on stores of millions of rows). */
const BACKFILL_CHUNK = 20_000;

/**
 * Statistics move from raw rows to rollups: `call_rollups` (per minute and hour × service × method × status code,
 * with a latency sketch), backfilled from the rows already stored; `request_logs` keeps only the time index
 * drill-down uses (a request id is found through its time), so a row costs one index append instead of four B-tree
 * inserts; server instances report their row counters.
 */
export const migration0003: Migration = {
  async up(untyped: Kysely<unknown>) {
    const db = untyped as Kysely<LogStoreDatabase>;
    await db.schema
      .createTable('call_rollups')
      .addColumn('bucket_ms', 'integer', (column) => column.notNull())
      .addColumn('bucket_start', 'bigint', (column) => column.notNull())
      .addColumn('service', 'text', (column) => column.notNull())
      .addColumn('method', 'text', (column) => column.notNull())
      .addColumn('status_code', 'integer', (column) => column.notNull())
      .addColumn('calls', 'bigint', (column) => column.notNull())
      .addColumn('duration_sum_ms', 'real', (column) => column.notNull())
      .addColumn('duration_min_ms', 'real', (column) => column.notNull())
      .addColumn('duration_max_ms', 'real', (column) => column.notNull())
      .addColumn('request_bytes', 'bigint', (column) => column.notNull())
      .addColumn('response_bytes', 'bigint', (column) => column.notNull())
      .addColumn('request_messages', 'bigint', (column) => column.notNull())
      .addColumn('response_messages', 'bigint', (column) => column.notNull())
      .addColumn('latency_sketch', 'blob', (column) => column.notNull())
      .addPrimaryKeyConstraint('call_rollups_pk', ['bucket_ms', 'bucket_start', 'service', 'method', 'status_code'])
      // Clustered on the key: a rollup is found and rewritten in place, without a second B-tree (SQLite only).
      .modifyEnd(sql`without rowid`)
      .execute();

    for (const index of [
      'request_logs_time_cover',
      'request_logs_duration',
      'request_logs_method_cover',
      'request_logs_status',
    ]) {
      await db.schema.dropIndex(index).ifExists().execute();
    }
    // The one index drill-down needs: request ids (UUIDv7) carry their call's start time, so a lookup by id walks it too.
    await db.schema.createIndex('request_logs_started_at').on('request_logs').column('started_at').execute();

    for (const column of ['calls_recorded', 'rows_written', 'dropped_queue_full', 'dropped_write_error', 'dropped_store_gone']) {
      await db.schema
        .alterTable('server_instances')
        .addColumn(column, 'bigint', (definition) => definition.notNull().defaultTo(0))
        .execute();
    }

    let after = 0;
    for (;;) {
      const rows = await db
        .selectFrom('request_logs')
        .select([
          'id',
          'started_at',
          'service',
          'method',
          'status_code',
          'duration_ms',
          'request_bytes',
          'response_bytes',
          'request_messages',
          'response_messages',
        ])
        .where('id', '>', after)
        .orderBy('id')
        .limit(BACKFILL_CHUNK)
        .execute();
      if (rows.length === 0) break;
      const rollups = new RollupAccumulator();
      for (const row of rows) {
        rollups.add(
          row.started_at,
          row.service,
          row.method,
          row.status_code,
          row.duration_ms,
          row.request_bytes,
          row.response_bytes,
          row.request_messages,
          row.response_messages,
        );
      }
      for (const delta of rollups.deltas()) {
        const stored = await db
          .selectFrom('call_rollups')
          .selectAll()
          .where('bucket_ms', '=', delta.bucketMs)
          .where('bucket_start', '=', delta.bucketStart)
          .where('service', '=', delta.service)
          .where('method', '=', delta.method)
          .where('status_code', '=', delta.statusCode)
          .executeTakeFirst();
        const row = mergedRollupRow(delta, stored);
        await db
          .insertInto('call_rollups')
          .values(row)
          .onConflict((conflict) =>
            conflict.columns(['bucket_ms', 'bucket_start', 'service', 'method', 'status_code']).doUpdateSet(row),
          )
          .execute();
      }
      after = rows.at(-1)?.id ?? after;
    }
  },
  async down(untyped: Kysely<unknown>) {
    const db = untyped as Kysely<LogStoreDatabase>;
    await db.schema.dropTable('call_rollups').execute();
    await db.schema.dropIndex('request_logs_started_at').execute();
    for (const column of ['calls_recorded', 'rows_written', 'dropped_queue_full', 'dropped_write_error', 'dropped_store_gone']) {
      await db.schema.alterTable('server_instances').dropColumn(column).execute();
    }
  },
};
