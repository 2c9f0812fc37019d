import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { CallRollupTable, LogStoreDatabase } from './database.js';
import { SketchMerger, decodeSketch, sketchQuantile, type DecodedSketch } from './latency-sketch.js';
import { ROLLUP_BUCKETS_MS } from './rollups.js';
import { HOUR_MS, MINUTE_MS } from '../vocabulary/time.js';

/**
 * Which calls a statistic covers. Times in ms since the epoch; rollups are per minute, so `since` counts from the
 * start of its minute and `until` (exclusive, default: now and later) is rounded up to a whole minute.
 */
export interface StatsWindow {
  readonly since: number;
  readonly until?: number;
  /** Fully-qualified service, for example `auth.v1.AuthService`. */
  readonly service?: string;
  /** Method name, for example `Login` (with or without `service`). */
  readonly method?: string;
}

/** Calls of one status code. */
export interface StatusCount {
  /** gRPC status code number (0 = OK). */
  readonly statusCode: number;
  readonly calls: number;
}

/**
 * Totals and latency of the calls of a window. Durations in ms, sizes in bytes. Percentiles come from the rollups'
 * DDSketches: within 1% (relative) of the exact value at the same rank, clamped to the exact min and max; with
 * `exact: true` they were computed from the raw rows (nearest rank).
 */
export interface CallStats {
  readonly calls: number;
  readonly ok: number;
  readonly errors: number;
  /** `ok / calls`, 0..1; 1 when there are no calls. */
  readonly successRate: number;
  readonly avgMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** Calls per status code, by code. */
  readonly byStatus: readonly StatusCount[];
  /** True when percentiles are exact (`exactStats`), false when read from sketches. */
  readonly exact: boolean;
}

/** {@link CallStats} of one method. */
export interface MethodCallStats extends CallStats {
  readonly service: string;
  readonly method: string;
}

/** {@link CallStats} of one timeline bucket. */
export interface TimelineBucket extends CallStats {
  /** Start of the bucket, ms since the epoch (a multiple of the bucket size). */
  readonly start: number;
}

/** {@link CallStats} of one service. */
export interface ServiceCallStats extends CallStats {
  readonly service: string;
}

/** A window's totals, per service, per method and per named group of services, from one read of the rollups. */
export interface StatsBreakdown {
  readonly totals: CallStats;
  /** Per service, by name. */
  readonly services: readonly ServiceCallStats[];
  /** Per method, busiest first (as {@link LogStatistics.methods}). */
  readonly methods: readonly MethodCallStats[];
  /** Per group asked for, by group name (a group without calls has zero totals). */
  readonly groups: Readonly<Record<string, CallStats>>;
}

/** How many failed calls of one method ended with one status and one error reason. */
export interface ErrorReasonCount {
  readonly service: string;
  readonly method: string;
  /** gRPC status code number (never 0: only errors are counted). */
  readonly statusCode: number;
  /** The reason of the errors' `errorInfo` detail (`USER_NOT_FOUND`); null for errors that carried none. */
  readonly reason: string | null;
  readonly calls: number;
}

/** {@link StatsWindow} of {@link LogStatistics.errorsByReason}, and how many groups to return. */
export interface ErrorsByReasonWindow extends StatsWindow {
  /** At most this many groups, the largest. @defaultValue 100 */
  readonly limit?: number;
}

/** The statistics of the log store, read from rollups: they cost the same at 10M rows as at 10k. */
export interface LogStatistics {
  /** Totals over the window. */
  summary(window: StatsWindow): Promise<CallStats>;
  /**
   * Totals, per service, per method, and per group (`groups`: a name → the fully-qualified services it adds up, for
   * example the proto services one deployable serves), reading the window's rollups once.
   */
  breakdown(window: StatsWindow, groups?: Readonly<Record<string, readonly string[]>>): Promise<StatsBreakdown>;
  /** Totals per service and method, busiest first. */
  methods(window: StatsWindow): Promise<MethodCallStats[]>;
  /**
   * Totals per bucket of `bucketMs` (a whole number of minutes), oldest first, only buckets with calls. Buckets are
   * aligned to their size; with a bucket of whole hours the first one may include calls from before `since`.
   * @throws RangeError when `bucketMs` is not a positive multiple of 60000.
   */
  timeline(window: StatsWindow, bucketMs: number): Promise<TimelineBucket[]>;
  /** Like `summary`, with exact percentiles from the raw rows (reads every row of the window: slower). */
  exactSummary(window: StatsWindow): Promise<CallStats>;
  /**
   * Failed calls (status other than OK) per service, method, status code and error reason, the largest group first
   * (ties by service, method, code, then reason, nulls last). Read from the raw rows of the window, not rollups: the cost grows with
   * the window's errors, which a partial index on failed rows only covers (migration 0007), not with its calls.
   * The window is widened to whole minutes as the rollups read it, so the counts add up to `summary`'s errors.
   */
  errorsByReason(window: ErrorsByReasonWindow): Promise<ErrorReasonCount[]>;
}

