import type { Kysely, Migration } from 'kysely';
import type { CallRollupTable, LogStoreDatabase } from '../database.js';
import { summedRollupRow } from '../rollups.js';
import { HOUR_MS, MINUTE_MS } from '../../vocabulary/time.js';
import type { MigrationProgress } from './0003_rollups.js';

/** Stored rollups read per step of the backfill (bounded memory whatever the store's size). */
const BACKFILL_CHUNK = 5000;
/** Rollups written per INSERT: 14 values each, under SQLite's 32,766 bound parameters. */
const INSERT_CHUNK = 500;

/** The new resolutions and the stored one each is summed from. */
const BACKFILLS = [
  { bucketMs: 5 * MINUTE_MS, fromBucketMs: MINUTE_MS },
  { bucketMs: 6 * HOUR_MS, fromBucketMs: HOUR_MS },
] as const;

/**
 * Two more rollup resolutions (`ROLLUP_BUCKETS_MS`): 5 minutes (the 6-hour timeline's buckets) and 6 hours (a week
 * in ~30 rollups per key instead of ~170), so every dashboard window reads a few thousand rollup rows at most.
 * No schema change: `call_rollups` keys rows by `bucket_ms`. Backfilled from the stored minute and hour rollups (not
 * the raw rows: a 10M-row store has ~270k rollups), in primary-key order, a chunk at a time, in one transaction (a
 * crash leaves the store as 0007 left it, and the next open runs this again). Rollups of these resolutions already
 * there (a store 0003 backfilled in this version) are replaced.
 */
export function createMigration0008(onProgress: MigrationProgress = () => {}): Migration {
  return {
    async up(untyped: Kysely<unknown>) {
      const db = untyped as Kysely<LogStoreDatabase>;
      // kysely's Migrator runs a migration in a transaction on PostgreSQL, not on SQLite: one is opened here then.
      if (db.isTransaction) await backfillAll(db, onProgress);
      else await db.transaction().execute((transaction) => backfillAll(transaction, onProgress));
    },
    async down(untyped: Kysely<unknown>) {
      const db = untyped as Kysely<LogStoreDatabase>;
      await db
        .deleteFrom('call_rollups')
        .where(
          'bucket_ms',
          'in',
          BACKFILLS.map(({ bucketMs }) => bucketMs),
        )
        .execute();
    },
  };
}

/** Every resolution of {@link BACKFILLS}, rebuilt. */
async function backfillAll(db: Kysely<LogStoreDatabase>, onProgress: MigrationProgress): Promise<void> {
  for (const { bucketMs, fromBucketMs } of BACKFILLS) {
    // Migration 0003 sums its backfill with today's RollupAccumulator, so a store that ran it in this same open
    // already has these resolutions: rebuilt here from the minutes and hours, the same sums.
    await db.deleteFrom('call_rollups').where('bucket_ms', '=', bucketMs).execute();
    await backfill(db, bucketMs, fromBucketMs, onProgress);
  }
}

/**
 * Rollups of `bucketMs` summed from the stored ones of `fromBucketMs`, walked in primary-key order (bucket start,
 * then key): a coarse bucket is complete once the walk passes its end, so each is written once.
 */
async function backfill(
  db: Kysely<LogStoreDatabase>,
  bucketMs: number,
  fromBucketMs: number,
  onProgress: MigrationProgress,
): Promise<void> {
  let open = new Map<string, CallRollupTable[]>();
  let openStart: number | undefined;
  let written = 0;
  const flush = async () => {
    if (open.size === 0) return;
    const rows = [...open.values()].map((parts) => summedRollupRow(bucketMs, openStart ?? 0, parts));
    open = new Map();
    for (let at = 0; at < rows.length; at += INSERT_CHUNK) {
      await db
        .insertInto('call_rollups')
        .values(rows.slice(at, at + INSERT_CHUNK))
        .execute();
    }
    written += rows.length;
  };
  for await (const row of rollupsInKeyOrder(db, fromBucketMs)) {
    const start = row.bucket_start - (row.bucket_start % bucketMs);
    if (start !== openStart) await flush();
    openStart = start;
    const key = `${row.service}\u0000${row.method}\u0000${row.status_code}`;
    const parts = open.get(key);
    if (parts) parts.push(row);
    else open.set(key, [row]);
  }
  await flush();
  if (written > 0) onProgress(`backfilled ${written} rollups of ${bucketMs / MINUTE_MS} minutes`);
}

/** The stored rollups of `bucketMs` in primary-key order, read {@link BACKFILL_CHUNK} at a time (keyset on the key). */
async function* rollupsInKeyOrder(db: Kysely<LogStoreDatabase>, bucketMs: number): AsyncGenerator<CallRollupTable> {
  let after: CallRollupTable | undefined;
  do {
    const cursor = after;
    const chunk = await db
      .selectFrom('call_rollups')
      .selectAll()
      .where('bucket_ms', '=', bucketMs)
      .$if(cursor !== undefined, (query) =>
        query.where((eb) =>
          eb(
            eb.refTuple('bucket_start', 'service', 'method', 'status_code'),
            '>',
            eb.tuple(cursor?.bucket_start ?? 0, cursor?.service ?? '', cursor?.method ?? '', cursor?.status_code ?? 0),
          ),
        ),
      )
      .orderBy('bucket_start')
      .orderBy('service')
      .orderBy('method')
      .orderBy('status_code')
      .limit(BACKFILL_CHUNK)
      .execute();
    yield* chunk;
    after = chunk.length === BACKFILL_CHUNK ? chunk.at(-1) : undefined;
  } while (after);
}
