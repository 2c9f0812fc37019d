import { statSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { Kysely, SqliteDialect, type Insertable } from 'kysely';
import type { CallRollupTable, LogStoreDatabase, RequestLogTable, ServerInstanceTable } from './database.js';
import { N, NUMBER_STRIDE, S, STRING_STRIDE, type RowBatch } from './row-batch.js';
import { HOUR_MS, MINUTE_MS, RollupAccumulator, mergedRollupRow } from './rollups.js';
import type { WriterReply, WriterRequest } from './writer-protocol.js';

/** Options of {@link createSqliteWriter}. */
export interface SqliteWriterOptions {
  /** The database file, watched for deletion or replacement; `:memory:` for none. */
  readonly path: string;
  /** How long a batch is retried while another connection holds the write lock, in ms. @defaultValue 60000 */
  readonly maxLockWaitMs?: number;
  /** Rows deleted per retention step (one transaction each). @defaultValue 5000 */
  readonly pruneChunk?: number;
}

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
};

const ROLLUP_KEY = ['bucket_ms', 'bucket_start', 'service', 'method', 'status_code'] as const;

/** Sleeps the calling thread (the writer thread: nothing else runs on it). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/**
 * The writer's side of the store over one better-sqlite3 connection: rows and their rollups in one transaction per
 * batch, API key usage, instance rows, retention in chunks. Synchronous by design: it runs in the writer thread
 * (or, for `:memory:`, on the caller's), where blocking on the disk stalls no request.
 */
