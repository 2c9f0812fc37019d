import type { Pool, PoolConfig, types as PgTypes } from 'pg';
import { importOptional } from '../../../optional-packages.js';

/** Connection settings of a PostgreSQL store (documented in the README's log store section). */
export interface PostgresSettings {
  /** `postgres://USER@HOST:PORT/DATABASE?…`; whatever it leaves out comes from libpq's variables (PGPASSWORD, PGHOST, …). */
  readonly connectionString: string;
  /** Connections of this pool (the reader's; the writer thread has its own 2). @defaultValue 4 */
  readonly poolSize?: number;
  /** A statement running longer is cancelled by the server (`statement_timeout`), in ms. @defaultValue 30000 */
  readonly statementTimeoutMs?: number;
  /** Giving up on connecting, in ms. @defaultValue 10000 */
  readonly connectTimeoutMs?: number;
}

/** PostgreSQL type OIDs read as JS numbers: int8 (times in ms, counts, row ids) and numeric sums. */
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** pg's parser lookup, as the pool calls it. */
type ParserLookup = (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;

/** pg's type parsers, with int8 and numeric read as numbers. */
function numbersAsNumbers(builtin: unknown): typeof PgTypes.getTypeParser {
  const fallback = builtin as ParserLookup;
  const lookup: ParserLookup = (oid, format = 'text') =>
    oid === INT8_OID || oid === NUMERIC_OID ? Number : fallback(oid, format);
  return lookup as typeof PgTypes.getTypeParser;
}

/**
 * A pg pool for the store. int8 columns come back as numbers, not strings: every int8 the store keeps (ms since the
 * epoch, counts, bytes, row ids) is far below 2^53. The pool is made per store, never by mutating pg's global types.
 */
export async function openPostgresPool(settings: PostgresSettings, role: 'reader' | 'writer'): Promise<Pool> {
  const pg = await importOptional(['postgres'], () => import('pg'));
  const { Pool: PoolClass, types } = pg.default;
  const config: PoolConfig = {
    connectionString: settings.connectionString,
    max: role === 'writer' ? 2 : (settings.poolSize ?? 4),
    statement_timeout: settings.statementTimeoutMs ?? 30_000,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 10_000,
    application_name: `grpcforge-${role}`,
    types: { getTypeParser: numbersAsNumbers(types.getTypeParser) },
  };
  const pool = new PoolClass(config);
  // A client that loses its connection emits 'error': when idle through the pool (below), when checked out on the
  // client itself. Unheard, either would crash the thread; the query in flight rejects anyway and is retried.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
