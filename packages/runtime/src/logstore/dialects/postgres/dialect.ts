import { inspect } from 'node:util';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { LogStoreDatabase } from '../../database.js';
import type { LogStoreDialect } from '../../dialect.js';
import { redactConnectionString } from '../../redact-connection-string.js';
import { openPostgresPool } from './connection.js';
import { createPostgresWriteConnection } from './writer.js';

/** SQLSTATEs worth retrying: a deadlock broken, a serialization failure, too many connections, a lock not available, the server shutting down. */
const TRANSIENT_CODES = new Set(['40001', '40P01', '53300', '55P03', '57P01', '57P02', '57P03']);
/** Socket errors worth retrying: the server or the connection went away for a moment. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * PostgreSQL through pg: `postgres://USER@HOST:PORT/DATABASE` or `postgresql://…`; what the URL leaves out (the
 * password, for one) comes from libpq's variables (PGPASSWORD, …). The database must exist. A write lost with its
 * connection may have committed (the writer core checks before it retries); text refuses U+0000.
 */
export const postgresDialect: LogStoreDialect = {
  name: 'postgres',
  schemes: ['postgres', 'postgresql'],
  module: { url: import.meta.url, exportName: 'postgresDialect' },
  columnTypes: { rowId: 'bigserial', double: 'double precision', bytes: 'bytea', autoIncrement: false, clusteredRollups: false },
  capabilities: { commitMayBeLost: true, acceptsNulInText: false },
  optionalFeature: 'postgres',
  maxRetryPauseMs: 1000,
  locationOf: (url) => url,
  openReader: async (connectionString, options) => {
    const label = redactConnectionString(connectionString);
    const explain = (error: unknown) => {
      const reason = error instanceof Error ? error.message : inspect(error);
      return new Error(
        `the log store ${label} cannot be used (${reason}): check that the server is up, that the database exists and ` +
          'that the role may connect and write (a password comes from PGPASSWORD, or ~/.pgpass)',
        { cause: error },
      );
    };
    const pool = await openPostgresPool({ ...options.postgres, connectionString }, 'reader');
    const db = new Kysely<LogStoreDatabase>({ dialect: new PostgresDialect({ pool }) });
    try {
      await sql`select 1`.execute(db);
    } catch (error) {
      await db.destroy();
      throw explain(error);
    }
    return { db, label, explain };
  },
  openWriter: async (connectionString, options) => {
    const pool = await openPostgresPool({ ...options.postgres, connectionString }, 'writer');
    return createPostgresWriteConnection(pool);
  },
  isTransient: (error) => {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string') {
      return /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable/i.test(
        String(error),
      );
    }
    return code.startsWith('08') || TRANSIENT_CODES.has(code) || SOCKET_CODES.has(code);
  },
  redactUrl: redactConnectionString,
};
