import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { LogStoreDatabase, RequestLogTable } from './database.js';

/** Which calls a query covers. Times in ms since the epoch. */
export interface LogFilter {
  readonly since?: number;
  readonly until?: number;
  readonly service?: string;
  readonly method?: string;
  /** gRPC status code number. */
  readonly statusCode?: number;
}

/** Totals and latency over the calls of a filter; durations in ms. */
export interface LogStats {
  readonly total: number;
  readonly ok: number;
  /** `ok / total`, 0..1; 1 when there are no calls. */
  readonly successRate: number;
  readonly avgMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

/** Totals of one method. */
export interface MethodStats {
  readonly service: string;
  readonly method: string;
  readonly total: number;
  readonly errors: number;
  readonly avgMs: number;
  readonly maxMs: number;
}

/** Calls in one time bucket. */
export interface TimelineBucket {
  /** Start of the bucket, ms since the epoch. */
  readonly start: number;
  readonly total: number;
  readonly errors: number;
}

/** A stored call. */
export type RequestLog = Selectable<RequestLogTable>;

/** The filter as one WHERE condition (kysely's `and` of the set fields; `true` when none is set). */
function matches(filter: LogFilter) {
  return (eb: ExpressionBuilder<LogStoreDatabase, 'request_logs'>) => {
    const conditions: Expression<SqlBool>[] = [];
    if (filter.since !== undefined) conditions.push(eb('started_at', '>=', filter.since));
    if (filter.until !== undefined) conditions.push(eb('started_at', '<', filter.until));
    if (filter.service !== undefined) conditions.push(eb('service', '=', filter.service));
    if (filter.method !== undefined) conditions.push(eb('method', '=', filter.method));
    if (filter.statusCode !== undefined) conditions.push(eb('status_code', '=', filter.statusCode));
    return eb.and(conditions);
  };
}

/**
 * What a driver returns for a computed number (COUNT, SUM, AVG, arithmetic): a number from SQLite, a string for
 * PostgreSQL's bigint and numeric; hence the `Number(...)` around each. SUM and AVG over no rows are null.
 */
type SqlNumber = number | string | bigint;

/**
 * Total, success rate, average and exact p50/p95/p99 (nearest-rank over the sorted durations), computed in SQL.
 */
export async function queryStats(db: Kysely<LogStoreDatabase>, filter: LogFilter = {}): Promise<LogStats> {
  const totals = await db
    .selectFrom('request_logs')
    .where(matches(filter))
    .select((eb) => [
      eb.fn.countAll<SqlNumber>().as('total'),
      eb.fn.sum<SqlNumber | null>(sql`case when status_code = 0 then 1 else 0 end`).as('ok'),
      eb.fn.avg<number | string | null>('duration_ms').as('avg'),
    ])
    .executeTakeFirstOrThrow();
  const total = Number(totals.total);
  if (total === 0) return { total: 0, ok: 0, successRate: 1, avgMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0 };
  // Nearest rank: the value at position ceil(p * n) of the sorted durations (1-based). The duration index is walked
  // from the nearer end, so p99 skips 1% of the rows instead of 99%.
  const percentile = async (p: number) => {
    const rank = Math.max(1, Math.ceil(p * total));
    const fromTop = rank > total / 2;
    const row = await db
      .selectFrom('request_logs')
      .where(matches(filter))
      .select('duration_ms')
      .orderBy('duration_ms', fromTop ? 'desc' : 'asc')
      .limit(1)
      .offset(fromTop ? total - rank : rank - 1)
      .executeTakeFirst();
    return row?.duration_ms ?? 0;
  };
  const [p50, p95, p99] = [await percentile(0.5), await percentile(0.95), await percentile(0.99)];
  const ok = Number(totals.ok ?? 0);
  return { total, ok, successRate: ok / total, avgMs: Number(totals.avg ?? 0), p50Ms: p50, p95Ms: p95, p99Ms: p99 };
}

/** Totals per service and method, busiest first. */
export async function queryMethodStats(db: Kysely<LogStoreDatabase>, filter: LogFilter = {}): Promise<MethodStats[]> {
  const rows = await db
    .selectFrom('request_logs')
    .where(matches(filter))
    .select((eb) => [
      'service',
      'method',
      eb.fn.countAll<SqlNumber>().as('total'),
      eb.fn.sum<SqlNumber>(sql`case when status_code = 0 then 0 else 1 end`).as('errors'),
      eb.fn.avg('duration_ms').as('avg'),
      eb.fn.max('duration_ms').as('max'),
    ])
    .groupBy(['service', 'method'])
    .orderBy('total', 'desc')
    .orderBy('service')
    .orderBy('method')
    .execute();
  return rows.map((row) => ({
    service: row.service,
    method: row.method,
    total: Number(row.total),
    errors: Number(row.errors),
    avgMs: Number(row.avg),
    maxMs: row.max,
  }));
}

/** Calls per time bucket of `bucketMs`, oldest first (only buckets with calls). */
export async function queryTimeline(
  db: Kysely<LogStoreDatabase>,
  bucketMs: number,
  filter: LogFilter = {},
): Promise<TimelineBucket[]> {
  if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new Error(`bucketMs must be a positive integer, got ${bucketMs}`);
  // The bucket size is a literal (a checked integer), and GROUP BY names the select column: with bound parameters
  // SQLite cannot see that the two expressions are the same and sorts the whole window.
  const size = sql.lit(bucketMs);
  const rows = await db
    .selectFrom('request_logs')
    .where(matches(filter))
    .select((eb) => [
      sql<SqlNumber>`(started_at / ${size}) * ${size}`.as('start'),
      eb.fn.countAll<SqlNumber>().as('total'),
      eb.fn.sum<SqlNumber>(sql`case when status_code = 0 then 0 else 1 end`).as('errors'),
    ])
    .groupBy(sql`1`)
    .orderBy('start')
    .execute();
  return rows.map((row) => ({ start: Number(row.start), total: Number(row.total), errors: Number(row.errors) }));
}

/** The newest calls first, optionally only failed ones. */
export async function queryLogs(
  db: Kysely<LogStoreDatabase>,
  filter: LogFilter & { readonly errorsOnly?: boolean; readonly limit?: number } = {},
): Promise<RequestLog[]> {
  let query = db.selectFrom('request_logs').where(matches(filter)).selectAll();
  if (filter.errorsOnly) query = query.where('status_code', '!=', 0);
  return query
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 50)
    .execute();
}

/** Deletes calls that started before `before` (retention). @returns how many rows were deleted. */
export async function deleteLogsBefore(db: Kysely<LogStoreDatabase>, before: number): Promise<number> {
  const result = await db.deleteFrom('request_logs').where('started_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
