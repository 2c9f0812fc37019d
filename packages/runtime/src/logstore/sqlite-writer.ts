import { statSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { Kysely, SqliteDialect, type Insertable } from 'kysely';
import type { CallRollupTable, LogStoreDatabase, RequestLogTable, ServerInstanceTable } from './database.js';
import { N, NUMBER_STRIDE, S, STRING_STRIDE, type RowBatch } from './row-batch.js';
import { HOUR_MS, MINUTE_MS, RollupAccumulator, mergedRollupRow } from './rollups.js';
import { writerRuns, type RowsRequest, type WriterReply, type WriterRequest } from './writer-protocol.js';

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
  trace_id: null,
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
 * batch (or per run of batches that queued up meanwhile), API key usage, instance rows, retention in chunks. Answers
 * each request, in order. Synchronous by design: it runs in the writer thread
 * (or, for `:memory:`, on the caller's), where blocking on the disk stalls no request.
 */
export function createSqliteWriter(
  sqlite: Database,
  options: SqliteWriterOptions,
): (requests: readonly WriterRequest[]) => WriterReply[] {
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
  // The merged row replaces the stored one in place (the SELECT before it runs in the same transaction).
  const upsertRollup = sqlite.prepare(
    db
      .insertInto('call_rollups')
      .values(sampleRollup)
      .onConflict((conflict) =>
        conflict.columns([...ROLLUP_KEY]).doUpdateSet((eb) => ({
          calls: eb.ref('excluded.calls'),
          duration_sum_ms: eb.ref('excluded.duration_sum_ms'),
          duration_min_ms: eb.ref('excluded.duration_min_ms'),
          duration_max_ms: eb.ref('excluded.duration_max_ms'),
          request_bytes: eb.ref('excluded.request_bytes'),
          response_bytes: eb.ref('excluded.response_bytes'),
          request_messages: eb.ref('excluded.request_messages'),
          response_messages: eb.ref('excluded.response_messages'),
          latency_sketch: eb.ref('excluded.latency_sketch'),
        })),
      )
      .compile().sql,
  );
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
  // A rollup goes once its whole bucket is older than the cutoff; a step covers at most a day of buckets, walking the
  // primary key (bucket_ms, bucket_start, ...), so a first prune of a long history is many short transactions.
  const oldestRollup = sqlite.prepare<[number], { start: number | null }>(
    'select min(bucket_start) as start from call_rollups where bucket_ms = ?',
  );
  const pruneRollups = sqlite.prepare('delete from call_rollups where bucket_ms = ? and bucket_start < ?');

  /** Rows of several batches in one transaction: their rollups are rewritten once, however many batches came. */
  const writeRows = sqlite.transaction((batches: readonly RowBatch[]) => {
    const rollups = new RollupAccumulator();
    for (const batch of batches) insertBatch(batch, rollups);
    for (const delta of rollups.deltas()) {
      const stored = selectRollup.get(delta.bucketMs, delta.bucketStart, delta.service, delta.method, delta.statusCode);
      const row = mergedRollupRow(delta, stored);
      upsertRollup.run(rollupColumns.map((column) => row[column]));
    }
  });
  const insertBatch = (batch: RowBatch, rollups: RollupAccumulator) => {
    const { numbers, strings, count } = batch;
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
        strings[s + S.traceId],
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
  };

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

  /** Consecutive row batches, committed together (up to MAX_COALESCED_ROWS). */
  const writeRowRequests = (requests: readonly RowsRequest[]): WriterReply[] => {
    if (!gone && identity() !== openedAs) {
      gone = `the database file ${options.path} was deleted or replaced while the store was open`;
    }
    try {
      if (gone) throw new StoreGone(gone);
      // IMMEDIATE: the write lock is taken before the rollups are read, so another process's writer cannot interleave.
      withRetry(() => writeRows.immediate(requests.map((request) => request.batch)));
      return requests.map((request) => ({ type: 'done', seq: request.seq, rows: request.batch.count }));
    } catch (error) {
      const reason = error instanceof StoreGone ? 'storeGone' : 'writeError';
      const message = error instanceof Error ? error.message : String(error);
      return requests.map((request) => ({ type: 'failed', seq: request.seq, reason, message }));
    }
  };

  const handle = (request: Exclude<WriterRequest, RowsRequest>): WriterReply => {
    try {
      switch (request.type) {
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
              counters?.droppedBy.queueFull ?? null,
              counters?.droppedBy.writeError ?? null,
              counters?.droppedBy.storeGone ?? null,
              request.id,
            ),
          );
          return { type: 'done', seq: request.seq };
        }
        case 'prune': {
          const deleted = withRetry(() => {
            let changes = pruneRows.run(request.before).changes;
            for (const bucketMs of [MINUTE_MS, HOUR_MS]) {
              const oldest = oldestRollup.get(bucketMs)?.start;
              if (changes >= pruneChunk || oldest === null || oldest === undefined) continue;
              const cutoff = Math.min(request.before - bucketMs + 1, oldest + 86_400_000);
              changes += pruneRollups.run(bucketMs, cutoff).changes;
            }
            return changes;
          });
          return { type: 'done', seq: request.seq, deleted };
        }
        case 'probe':
          // A write rolled back: a read-only file or folder fails here, at start-up, not at the first batch. Taking
          // the write lock alone is not enough: it succeeds on a read-only file in a folder its owner may write.
          withRetry(() => {
            sqlite.exec('begin immediate');
            try {
              sqlite.exec('create table grpcforge_write_probe (x integer)');
            } finally {
              sqlite.exec('rollback');
            }
          });
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

  return (requests) => {
    const replies: WriterReply[] = [];
    for (const run of writerRuns(requests)) {
      if ('rows' in run) replies.push(...writeRowRequests(run.rows));
      else replies.push(handle(run.request));
    }
    return replies;
  };
}

class StoreGone extends Error {}