/** Accumulates rollup rows into one {@link CallStats}. */
class StatsAccumulator {
  calls = 0;
  sumMs = 0;
  minMs = Number.POSITIVE_INFINITY;
  maxMs = 0;
  requestBytes = 0;
  responseBytes = 0;
  readonly byStatus = new Map<number, number>();
  readonly sketch = new SketchMerger();

  /** Adds a rollup row; `sketch` is its sketch decoded, when the caller adds one row to several accumulators. */
  add(row: RollupRow, sketch: DecodedSketch = decodeSketch(row.latency_sketch)): void {
    const calls = row.calls;
    this.calls += calls;
    this.sumMs += row.duration_sum_ms;
    this.minMs = Math.min(this.minMs, row.duration_min_ms);
    this.maxMs = Math.max(this.maxMs, row.duration_max_ms);
    this.requestBytes += row.request_bytes;
    this.responseBytes += row.response_bytes;
    this.byStatus.set(row.status_code, (this.byStatus.get(row.status_code) ?? 0) + calls);
    this.sketch.addDecoded(sketch);
  }

  result(): CallStats {
    const min = this.calls === 0 ? 0 : this.minMs;
    const sketch = this.sketch.sketch();
    const quantile = (q: number) => sketchQuantile(sketch, q, min, this.maxMs);
    return statsOf(this.calls, this.byStatus, this.sumMs, min, this.maxMs, this.requestBytes, this.responseBytes, {
      p50Ms: quantile(0.5),
      p95Ms: quantile(0.95),
      p99Ms: quantile(0.99),
      exact: false,
    });
  }
}

function statsOf(
  calls: number,
  byStatus: ReadonlyMap<number, number>,
  sumMs: number,
  minMs: number,
  maxMs: number,
  requestBytes: number,
  responseBytes: number,
  percentiles: { p50Ms: number; p95Ms: number; p99Ms: number; exact: boolean },
): CallStats {
  const ok = byStatus.get(0) ?? 0;
  return {
    calls,
    ok,
    errors: calls - ok,
    successRate: calls === 0 ? 1 : ok / calls,
    avgMs: calls === 0 ? 0 : sumMs / calls,
    minMs,
    maxMs,
    ...percentiles,
    requestBytes,
    responseBytes,
    byStatus: [...byStatus.entries()].sort(([a], [b]) => a - b).map(([statusCode, count]) => ({ statusCode, calls: count })),
  };
}

/** The columns of a rollup that statistics read. */
type RollupRow = Omit<CallRollupTable, 'bucket_ms' | 'request_messages' | 'response_messages'>;

interface Cover {
  readonly bucketMs: number;
  readonly from: number;
  /** Exclusive; undefined for open-ended. */
  readonly to: number | undefined;
}

/**
 * The rollup ranges that cover a window, coarsest first: the whole buckets of the coarsest resolution of
 * {@link ROLLUP_BUCKETS_MS} that fit, then finer ones before (and, when `until` is set, after) them, down to minutes.
 * Open-ended (`until` undefined), the last buckets may still be filling: all their calls are in the window. A 7-day
 * window reads ~30 rollup rows per key instead of ~170 (hours), a 24-hour window ~35 instead of 1,440 (minutes).
 * Times in ms since the epoch; `since` counts from the start of its minute, `until` is rounded up to a whole minute.
 * @param resolutions the bucket sizes to use, finest first (each a multiple of the one before): all by default.
 */
export function coverOf(since: number, until: number | undefined, resolutions: readonly number[] = ROLLUP_BUCKETS_MS): Cover[] {
  const start = Math.floor(since / MINUTE_MS) * MINUTE_MS;
  const end = until === undefined ? undefined : Math.ceil(until / MINUTE_MS) * MINUTE_MS;
  return coverRange(start, end, resolutions);
}

