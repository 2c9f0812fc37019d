import { sql, type Kysely } from 'kysely';
import { requestLogRowsOf, type LogStoreDatabase, type LogStoreWriteConnection } from '../../../packages/runtime/src/index.ts';

/** Rows per INSERT: 19 bound values each, well under SQLite's 32,766 parameters. */
const ROWS_PER_STATEMENT = 1000;

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
              const rows = [...requestLogRowsOf(batches)];
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
