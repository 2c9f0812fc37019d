import type { ColumnDataType } from 'kysely';

/** The SQL dialects of the log store. */
export type StoreDialect = 'sqlite' | 'postgres';

/** The column types that differ by dialect. */
export interface DialectColumnTypes {
  /** The request-log row id: an autoincrement integer (SQLite), `bigserial` (PostgreSQL). */
  readonly rowId: ColumnDataType;
  /** Durations in ms. */
  readonly double: ColumnDataType;
  /** Encoded latency sketches. */
  readonly bytes: ColumnDataType;
}

/**
 * The column types a migration uses that differ by dialect. SQLite's are the ones the migrations always wrote (its
 * stores stay as they were); PostgreSQL gets the closest exact type: `real` there would be a 4-byte float, and it has
 * no autoincrement integer key but `bigserial`, and `bytea` instead of `blob`.
 */
export function columnTypes(dialect: StoreDialect): DialectColumnTypes {
  return dialect === 'postgres'
    ? { rowId: 'bigserial', double: 'double precision', bytes: 'bytea' }
    : { rowId: 'integer', double: 'real', bytes: 'blob' };
}
