import type { LogStoreDialect, LogStoreWriteConnection } from './dialect.js';
import { N, S, STRING_STRIDE, NUMBER_STRIDE, type RowBatch } from './row-batch.js';
import { ROLLUP_BUCKETS_MS, RollupAccumulator, mergedRollupRow, type RollupDelta } from './rollups.js';
import { DAY_MS, MINUTE_MS } from '../vocabulary/time.js';
import { defenceColumns } from './instances.js';
import { writerRuns, type RowsRequest, type WriterReply, type WriterRequest } from './writer-protocol.js';

/** Options of {@link createWriterCore}. */
export interface WriterCoreOptions {
  /** How long a write is retried through transient errors (a lock held elsewhere, a lost connection), in ms. @defaultValue 60000 */
  readonly maxLockWaitMs?: number;
  /** Rows deleted per retention step (one transaction each). @defaultValue 5000 */
  readonly pruneChunk?: number;
}

/** Answers requests in order; one call handles whatever queued up meanwhile. */
export type WriterHandler = (requests: readonly WriterRequest[]) => Promise<WriterReply[]>;

/** The store is gone: its rows are dropped as `storeGone`, not `writeError`. */
class StoreGone extends Error {}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Compares rollup keys in the primary key's order: every writer locks rows in this order, so none deadlock. */
function byKey(a: RollupDelta, b: RollupDelta): number {
  return (
    a.bucketMs - b.bucketMs ||
    a.bucketStart - b.bucketStart ||
    (a.service < b.service ? -1 : a.service > b.service ? 1 : 0) ||
    (a.method < b.method ? -1 : a.method > b.method ? 1 : 0) ||
    a.statusCode - b.statusCode
  );
}

/**
 * Replaces U+0000 in every text of the batches by U+FFFD, in place, for an engine that refuses it in `text`
 * (PostgreSQL, SQLSTATE 22021: the whole run would fail). Only a hostile or broken caller sends one.
 */
function replaceNuls(batches: readonly RowBatch[]): void {
  for (const { strings } of batches)
    for (let index = 0; index < strings.length; index++) {
      const value = strings[index];
      if (value?.includes('\u0000')) strings[index] = value.replaceAll('\u0000', '\uFFFD');
    }
}

/** The rollup deltas of a run of batches, in primary-key order. */
function rollupDeltas(batches: readonly RowBatch[]): RollupDelta[] {
  const rollups = new RollupAccumulator();
  for (const { numbers, strings, count } of batches)
    for (let row = 0; row < count; row++) {
      const n = row * NUMBER_STRIDE;
      const s = row * STRING_STRIDE;
      rollups.add(
        numbers[n + N.startedAt] ?? 0,
        strings[s + S.service] ?? '',
        strings[s + S.method] ?? '',
        numbers[n + N.statusCode] ?? 0,
        numbers[n + N.durationMs] ?? 0,
        numbers[n + N.requestBytes] ?? 0,
        numbers[n + N.responseBytes] ?? 0,
        numbers[n + N.requestMessages] ?? 0,
        numbers[n + N.responseMessages] ?? 0,
      );
    }
  return [...rollups.deltas()].sort(byKey);
}

/**
 * The writer's side of a store, whatever its engine: each run of row batches is one transaction (rows, then their
 * rollups read under the engine's lock, merged, written back, so replicas writing the same minute add up), API key
 * usage, instance rows, retention in chunks; transient errors are retried with a doubling pause up to
 * `maxLockWaitMs`. Answers each request, in order. `connection` does only what differs by engine.
 */
