import { sql, type Kysely } from 'kysely';
import type { CallRollupTable, LogStoreDatabase } from '../../database.js';
import type { LogStoreWriteConnection } from '../../dialect.js';
import { N, NUMBER_STRIDE, S, STRING_STRIDE, type RowBatch } from '../../row-batch.js';
import type { RollupDelta } from '../../rollups.js';

/** The request_logs columns of a run of batches, as arrays for one `INSERT … SELECT FROM unnest(…)`. */
function rowColumns(batches: readonly RowBatch[]) {
  const total = batches.reduce((sum, batch) => sum + batch.count, 0);
  const text = (offset: number) => {
    const values: (string | null)[] = new Array<string | null>(total);
    let at = 0;
    for (const { strings, count } of batches)
      for (let row = 0; row < count; row++) values[at++] = strings[row * STRING_STRIDE + offset] ?? null;
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
    rawPath: text(S.rawPath),
    errorReason: text(S.errorReason),
    violationField: text(S.violationField),
  };
}

/** `unnest` of the five key columns of `deltas`, as `k(bucket_ms, bucket_start, service, method, status_code)`. */
function keyTable(deltas: readonly RollupDelta[]) {
  return sql`unnest(${deltas.map((d) => d.bucketMs)}::integer[], ${deltas.map((d) => d.bucketStart)}::bigint[],
    ${deltas.map((d) => d.service)}::text[], ${deltas.map((d) => d.method)}::text[],
    ${deltas.map((d) => d.statusCode)}::integer[]) as k(bucket_ms, bucket_start, service, method, status_code)`;
}

const keyOf = (bucketMs: number, bucketStart: number, service: string, method: string, statusCode: number) =>
  `${bucketMs}\u0000${bucketStart}\u0000${service}\u0000${method}\u0000${statusCode}`;

/**
 * The writer's connection to a PostgreSQL store (kysely over the writer thread's pool of 2): each run of row batches
 * is one transaction, its rows one `INSERT … SELECT FROM unnest(…)` (19 array parameters, whatever the row count: far
 * from the 65,535 bind-parameter limit), its rollups merged under row locks so replicas writing the same minute add
 * up instead of overwriting each other: missing keys are inserted empty (`ON CONFLICT DO NOTHING`), every key is
 * locked `FOR UPDATE` in key order and read; the merged rows go back in one `INSERT … ON CONFLICT DO UPDATE`.
 */
export function createPostgresWriteConnection(db: Kysely<LogStoreDatabase>): LogStoreWriteConnection {
  return {
    db,
    transaction: (write) =>
      db.transaction().execute((trx) =>
        write({
          insertRows: async (batches) => {
            const c = rowColumns(batches);
            await sql`insert into request_logs (request_id, started_at, service, method, kind, status_code, duration_ms,
                principal, api_key_id, peer, request_bytes, response_bytes, request_messages, response_messages,
                error_message, trace_id, raw_path, error_reason, violation_field)
              select * from unnest(${c.requestId}::text[], ${c.startedAt}::bigint[], ${c.service}::text[],
                ${c.method}::text[], ${c.kind}::text[], ${c.statusCode}::integer[], ${c.durationMs}::double precision[],
                ${c.principal}::text[], ${c.apiKeyId}::text[], ${c.peer}::text[], ${c.requestBytes}::integer[],
                ${c.responseBytes}::integer[], ${c.requestMessages}::integer[], ${c.responseMessages}::integer[],
                ${c.errorMessage}::text[], ${c.traceId}::text[], ${c.rawPath}::text[],
                ${c.errorReason}::text[], ${c.violationField}::text[])`.execute(trx);
          },
          readRollups: async (deltas) => {
            await sql`insert into call_rollups (bucket_ms, bucket_start, service, method, status_code, calls,
                duration_sum_ms, duration_min_ms, duration_max_ms, request_bytes, response_bytes, request_messages,
                response_messages, latency_sketch)
              select k.bucket_ms, k.bucket_start, k.service, k.method, k.status_code, 0, 0, 0, 0, 0, 0, 0, 0, ''::bytea
              from ${keyTable(deltas)}
              on conflict do nothing`.execute(trx);
            const stored = await sql<CallRollupTable>`select r.* from call_rollups r
              join ${keyTable(deltas)} using (bucket_ms, bucket_start, service, method, status_code)
              order by r.bucket_ms, r.bucket_start, r.service, r.method, r.status_code
              for update of r`.execute(trx);
            const byKey = new Map(
              stored.rows.map((row) => [keyOf(row.bucket_ms, row.bucket_start, row.service, row.method, row.status_code), row]),
            );
            return deltas.map((d) => byKey.get(keyOf(d.bucketMs, d.bucketStart, d.service, d.method, d.statusCode)));
          },
          writeRollups: async (merged) => {
            const column = <K extends keyof CallRollupTable>(key: K) => merged.map((row) => row[key]);
            await sql`insert into call_rollups (bucket_ms, bucket_start, service, method, status_code, calls,
                duration_sum_ms, duration_min_ms, duration_max_ms, request_bytes, response_bytes, request_messages,
                response_messages, latency_sketch)
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
          },
        }),
      ),
    addKeyUsage: (uses) =>
      db.transaction().execute(async (trx) => {
        for (const [id, count, lastUsedAt] of uses) {
          await trx
            .updateTable('api_keys')
            .set((eb) => ({
              request_count: eb('request_count', '+', count),
              last_used_at: sql<number>`greatest(coalesce(last_used_at, 0), ${lastUsedAt})`,
            }))
            .where('id', '=', id)
            .execute();
        }
      }),
    // The role may connect and read but not write: say so at start-up, not at the first batch.
    probe: async () => {
      const { rows } = await sql<{ ok: boolean }>`select has_table_privilege('request_logs', 'INSERT')
        and has_table_privilege('call_rollups', 'UPDATE') as ok`.execute(db);
      if (rows[0]?.ok !== true) throw new Error('this database role may not insert into request_logs or update call_rollups');
    },
    close: () => db.destroy(),
  };
}
