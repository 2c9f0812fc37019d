import { sql, type Kysely } from 'kysely';
import type { CallRollupTable, LogStoreDatabase } from './database.js';
import { N, NUMBER_STRIDE, S, STRING_STRIDE, type RowBatch } from './row-batch.js';
import { HOUR_MS, MINUTE_MS, RollupAccumulator, mergedRollupRow, type RollupDelta } from './rollups.js';
import { writerRuns, type RowsRequest, type WriterReply, type WriterRequest } from './writer-protocol.js';

/** Options of {@link createPostgresWriter}. */
export interface PostgresWriterOptions {
  /** How long a batch is retried through lost connections, deadlocks and serialization failures, in ms. @defaultValue 60000 */
  readonly maxLockWaitMs?: number;
  /** Rows deleted per retention step (one transaction each). @defaultValue 5000 */
  readonly pruneChunk?: number;
}

/**
 * SQLSTATEs (and socket errors) worth retrying: the server or the connection went away for a moment, a deadlock was
 * broken, a serialization failure, a lock not available. Anything else (a constraint, a permission) is final.
 */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') {
    return /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable/i.test(String(error));
  }
  return (
    code.startsWith('08') ||
    ['40001', '40P01', '53300', '55P03', '57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(
      code,
    )
  );
}

/**
 * A text value PostgreSQL accepts: it refuses U+0000 in `text` (SQLSTATE 22021), which would fail the whole run of
 * batches. A NUL, which only a hostile or broken caller sends (an error message, a JWT `sub`), becomes U+FFFD.
 */
const pgText = <T extends string | null>(value: T): T =>
  value?.includes('\u0000') ? (value.replaceAll('\u0000', '\uFFFD') as T) : value;

/** The request_logs columns of a run of batches, as arrays for one `INSERT … SELECT FROM unnest(…)`. */
function rowColumns(batches: readonly RowBatch[]) {
  const total = batches.reduce((sum, batch) => sum + batch.count, 0);
  const text = (offset: number) => {
    const values: (string | null)[] = new Array<string | null>(total);
    let at = 0;
    for (const { strings, count } of batches)
      for (let row = 0; row < count; row++) values[at++] = pgText(strings[row * STRING_STRIDE + offset] ?? null);
    return values;
  };
  const number = (offset: number) => {
    const values: number[] = new Array<number>(total);
    let at = 0;
    for (const { numbers, count } of batches)
      for (let row = 0; row < count; row++) values[at++] = numbers[row * NUMBER_STRIDE + offset] ?? 0;
    return values;
  };
  return {
    requestId: text(S.requestId),
    startedAt: number(N.startedAt),
    service: text(S.service),
    method: text(S.method),
    kind: text(S.kind),
    statusCode: number(N.statusCode),
    durationMs: number(N.durationMs),
    principal: text(S.principal),
    apiKeyId: text(S.apiKeyId),
    peer: text(S.peer),
    requestBytes: number(N.requestBytes),
    responseBytes: number(N.responseBytes),
    requestMessages: number(N.requestMessages),
    responseMessages: number(N.responseMessages),
    errorMessage: text(S.errorMessage),
    traceId: text(S.traceId),
  };
}

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

/** `unnest` of the five key columns of `deltas`, as `k(bucket_ms, bucket_start, service, method, status_code)`. */
function keyTable(deltas: readonly RollupDelta[]) {
  return sql`unnest(${deltas.map((d) => d.bucketMs)}::integer[], ${deltas.map((d) => d.bucketStart)}::bigint[],
    ${deltas.map((d) => d.service)}::text[], ${deltas.map((d) => d.method)}::text[],
    ${deltas.map((d) => d.statusCode)}::integer[]) as k(bucket_ms, bucket_start, service, method, status_code)`;
}

/**
 * The writer's side of a PostgreSQL store: each run of row batches is one transaction, its rows one
 * `INSERT … SELECT FROM unnest(…)` (16 array parameters, whatever the row count: far from the 65,535 bind-parameter
 * limit), its rollups merged under row locks so replicas writing the same minute add up instead of overwriting each
 * other: missing keys are inserted empty (`ON CONFLICT DO NOTHING`), every key is locked `FOR UPDATE` in key order,
 * read, merged (sums, min/max, DDSketch bins) and written back in one `INSERT … ON CONFLICT DO UPDATE`. API-key
 * usage, instance rows and retention as in the SQLite writer. Answers each request, in order.
 */
