import type { ColumnDataType } from 'kysely';

/**
 * What the migrations write differently by engine, from its dialect (`LogStoreDialect.columnTypes`). SQLite's
 * are the ones the migrations always wrote (its stores stay as they were); PostgreSQL gets the closest exact type:
 * `real` there would be a 4-byte float, and it has no autoincrement integer key but `bigserial`, and `bytea` instead
 * of `blob`.
 */
export interface DialectColumnTypes {
  /** The request-log row id: an autoincrement integer (SQLite), `bigserial` (PostgreSQL). */
  readonly rowId: ColumnDataType;
  /** Durations in ms. */
  readonly double: ColumnDataType;
  /** Encoded latency sketches. */
  readonly bytes: ColumnDataType;
  /** Whether the row id is declared `autoincrement` (SQLite: ids never reused); a serial type needs none. */
  readonly autoIncrement: boolean;
  /**
   * Whether `call_rollups` is clustered on its primary key (SQLite's `without rowid`): a rollup is found and rewritten
   * in place, without a second B-tree.
   */
  readonly clusteredRollups: boolean;
}
