import { sql, type Kysely } from 'kysely';
import type { LogStoreDatabase, LogStoreWriteConnection, RowBatch } from '../../../packages/runtime/src/index.ts';
import { N, NUMBER_STRIDE, S, STRING_STRIDE } from '../../../packages/runtime/src/logstore/row-batch.ts';

/** Rows per INSERT: 16 bound values each, well under SQLite's 32,766 parameters. */
const ROWS_PER_STATEMENT = 1000;

/** The rows of a batch as kysely values, in batch order. */
function* rowsOf(batches: readonly RowBatch[]) {
  for (const { numbers, strings, count } of batches)
    for (let row = 0; row < count; row++) {
      const text = (offset: number) => strings[row * STRING_STRIDE + offset] ?? null;
      const number = (offset: number) => numbers[row * NUMBER_STRIDE + offset] ?? 0;
      yield {
        request_id: text(S.requestId) ?? '',
        started_at: number(N.startedAt),
        service: text(S.service) ?? '',
        method: text(S.method) ?? '',
        kind: text(S.kind) ?? '',
        status_code: number(N.statusCode),
        duration_ms: number(N.durationMs),
        principal: text(S.principal),
        api_key_id: text(S.apiKeyId),
        peer: text(S.peer),
        request_bytes: number(N.requestBytes),
        response_bytes: number(N.responseBytes),
        request_messages: number(N.requestMessages),
        response_messages: number(N.responseMessages),
        error_message: text(S.errorMessage),
        trace_id: text(S.traceId),
      };
    }
}

/**
 * The test engine's write connection: every statement through kysely's query builder and its own SQLite driver
 * (no prepared statements of ours), a run of rows in one `BEGIN IMMEDIATE` on kysely's single connection.
 */
export function createKyselySqliteWriteConnection(db: Kysely<LogStoreDatabase>): LogStoreWriteConnection {
  return {
    db,
    transaction: (write) =>
      db.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        try {
          await write({
            insertRows: async (batches) => {
              const rows = [...rowsOf(batches)];
              for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT)
                await connection
                  .insertInto('request_logs')
                  .values(rows.slice(at, at + ROWS_PER_STATEMENT))
                  .execute();
            },
            readRollups: (deltas) =>
              Promise.all(
                deltas.map((delta) =>
                  connection
                    .selectFrom('call_rollups')
                    .selectAll()
                    .where('bucket_ms', '=', delta.bucketMs)
                    .where('bucket_start', '=', delta.bucketStart)
                    .where('service', '=', delta.service)
                    .where('method', '=', delta.method)
                    .where('status_code', '=', delta.statusCode)
                    .executeTakeFirst(),
                ),
              ),
            writeRollups: async (rows) => {
              for (const row of rows) await connection.replaceInto('call_rollups').values(row).execute();
            },
          });
          await sql`commit`.execute(connection);
        } catch (error) {
          await sql`rollback`.execute(connection).catch(() => undefined);
          throw error;
        }
      }),
    addKeyUsage: async (uses) => {
      for (const [id, count, at] of uses)
        await sql`update api_keys set request_count = request_count + ${count},
          last_used_at = max(coalesce(last_used_at, 0), ${at}) where id = ${id}`.execute(db);
    },
    probe: () =>
      db.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        await sql`rollback`.execute(connection);
      }),
    close: () => db.destroy(),
  };
}