export function createPostgresWriter(
  db: Kysely<LogStoreDatabase>,
  options: PostgresWriterOptions = {},
): (requests: readonly WriterRequest[]) => Promise<WriterReply[]> {
  const maxLockWaitMs = options.maxLockWaitMs ?? 60_000;
  const pruneChunk = options.pruneChunk ?? 5000;

  const withRetry = async <T>(write: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    for (let wait = 10; ; wait = Math.min(wait * 2, 1000)) {
      try {
        return await write();
      } catch (error) {
        if (!isTransient(error) || Date.now() - start + wait > maxLockWaitMs) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  };

  const writeRows = (batches: readonly RowBatch[]) =>
    db.transaction().execute(async (trx) => {
      const c = rowColumns(batches);
      await sql`insert into request_logs (request_id, started_at, service, method, kind, status_code, duration_ms,
          principal, api_key_id, peer, request_bytes, response_bytes, request_messages, response_messages, error_message,
          trace_id)
        select * from unnest(${c.requestId}::text[], ${c.startedAt}::bigint[], ${c.service}::text[], ${c.method}::text[],
          ${c.kind}::text[], ${c.statusCode}::integer[], ${c.durationMs}::double precision[], ${c.principal}::text[],
          ${c.apiKeyId}::text[], ${c.peer}::text[], ${c.requestBytes}::integer[], ${c.responseBytes}::integer[],
          ${c.requestMessages}::integer[], ${c.responseMessages}::integer[], ${c.errorMessage}::text[],
          ${c.traceId}::text[])`.execute(trx);

      const rollups = new RollupAccumulator();
      for (const batch of batches) {
        const { numbers, strings, count } = batch;
        for (let row = 0; row < count; row++) {
          const n = row * NUMBER_STRIDE;
          rollups.add(
            numbers[n + N.startedAt] ?? 0,
            pgText(strings[row * STRING_STRIDE + S.service] ?? ''),
            pgText(strings[row * STRING_STRIDE + S.method] ?? ''),
            numbers[n + N.statusCode] ?? 0,
            numbers[n + N.durationMs] ?? 0,
            numbers[n + N.requestBytes] ?? 0,
            numbers[n + N.responseBytes] ?? 0,
            numbers[n + N.requestMessages] ?? 0,
            numbers[n + N.responseMessages] ?? 0,
          );
        }
      }
      const deltas = [...rollups.deltas()].sort(byKey);
      if (deltas.length === 0) return;
      await sql`insert into call_rollups (bucket_ms, bucket_start, service, method, status_code, calls, duration_sum_ms,
          duration_min_ms, duration_max_ms, request_bytes, response_bytes, request_messages, response_messages, latency_sketch)
        select k.bucket_ms, k.bucket_start, k.service, k.method, k.status_code, 0, 0, 0, 0, 0, 0, 0, 0, ''::bytea
        from ${keyTable(deltas)}
        on conflict do nothing`.execute(trx);
      const stored = await sql<CallRollupTable>`select r.* from call_rollups r
        join ${keyTable(deltas)} using (bucket_ms, bucket_start, service, method, status_code)
        order by r.bucket_ms, r.bucket_start, r.service, r.method, r.status_code
        for update of r`.execute(trx);
      const storedByKey = new Map(
        stored.rows.map((row) => [
          `${row.bucket_ms}\u0000${row.bucket_start}\u0000${row.service}\u0000${row.method}\u0000${row.status_code}`,
          row,
        ]),
      );
      const merged = deltas.map((delta) => {
        const row = storedByKey.get(
          `${delta.bucketMs}\u0000${delta.bucketStart}\u0000${delta.service}\u0000${delta.method}\u0000${delta.statusCode}`,
        );
        // A placeholder inserted just now (or by another writer that has not committed its counts yet) has no calls.
        return mergedRollupRow(delta, row && row.calls > 0 ? row : undefined);
      });
      const column = <K extends keyof CallRollupTable>(key: K) => merged.map((row) => row[key]);
      await sql`insert into call_rollups (bucket_ms, bucket_start, service, method, status_code, calls, duration_sum_ms,
          duration_min_ms, duration_max_ms, request_bytes, response_bytes, request_messages, response_messages, latency_sketch)
        select * from unnest(${column('bucket_ms')}::integer[], ${column('bucket_start')}::bigint[],
          ${column('service')}::text[], ${column('method')}::text[], ${column('status_code')}::integer[],
          ${column('calls')}::bigint[], ${column('duration_sum_ms')}::double precision[],
          ${column('duration_min_ms')}::double precision[], ${column('duration_max_ms')}::double precision[],
          ${column('request_bytes')}::bigint[], ${column('response_bytes')}::bigint[],
          ${column('request_messages')}::bigint[], ${column('response_messages')}::bigint[],
          ${merged.map((row) => Buffer.from(row.latency_sketch))}::bytea[])
        on conflict (bucket_ms, bucket_start, service, method, status_code) do update set
          calls = excluded.calls, duration_sum_ms = excluded.duration_sum_ms,
          duration_min_ms = excluded.duration_min_ms, duration_max_ms = excluded.duration_max_ms,
          request_bytes = excluded.request_bytes, response_bytes = excluded.response_bytes,
          request_messages = excluded.request_messages, response_messages = excluded.response_messages,
          latency_sketch = excluded.latency_sketch`.execute(trx);
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

  const writeRowRequests = async (requests: readonly RowsRequest[]): Promise<WriterReply[]> => {
    const batches = requests.map((request) => request.batch);
    let attempts = 0;
    try {
      // A retry first checks that the previous attempt did not commit: rows and rollups are never written twice.
      await withRetry(async () => {
        if (attempts++ > 0 && (await committed(batches))) return;
        await writeRows(batches);
      });
      return requests.map((request) => ({ type: 'done', seq: request.seq, rows: request.batch.count }));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return requests.map((request) => ({ type: 'failed', seq: request.seq, reason: 'writeError', message }));
    }
  };

  const prune = async (before: number): Promise<number> => {
    const rows = await sql`delete from request_logs where id in
      (select id from request_logs where started_at < ${before} order by started_at limit ${pruneChunk})`.execute(db);
    let changes = Number(rows.numAffectedRows ?? 0);
    for (const bucketMs of [MINUTE_MS, HOUR_MS]) {
      if (changes >= pruneChunk) break;
      const oldest = await db
        .selectFrom('call_rollups')
        .select((eb) => eb.fn.min<number | null>('bucket_start').as('start'))
        .where('bucket_ms', '=', bucketMs)
        .executeTakeFirst();
      const start = oldest?.start;
      if (start === null || start === undefined) continue;
      const cutoff = Math.min(before - bucketMs + 1, start + 86_400_000);
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
          await withRetry(() =>
            db.transaction().execute(async (trx) => {
              for (const [id, uses, lastUsedAt] of request.uses) {
                await trx
                  .updateTable('api_keys')
                  .set((eb) => ({
                    request_count: eb('request_count', '+', uses),
                    last_used_at: sql<number>`greatest(coalesce(last_used_at, 0), ${lastUsedAt})`,
                  }))
                  .where('id', '=', id)
                  .execute();
              }
            }),
          );
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
              })
              .where('id', '=', request.id)
              .execute(),
          );
          return { type: 'done', seq: request.seq };
        }
        case 'prune':
          return { type: 'done', seq: request.seq, deleted: await withRetry(() => prune(request.before)) };
        case 'probe': {
          // The role may connect and read but not write: say so at start-up, not at the first batch.
          const { rows } = await sql<{
            ok: boolean;
          }>`select has_table_privilege('request_logs', 'INSERT') and has_table_privilege('call_rollups', 'UPDATE') as ok`.execute(
            db,
          );
          if (rows[0]?.ok !== true) throw new Error('this database role may not insert into request_logs or update call_rollups');
          return { type: 'done', seq: request.seq };
        }
        case 'close':
          await db.destroy();
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

  return async (requests) => {
    const replies: WriterReply[] = [];
    for (const run of writerRuns(requests)) {
      if ('rows' in run) replies.push(...(await writeRowRequests(run.rows)));
      else replies.push(await handle(run.request));
    }
    return replies;
  };
}