export function createSqliteWriter(sqlite: Database, options: SqliteWriterOptions): (request: WriterRequest) => WriterReply {
  const db = new Kysely<LogStoreDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  const insertRow = sqlite.prepare(db.insertInto('request_logs').values(ROW).compile().sql);
  const keyWhere = db.selectFrom('call_rollups').selectAll();
  const selectRollup = sqlite.prepare<unknown[], CallRollupTable>(
    ROLLUP_KEY.reduce((query, column) => query.where(column, '=', 0), keyWhere).compile().sql,
  );
  const sampleRollup: CallRollupTable = {
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
  const rollupColumns = Object.keys(sampleRollup) as (keyof CallRollupTable)[];
  // INSERT OR REPLACE of the merged row: the SELECT before it runs in the same transaction.
  const upsertRollup = sqlite.prepare(db.replaceInto('call_rollups').values(sampleRollup).compile().sql);
  const addUsage = sqlite.prepare(
    'update api_keys set request_count = request_count + ?, last_used_at = max(coalesce(last_used_at, 0), ?) where id = ?',
  );
  const insertInstance = sqlite.prepare(
    db
      .insertInto('server_instances')
      .values({
        id: '',
        service: '',
        address: '',
        pid: 0,
        host: '',
        status: '',
        started_at: 0,
        last_heartbeat_at: 0,
        services: '',
      } satisfies Insertable<ServerInstanceTable>)
      .compile().sql,
  );
  const heartbeat = sqlite.prepare(
    'update server_instances set last_heartbeat_at = ?, status = coalesce(?, status), calls_recorded = coalesce(?, calls_recorded), ' +
      'rows_written = coalesce(?, rows_written), dropped_queue_full = coalesce(?, dropped_queue_full), ' +
      'dropped_write_error = coalesce(?, dropped_write_error), dropped_store_gone = coalesce(?, dropped_store_gone) where id = ?',
  );
  const pruneChunk = options.pruneChunk ?? 5000;
  const pruneRows = sqlite.prepare(
    `delete from request_logs where id in (select id from request_logs where started_at < ? order by started_at limit ${pruneChunk})`,
  );
  // Walks the primary key (bucket_ms, bucket_start, ...): a rollup goes once its whole bucket is older than the cutoff.
  const pruneRollups = sqlite.prepare(
    `delete from call_rollups where rowid in (select rowid from call_rollups where bucket_ms = ? and bucket_start <= ? - bucket_ms limit ${pruneChunk})`,
  );

  const writeRows = sqlite.transaction((batch: RowBatch) => {
    const { numbers, strings, count } = batch;
    const rollups = new RollupAccumulator();
    for (let index = 0; index < count; index++) {
      const n = index * NUMBER_STRIDE;
      const s = index * STRING_STRIDE;
      const startedAt = numbers[n + N.startedAt] ?? 0;
      const service = strings[s + S.service] ?? '';
      const method = strings[s + S.method] ?? '';
      const statusCode = numbers[n + N.statusCode] ?? 0;
      const durationMs = numbers[n + N.durationMs] ?? 0;
      const requestBytes = numbers[n + N.requestBytes] ?? 0;
      const responseBytes = numbers[n + N.responseBytes] ?? 0;
      const requestMessages = numbers[n + N.requestMessages] ?? 0;
      const responseMessages = numbers[n + N.responseMessages] ?? 0;
      // Positional, in the column order of ROW.
      insertRow.run(
        strings[s + S.requestId],
        startedAt,
        service,
        method,
        strings[s + S.kind],
        statusCode,
        durationMs,
        strings[s + S.principal],
        strings[s + S.apiKeyId],
        strings[s + S.peer],
        requestBytes,
        responseBytes,
        requestMessages,
        responseMessages,
        strings[s + S.errorMessage],
      );
      rollups.add(
        startedAt,
        service,
        method,
        statusCode,
        durationMs,
        requestBytes,
        responseBytes,
        requestMessages,
        responseMessages,
      );
    }
    for (const delta of rollups.deltas()) {
      const stored = selectRollup.get(delta.bucketMs, delta.bucketStart, delta.service, delta.method, delta.statusCode);
      const row = mergedRollupRow(delta, stored);
      upsertRollup.run(rollupColumns.map((column) => row[column]));
    }
  });

  const identity = (): string | undefined => {
    if (options.path === ':memory:') return 'memory';
    const stat = statSync(options.path, { throwIfNoEntry: false });
    return stat ? `${stat.dev}:${stat.ino}` : undefined;
  };
  const openedAs = identity();
  let gone: string | undefined;
  const maxLockWaitMs = options.maxLockWaitMs ?? 60_000;

  /** Runs a write, retrying while the lock is held elsewhere (SQLITE_BUSY), up to maxLockWaitMs. */
  const withRetry = <T>(write: () => T): T => {
    const start = Date.now();
    for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
      try {
        return write();
      } catch (error) {
        if (!isBusy(error) || Date.now() - start + wait > maxLockWaitMs) throw error;
        sleepSync(wait);
      }
    }
  };

  return (request) => {
    try {
      switch (request.type) {
        case 'rows': {
          if (!gone && identity() !== openedAs) {
            gone = `the database file ${options.path} was deleted or replaced while the store was open`;
          }
          if (gone) return { type: 'failed', seq: request.seq, reason: 'storeGone', message: gone };
          withRetry(() => writeRows(request.batch));
          return { type: 'done', seq: request.seq, rows: request.batch.count };
        }
        case 'keyUsage':
          withRetry(() => {
            for (const [id, uses, lastUsedAt] of request.uses) addUsage.run(uses, lastUsedAt, id);
          });
          return { type: 'done', seq: request.seq };
        case 'registerInstance': {
          const instance = request.instance;
          withRetry(() =>
            insertInstance.run(
              instance.id,
              instance.service,
              instance.address,
              instance.pid,
              instance.host,
              instance.status,
              instance.started_at,
              instance.last_heartbeat_at,
              instance.services,
            ),
          );
          return { type: 'done', seq: request.seq };
        }
        case 'heartbeat': {
          const counters = request.counters;
          withRetry(() =>
            heartbeat.run(
              request.now,
              request.status ?? null,
              counters?.recorded ?? null,
              counters?.written ?? null,
              counters?.droppedQueueFull ?? null,
              counters?.droppedWriteError ?? null,
              counters?.droppedStoreGone ?? null,
              request.id,
            ),
          );
          return { type: 'done', seq: request.seq };
        }
        case 'prune': {
          const deleted = withRetry(() => {
            let changes = pruneRows.run(request.before).changes;
            for (const bucketMs of [MINUTE_MS, HOUR_MS]) {
              if (changes < pruneChunk) changes += pruneRollups.run(bucketMs, request.before).changes;
            }
            return changes;
          });
          return { type: 'done', seq: request.seq, deleted };
        }
        case 'probe':
          // Takes the write lock and lets it go: a read-only file or folder fails here, at start-up, not at the first batch.
          withRetry(() => sqlite.exec('begin immediate; commit'));
          return { type: 'done', seq: request.seq };
        case 'close':
          sqlite.close();
          return { type: 'done', seq: request.seq };
      }
    } catch (error) {
      return {
        type: 'failed',
        seq: request.seq,
        reason: 'writeError',
        message: error instanceof Error ? error.message : String(error),
      };
    }
  };
}