/** {@link coverOf} of `[start, end)`, both multiples of the finest of `resolutions`. */
function coverRange(start: number, end: number | undefined, resolutions: readonly number[]): Cover[] {
  const bucketMs = resolutions.at(-1) ?? MINUTE_MS;
  const finer = resolutions.slice(0, -1);
  if (finer.length === 0) return end !== undefined && start >= end ? [] : [{ bucketMs, from: start, to: end }];
  const wholeFrom = Math.ceil(start / bucketMs) * bucketMs;
  const wholeTo = end === undefined ? undefined : Math.floor(end / bucketMs) * bucketMs;
  if (wholeTo !== undefined && wholeFrom >= wholeTo) return coverRange(start, end, finer);
  return [
    { bucketMs, from: wholeFrom, to: wholeTo },
    ...coverRange(start, wholeFrom, finer),
    ...(wholeTo !== undefined && end !== undefined ? coverRange(wholeTo, end, finer) : []),
  ];
}

/** The statistics API over a kysely connection (SQLite now; the queries are dialect-neutral). */
export function createLogStatistics(db: Kysely<LogStoreDatabase>): LogStatistics {
  const rollups = (window: StatsWindow, covers: readonly Cover[]) =>
    db
      .selectFrom('call_rollups')
      .select([
        'bucket_start',
        'service',
        'method',
        'status_code',
        'calls',
        'duration_sum_ms',
        'duration_min_ms',
        'duration_max_ms',
        'request_bytes',
        'response_bytes',
        'latency_sketch',
      ])
      .where((eb) =>
        eb.or(
          covers.map((cover) => {
            const conditions: Expression<SqlBool>[] = [
              eb('bucket_ms', '=', cover.bucketMs),
              eb('bucket_start', '>=', cover.from),
            ];
            if (cover.to !== undefined) conditions.push(eb('bucket_start', '<', cover.to));
            return eb.and(conditions);
          }),
        ),
      )
      .where(keyFilter(window))
      .execute() as Promise<RollupRow[]>;

  const statistics: LogStatistics = {
    async summary(window) {
      const total = new StatsAccumulator();
      for (const row of await rollups(window, coverOf(window.since, window.until))) total.add(row);
      return total.result();
    },
    async breakdown(window, groups = {}) {
      const total = new StatsAccumulator();
      const byService = new Map<string, StatsAccumulator>();
      const byMethod = new Map<string, { service: string; method: string; stats: StatsAccumulator }>();
      const byGroup = Object.entries(groups).map(([name, services]) => ({
        name,
        services: new Set(services),
        stats: new StatsAccumulator(),
      }));
      for (const row of await rollups(window, coverOf(window.since, window.until))) {
        // Decoded once, added to up to four accumulators.
        const sketch = decodeSketch(row.latency_sketch);
        total.add(row, sketch);
        accumulatorOf(byService, row.service).add(row, sketch);
        const key = `${row.service}/${row.method}`;
        let entry = byMethod.get(key);
        if (!entry) {
          entry = { service: row.service, method: row.method, stats: new StatsAccumulator() };
          byMethod.set(key, entry);
        }
        entry.stats.add(row, sketch);
        for (const group of byGroup) if (group.services.has(row.service)) group.stats.add(row, sketch);
      }
      return {
        totals: total.result(),
        services: [...byService.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([service, stats]) => ({ service, ...stats.result() })),
        methods: [...byMethod.values()]
          .map(({ service, method, stats }) => ({ service, method, ...stats.result() }))
          .sort((a, b) => b.calls - a.calls || a.service.localeCompare(b.service) || a.method.localeCompare(b.method)),
        groups: Object.fromEntries(byGroup.map(({ name, stats }) => [name, stats.result()])),
      };
    },
    async methods(window) {
      return [...(await statistics.breakdown(window)).methods];
    },
    async timeline(window, bucketMs) {
      if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0 || bucketMs % MINUTE_MS !== 0) {
        throw new RangeError(`a timeline bucket must be a whole number of minutes, got ${bucketMs} ms`);
      }
      // The calls from the start of `since`'s hour (whole-hour buckets) or minute, read from the coarsest rollups
      // that fit in a bucket: each rollup row adds to one bucket.
      const resolution = bucketMs % HOUR_MS === 0 ? HOUR_MS : MINUTE_MS;
      const from = Math.floor(window.since / resolution) * resolution;
      const to = window.until === undefined ? undefined : Math.ceil(window.until / resolution) * resolution;
      const fitting = ROLLUP_BUCKETS_MS.filter((size) => bucketMs % size === 0);
      const buckets = new Map<number, StatsAccumulator>();
      for (const row of await rollups(window, coverRange(from, to, fitting))) {
        accumulatorOf(buckets, Math.floor(row.bucket_start / bucketMs) * bucketMs).add(row);
      }
      return [...buckets.entries()].sort(([a], [b]) => a - b).map(([start, stats]) => ({ start, ...stats.result() }));
    },
    async exactSummary(window) {
      // The same whole minutes as the rollups read, so both answers cover the same calls.
      const since = Math.floor(window.since / MINUTE_MS) * MINUTE_MS;
      const until = window.until === undefined ? undefined : Math.ceil(window.until / MINUTE_MS) * MINUTE_MS;
      const rows = await db
        .selectFrom('request_logs')
        .select(['status_code', 'duration_ms', 'request_bytes', 'response_bytes'])
        .where('started_at', '>=', since)
        .$if(until !== undefined, (query) => query.where('started_at', '<', until ?? 0))
        .$if(window.service !== undefined, (query) => query.where('service', '=', window.service ?? ''))
        .$if(window.method !== undefined, (query) => query.where('method', '=', window.method ?? ''))
        .execute();
      const durations = new Float64Array(rows.length);
      const byStatus = new Map<number, number>();
      let sumMs = 0;
      let requestBytes = 0;
      let responseBytes = 0;
      rows.forEach((row, index) => {
        durations[index] = row.duration_ms;
        sumMs += row.duration_ms;
        requestBytes += row.request_bytes;
        responseBytes += row.response_bytes;
        byStatus.set(row.status_code, (byStatus.get(row.status_code) ?? 0) + 1);
      });
      durations.sort();
      // Nearest rank: the value at position ceil(p * n) of the sorted durations (1-based).
      const rank = (p: number) => (rows.length === 0 ? 0 : (durations[Math.max(1, Math.ceil(p * rows.length)) - 1] ?? 0));
      return statsOf(rows.length, byStatus, sumMs, rank(0), durations.at(-1) ?? 0, requestBytes, responseBytes, {
        p50Ms: rank(0.5),
        p95Ms: rank(0.95),
        p99Ms: rank(0.99),
        exact: true,
      });
    },
    async errorsByReason(window) {
      const since = Math.floor(window.since / MINUTE_MS) * MINUTE_MS;
      const until = window.until === undefined ? undefined : Math.ceil(window.until / MINUTE_MS) * MINUTE_MS;
      const rows = await db
        .selectFrom('request_logs')
        .select(['service', 'method', 'status_code', 'error_reason'])
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('calls'))
        // Spelled as the partial index's predicate, a literal and not a bound value, so the planner may use the index.
        .where(sql<SqlBool>`status_code <> 0`)
        .where('started_at', '>=', since)
        .$if(until !== undefined, (query) => query.where('started_at', '<', until ?? 0))
        .$if(window.service !== undefined, (query) => query.where('service', '=', window.service ?? ''))
        .$if(window.method !== undefined, (query) => query.where('method', '=', window.method ?? ''))
        .groupBy(['service', 'method', 'status_code', 'error_reason'])
        .orderBy('calls', 'desc')
        .orderBy('service')
        .orderBy('method')
        .orderBy('status_code')
        // Explicit: SQLite sorts nulls first, PostgreSQL last; the errors without a reason come after the named ones.
        .orderBy('error_reason', (order) => order.asc().nullsLast())
        .limit(window.limit ?? 100)
        .execute();
      // PostgreSQL's count(*) is a bigint, which its driver hands over as a string.
      return rows.map((row) => ({
        service: row.service,
        method: row.method,
        statusCode: row.status_code,
        reason: row.error_reason,
        calls: Number(row.calls),
      }));
    },
  };
  return statistics;
}

/** The accumulator of `key` in `map`, made on first use. */
function accumulatorOf<K>(map: Map<K, StatsAccumulator>, key: K): StatsAccumulator {
  let accumulator = map.get(key);
  if (!accumulator) {
    accumulator = new StatsAccumulator();
    map.set(key, accumulator);
  }
  return accumulator;
}

/** The window's service and method as a condition on rollups (kysely's `and`; `true` when neither is set). */
function keyFilter(window: StatsWindow) {
  return (eb: ExpressionBuilder<LogStoreDatabase, 'call_rollups'>) => {
    const conditions: Expression<SqlBool>[] = [];
    if (window.service !== undefined) conditions.push(eb('service', '=', window.service));
    if (window.method !== undefined) conditions.push(eb('method', '=', window.method));
    return eb.and(conditions);
  };
}
