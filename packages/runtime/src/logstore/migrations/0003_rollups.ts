import { sql, type Kysely, type Migration } from 'kysely';
import type { LogStoreDatabase } from '../database.js';
import { RollupAccumulator, mergedRollupRow } from '../rollups.js';
import { HOUR_MS } from '../../vocabulary/time.js';
import type { DialectColumnTypes } from './column-types.js';

/** The row counters an instance's heartbeat stores. */
const INSTANCE_COUNTER_COLUMNS = [
  'calls_recorded',
  'rows_written',
  'dropped_queue_full',
  'dropped_write_error',
  'dropped_store_gone',
];

/** Rows of the previous version read per step of the backfill (bounded memory on stores of millions of rows). */
const BACKFILL_CHUNK = 20_000;

/**
 * Statistics move from raw rows to rollups: `call_rollups` (per minute and hour × service × method × status code,
 * with a latency sketch), backfilled from the rows already stored; `request_logs` keeps only the time index
 * drill-down uses (a request id is found through its time), so a row costs one index append instead of four B-tree
 * inserts; server instances report their row counters.
 */
export function createMigration0003(types: DialectColumnTypes, onProgress: MigrationProgress = () => {}): Migration {
  return {
    async up(untyped: Kysely<unknown>) {
      // One transaction: a crash during the backfill leaves the store as the previous version wrote it, and the next
      // open runs this again. kysely's Migrator runs each migration in one on PostgreSQL, not on SQLite (whose DDL is
      // transactional too): open it here when it did not.
      const typed = untyped as Kysely<LogStoreDatabase>;
      const inTransaction = (work: (db: Kysely<LogStoreDatabase>) => Promise<void>) =>
        typed.isTransaction ? work(typed) : typed.transaction().execute(work);
      await inTransaction(async (db) => {
        await db.schema
          .createTable('call_rollups')
          .addColumn('bucket_ms', 'integer', (column) => column.notNull())
          .addColumn('bucket_start', 'bigint', (column) => column.notNull())
          .addColumn('service', 'text', (column) => column.notNull())
          .addColumn('method', 'text', (column) => column.notNull())
          .addColumn('status_code', 'integer', (column) => column.notNull())
          .addColumn('calls', 'bigint', (column) => column.notNull())
          .addColumn('duration_sum_ms', types.double, (column) => column.notNull())
          .addColumn('duration_min_ms', types.double, (column) => column.notNull())
          .addColumn('duration_max_ms', types.double, (column) => column.notNull())
          .addColumn('request_bytes', 'bigint', (column) => column.notNull())
          .addColumn('response_bytes', 'bigint', (column) => column.notNull())
          .addColumn('request_messages', 'bigint', (column) => column.notNull())
          .addColumn('response_messages', 'bigint', (column) => column.notNull())
          .addColumn('latency_sketch', types.bytes, (column) => column.notNull())
          .addPrimaryKeyConstraint('call_rollups_pk', ['bucket_ms', 'bucket_start', 'service', 'method', 'status_code'])
          // Clustered on the key where the engine can: a rollup is found and rewritten in place, without a second B-tree.
          .$call((table) => (types.clusteredRollups ? table.modifyEnd(sql`without rowid`) : table))
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

        for (const column of INSTANCE_COUNTER_COLUMNS) {
          await db.schema
            .alterTable('server_instances')
            .addColumn(column, 'bigint', (definition) => definition.notNull().defaultTo(0))
            .execute();
        }

        await backfillRollups(db, onProgress);
      });
    },
    async down(untyped: Kysely<unknown>) {
      const db = untyped as Kysely<LogStoreDatabase>;
      await db.schema.dropTable('call_rollups').execute();
      await db.schema.dropIndex('request_logs_started_at').execute();
      for (const column of INSTANCE_COUNTER_COLUMNS) {
        await db.schema.alterTable('server_instances').dropColumn(column).execute();
      }
    },
  };
}

/** Reports a long migration step: what it does and how far it got (for example `backfilling rollups: 20000 of 3000000 rows`). */
export type MigrationProgress = (message: string) => void;

/**
 * Rollups of the rows a previous version stored, in time order (keyset over the new time index): an hour's rollups
 * are complete once the scan passes it, so each is written once, without reading it back.
 */
async function backfillRollups(db: Kysely<LogStoreDatabase>, onProgress: MigrationProgress): Promise<void> {
  const { total } = await db
    .selectFrom('request_logs')
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .executeTakeFirstOrThrow();
  if (total === 0) return;
  onProgress(`backfilling rollups from ${total} stored calls`);
  let rollups = new RollupAccumulator();
  let hour: number | undefined;
  const flush = async () => {
    if (rollups.size === 0) return;
    const deltas = [...rollups.deltas()];
    rollups = new RollupAccumulator();
    for (const delta of deltas) await db.insertInto('call_rollups').values(mergedRollupRow(delta, undefined)).execute();
  };
  let done = 0;
  let reported = 0;
  let after: { startedAt: number; id: number } | undefined;
  for (;;) {
    const cursor = after;
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
      .$if(cursor !== undefined, (query) =>
        query.where((eb) =>
          eb.or([
            eb('started_at', '>', cursor?.startedAt ?? 0),
            eb.and([eb('started_at', '=', cursor?.startedAt ?? 0), eb('id', '>', cursor?.id ?? 0)]),
          ]),
        ),
      )
      .orderBy('started_at')
      .orderBy('id')
      .limit(BACKFILL_CHUNK)
      .execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      const rowHour = row.started_at - (row.started_at % HOUR_MS);
      if (hour !== undefined && rowHour !== hour) await flush();
      hour = rowHour;
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
    const last = rows[rows.length - 1];
    if (last) after = { startedAt: last.started_at, id: last.id };
    done += rows.length;
    if (done - reported >= 500_000) {
      reported = done;
      onProgress(`backfilling rollups: ${done} of ${total} calls`);
    }
  }
  await flush();
}