export function createWriterCore(
  dialect: LogStoreDialect,
  connection: LogStoreWriteConnection,
  options: WriterCoreOptions = {},
): WriterHandler {
  const { db } = connection;
  const maxLockWaitMs = options.maxLockWaitMs ?? MINUTE_MS;
  const pruneChunk = options.pruneChunk ?? 5000;

  const withRetry = async <T>(write: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    for (let wait = 10; ; wait = Math.min(wait * 2, dialect.maxRetryPauseMs)) {
      try {
        return await write();
      } catch (error) {
        if (!dialect.isTransient(error) || Date.now() - start + wait > maxLockWaitMs) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  };

  const writeRows = (batches: readonly RowBatch[], deltasOf: () => readonly RollupDelta[]) =>
    connection.transaction(async (rows) => {
      await rows.insertRows(batches);
      // Summed after the rows are handed over: an engine that streams them (PostgreSQL's COPY) inserts meanwhile.
      const deltas = deltasOf();
      if (deltas.length === 0) return;
      const stored = await rows.readRollups(deltas);
      await rows.writeRollups(
        deltas.map((delta, index) => {
          const row = stored[index];
          return mergedRollupRow(delta, row && row.calls > 0 ? row : undefined);
        }),
      );
    });

  /**
   * Whether a run's transaction committed although its answer was lost (the connection dropped during COMMIT): its
   * rows are all there or none is, so its first row tells. Found through the time index (`started_at`).
   */
  const committed = async (batches: readonly RowBatch[]): Promise<boolean> => {
    const first = batches.find((batch) => batch.count > 0);
    const requestId = first?.strings[S.requestId];
    if (!first || !requestId) return false;
    const row = await db
      .selectFrom('request_logs')
      .select('id')
      .where('started_at', '=', first.numbers[N.startedAt] ?? 0)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return row !== undefined;
  };

  let gone: string | undefined;
  /** Consecutive row batches, committed together (up to MAX_COALESCED_ROWS). */
  const writeRowRequests = async (requests: readonly RowsRequest[]): Promise<WriterReply[]> => {
    const batches = requests.map((request) => request.batch);
    gone ??= connection.gone?.();
    try {
      if (gone) throw new StoreGone(gone);
      if (!dialect.capabilities.acceptsNulInText) replaceNuls(batches);
      let deltas: readonly RollupDelta[] | undefined; // summed once, kept for a retry
      let attempts = 0;
      await withRetry(async () => {
        // Where a commit's answer can be lost, a retry first checks the previous attempt did not commit.
        if (attempts++ > 0 && dialect.capabilities.commitMayBeLost && (await committed(batches))) return;
        await writeRows(batches, () => (deltas ??= rollupDeltas(batches)));
      });
      return requests.map((request) => ({ type: 'done', seq: request.seq, rows: request.batch.count }));
    } catch (error) {
      const reason = error instanceof StoreGone ? 'storeGone' : 'writeError';
      return requests.map((request) => ({ type: 'failed', seq: request.seq, reason, message: messageOf(error) }));
    }
  };

  /** One retention step: a chunk of rows, then (if the chunk was not full) at most a day of each resolution's rollups. */
  const prune = async (before: number): Promise<number> => {
    const rows = await db
      .deleteFrom('request_logs')
      .where('id', 'in', (eb) =>
        eb.selectFrom('request_logs').select('id').where('started_at', '<', before).orderBy('started_at').limit(pruneChunk),
      )
      .executeTakeFirst();
    let changes = Number(rows.numDeletedRows);
    // A rollup goes once its whole bucket is older than the cutoff; a step covers at most a day of buckets, walking
    // the primary key (bucket_ms, bucket_start, ...), so a first prune of a long history is many short transactions.
    for (const bucketMs of ROLLUP_BUCKETS_MS) {
      if (changes >= pruneChunk) break;
      const oldest = await db
        .selectFrom('call_rollups')
        .select((eb) => eb.fn.min<number | null>('bucket_start').as('start'))
        .where('bucket_ms', '=', bucketMs)
        .executeTakeFirst();
      const start = oldest?.start;
      if (start === null || start === undefined) continue;
      const cutoff = Math.min(before - bucketMs + 1, start + DAY_MS);
      const deleted = await db
        .deleteFrom('call_rollups')
        .where('bucket_ms', '=', bucketMs)
        .where('bucket_start', '<', cutoff)
        .executeTakeFirst();
      changes += Number(deleted.numDeletedRows);
    }
    return changes;
  };

  const handle = async (request: Exclude<WriterRequest, RowsRequest>): Promise<WriterReply> => {
    try {
      switch (request.type) {
        case 'keyUsage':
          await withRetry(() => connection.addKeyUsage(request.uses));
          return { type: 'done', seq: request.seq };
        case 'registerInstance':
          // A retry after a commit whose answer was lost finds its own row: nothing to do then.
          await withRetry(() =>
            db
              .insertInto('server_instances')
              .values(request.instance)
              .onConflict((conflict) => conflict.column('id').doNothing())
              .execute(),
          );
          return { type: 'done', seq: request.seq };
        case 'heartbeat': {
          const counters = request.counters;
          await withRetry(() =>
            db
              .updateTable('server_instances')
              .set({
                last_heartbeat_at: request.now,
                ...(request.status !== undefined ? { status: request.status } : {}),
                ...(counters
                  ? {
                      calls_recorded: counters.recorded,
                      rows_written: counters.written,
                      dropped_queue_full: counters.droppedBy.queueFull,
                      dropped_write_error: counters.droppedBy.writeError,
                      dropped_store_gone: counters.droppedBy.storeGone,
                    }
                  : {}),
                ...(request.defences ? defenceColumns(request.defences) : {}),
              })
              .where('id', '=', request.id)
              .execute(),
          );
          return { type: 'done', seq: request.seq };
        }
        case 'prune':
          return { type: 'done', seq: request.seq, deleted: await withRetry(() => prune(request.before)) };
        case 'probe':
          await withRetry(() => connection.probe());
          return { type: 'done', seq: request.seq };
        case 'close':
          await connection.close();
          return { type: 'done', seq: request.seq };
      }
    } catch (error) {
      return { type: 'failed', seq: request.seq, reason: 'writeError', message: messageOf(error) };
    }
  };

  return async (requests) => {
    const replies: WriterReply[] = [];
    for (const run of writerRuns(requests)) {
      if ('rows' in run) replies.push(...(await writeRowRequests(run.rows)));
      else replies.push(await handle(run.request));
    }
    return replies;
  };
}

/**
 * Feeds requests to `handle` one run at a time: what arrives meanwhile waits and goes in the next run (consecutive
 * row batches then share one transaction). Each reply goes to `post`; after `close` was answered, `closed` runs and
 * nothing more is handled. `schedule` starts a run (the writer thread: at once; on the caller's thread: after the
 * current turn, so `record` never waits on the disk).
 * @returns the function that queues requests.
 */
export function startWriterLoop(
  handle: WriterHandler,
  post: (reply: WriterReply) => void,
  closed: () => void,
  schedule: (run: () => void) => void = (run) => run(),
): (requests: readonly WriterRequest[]) => void {
  const queue: WriterRequest[] = [];
  let running = false;
  let ended = false;
  const run = async () => {
    try {
      while (queue.length > 0 && !ended) {
        const requests = queue.splice(0);
        for (const reply of await handle(requests)) post(reply);
        if (requests.some((request) => request.type === 'close')) {
          ended = true;
          closed();
        }
      }
    } finally {
      running = false;
    }
  };
  return (requests) => {
    queue.push(...requests);
    if (running || ended) return;
    running = true;
    schedule(() => void run());
  };
}
