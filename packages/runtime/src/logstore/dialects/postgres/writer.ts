import { finished } from 'node:stream/promises';
import { Kysely, PostgresDialect, sql, type CompiledQuery, type RawBuilder } from 'kysely';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { from as copyFromType } from 'pg-copy-streams';
import type { CallRollupTable, LogStoreDatabase } from '../../database.js';
import type { LogStoreWriteConnection } from '../../dialect.js';
import type { RollupDelta } from '../../rollups.js';
import { COPY_REQUEST_LOGS, encodeRequestLogRows } from './copy-binary.js';

/** `unnest` of the five key columns of `deltas`, as `k(bucket_ms, bucket_start, service, method, status_code)`. */
function keyTable(deltas: readonly RollupDelta[]) {
  return sql`unnest(${deltas.map((d) => d.bucketMs)}::integer[], ${deltas.map((d) => d.bucketStart)}::bigint[],
    ${deltas.map((d) => d.service)}::text[], ${deltas.map((d) => d.method)}::text[],
    ${deltas.map((d) => d.statusCode)}::integer[]) as k(bucket_ms, bucket_start, service, method, status_code)`;
}

const keyOf = (bucketMs: number, bucketStart: number, service: string, method: string, statusCode: number) =>
  `${bucketMs}\u0000${bucketStart}\u0000${service}\u0000${method}\u0000${statusCode}`;

/** The `from` of pg-copy-streams, loaded with the writer (only a PostgreSQL store's writer thread needs it). */
type CopyFrom = typeof copyFromType;

/** Runs `query` (built with kysely's `sql`, compiled for PostgreSQL by `db`) on `client`: its rows. */
async function run<R>(client: PoolClient, db: Kysely<LogStoreDatabase>, query: RawBuilder<R>): Promise<R[]> {
  const compiled: CompiledQuery<R> = query.compile(db);
  return (await client.query<R & QueryResultRow>(compiled.sql, [...compiled.parameters])).rows;
}

/**
 * Sends the rows of `batches` with one `COPY request_logs (…) FROM STDIN (FORMAT binary)` on `client`: no escaping
 * or array parsing on either side. Once the server is in COPY mode, each encoded chunk goes to the socket as soon as
 * it is full, so the server inserts the first rows while the writer encodes the next. Resolves once every row is
 * handed to the stream, with the promise of the server's answer (awaited before the transaction's next statement, so
 * the writer core sums the run's rollups while the server still inserts). A server that fails the COPY midway (a
 * trigger, a timeout, a full disk) gets no further write: the answer rejects with its error.
 * @throws RangeError from the encoding (the COPY is then cancelled); the answer rejects with the server's error.
 */
async function sendRows(
  client: PoolClient,
  copyFrom: CopyFrom,
  batches: Parameters<typeof encodeRequestLogRows>[0],
): Promise<{ answer: Promise<void> }> {
  const stream = client.query(copyFrom(COPY_REQUEST_LOGS));
  const answer = finished(stream);
  const server = { answered: false }; // set from the answer's callbacks, read between writes
  const settled = answer.then(
    () => void (server.answered = true),
    () => void (server.answered = true), // awaited later by the transaction: not an unhandled rejection meanwhile
  );
  // The stream holds what is written until the server answers the COPY (CopyInResponse); the first write's callback
  // runs after that, so from then on every write goes out at once. (A COPY refused at once, say a missing privilege,
  // never calls it: `answer` rejects instead.)
  await Promise.race([new Promise<void>((resolve) => stream.write(Buffer.alloc(0), () => resolve())), settled]);
  try {
    // One chunk at a time, waiting for the socket to drain: after a server error pg-copy-streams lets go of its
    // connection, and a chunk still queued in the stream would then be written to nothing, throwing in a socket event.
    for (const chunk of encodeRequestLogRows(batches)) {
      if (server.answered) break;
      if (!stream.write(chunk)) await Promise.race([new Promise((resolve) => stream.once('drain', resolve)), settled]);
    }
  } catch (error) {
    if (!server.answered) stream.destroy(error instanceof Error ? error : new Error(String(error))); // CopyFail: the server drops the COPY
    await settled;
    throw error;
  }
  if (!server.answered) stream.end();
  return { answer };
}

/**
 * The writer's connection to a PostgreSQL store (the writer thread's pool of 2, kysely over it): each run of row
 * batches is one transaction on one pooled client, its rows one binary `COPY … FROM STDIN` (pg-copy-streams), its
 * rollups merged under row locks so replicas writing the same minute add up instead of overwriting each other:
 * missing keys are inserted empty (`ON CONFLICT DO NOTHING`), every key is locked `FOR UPDATE` in key order and read;
 * the merged rows go back in one `INSERT … ON CONFLICT DO UPDATE`. A failed transaction is rolled back (a client
 * whose rollback fails too, its connection lost, is dropped from the pool), and the writer core retries the run.
 */
export async function createPostgresWriteConnection(pool: Pool): Promise<LogStoreWriteConnection> {
  const { from: copyFrom } = await import('pg-copy-streams');
  const db = new Kysely<LogStoreDatabase>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    transaction: async (write) => {
      const client = await pool.connect();
      let lost: Error | undefined;
      /** The COPY's answer, while the server may still be inserting: awaited before anything else is sent. */
      let copying: Promise<void> | undefined;
      const copied = async () => {
        const answer = copying;
        copying = undefined;
        await answer;
      };
      try {
        await client.query('begin');
        await write({
          insertRows: async (batches) => {
            await copied();
            copying = (await sendRows(client, copyFrom, batches)).answer;
          },
          readRollups: async (deltas) => {
            await copied();
            await run(
              client,
              db,
              sql`insert into call_rollups (bucket_ms, bucket_start, service, method, status_code, calls,
                duration_sum_ms, duration_min_ms, duration_max_ms, request_bytes, response_bytes, request_messages,
                response_messages, latency_sketch)
              select k.bucket_ms, k.bucket_start, k.service, k.method, k.status_code, 0, 0, 0, 0, 0, 0, 0, 0, ''::bytea
              from ${keyTable(deltas)}
              on conflict do nothing`,
            );
            const stored = await run(
              client,
              db,
              sql<CallRollupTable>`select r.* from call_rollups r
              join ${keyTable(deltas)} using (bucket_ms, bucket_start, service, method, status_code)
              order by r.bucket_ms, r.bucket_start, r.service, r.method, r.status_code
              for update of r`,
            );
            const byKey = new Map(
              stored.map((row) => [keyOf(row.bucket_ms, row.bucket_start, row.service, row.method, row.status_code), row]),
            );
            return deltas.map((d) => byKey.get(keyOf(d.bucketMs, d.bucketStart, d.service, d.method, d.statusCode)));
          },
          writeRollups: async (merged) => {
            await copied();
            const column = <K extends keyof CallRollupTable>(key: K) => merged.map((row) => row[key]);
            await run(
              client,
              db,
              sql`insert into call_rollups (bucket_ms, bucket_start, service, method, status_code, calls,
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
                latency_sketch = excluded.latency_sketch`,
            );
          },
        });
        await copied();
        await client.query('commit');
      } catch (error) {
        await copying?.catch(() => undefined);
        lost = await client.query('rollback').then(
          () => undefined,
          (rollbackError: unknown) => (rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))),
        );
        throw error;
      } finally {
        client.release(lost);
      }
    },
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
