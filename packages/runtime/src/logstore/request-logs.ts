import type { Expression, ExpressionBuilder, Kysely, Selectable, SqlBool } from 'kysely';
import type { CallKind, CallRecord } from './call-record.js';
import type { LogStoreDatabase, RequestLogTable } from './database.js';
import { requestIdTime } from './request-id.js';

/** Which stored calls to list. Times in ms since the epoch (`until` exclusive). */
export interface LogQuery {
  readonly since?: number;
  readonly until?: number;
  readonly service?: string;
  readonly method?: string;
  /** gRPC status code number. */
  readonly statusCode?: number;
  /** Only calls that did not end OK. */
  readonly errorsOnly?: boolean;
  /** Only calls of this principal, for example `apikey:ci-bot`. */
  readonly principal?: string;
  /** Only calls at least this slow, in ms. */
  readonly minDurationMs?: number;
  /** Pagination: only calls older than this row id (the `id` of the last call of the previous page). */
  readonly beforeId?: number;
  /** At most this many. @defaultValue 50 */
  readonly limit?: number;
}

/** A {@link LogQuery} for {@link RequestLogs.page}: one bounded step of a walk through the rows. */
export interface LogPageQuery extends LogQuery {
  /**
   * Look at most at this many rows (the newest older than `beforeId`, by row id), so a filter that matches few or no
   * calls answers in bounded time; the page then holds fewer than `limit` calls and `nextBefore` goes on from where
   * it stopped. Unset: walk until `limit` calls match or the rows end.
   */
  readonly scanRows?: number;
}

/** One page of calls, and where the next one starts. */
export interface RequestLogPage {
  /** The calls found, the last to finish first. */
  readonly logs: RequestLog[];
  /**
   * The `beforeId` of the next page: the id of the last call listed when the page is full, or the id where a
   * bounded walk (`scanRows`) stopped; null when no older row is left to look at.
   */
  readonly nextBefore: number | null;
}

/** A stored call: its record and the store's row id (newer calls have larger ids). */
export interface RequestLog extends CallRecord {
  readonly id: number;
}

/** The raw rows, for drill-down: reads walk the time index (a request id carries its time), never a statistic. */
export interface RequestLogs {
  /**
   * Enqueues a call; never waits on the disk. A function property, not a method: it may be passed on detached
   * (`recordCall: store.logs.record`). @returns false when the row was dropped (queue full, store gone).
   */
  readonly record: (call: CallRecord) => boolean;
  /** Calls matching the query, the last to finish first (by row id, which follows commit order). */
  list(query?: LogQuery): Promise<RequestLog[]>;
  /** Like `list`, a page at a time, with the cursor of the next page; `scanRows` bounds the rows it walks. */
  page(query?: LogPageQuery): Promise<RequestLogPage>;
  /** One call by its request id. */
  get(requestId: string): Promise<RequestLog | undefined>;
}

/** A row as the public, camelCase shape. */
export function toRequestLog(row: Selectable<RequestLogTable>): RequestLog {
  return {
    id: row.id,
    requestId: row.request_id,
    startedAt: row.started_at,
    service: row.service,
    method: row.method,
    kind: row.kind as CallKind,
    statusCode: row.status_code,
    durationMs: row.duration_ms,
    principal: row.principal,
    apiKeyId: row.api_key_id,
    peer: row.peer,
    requestBytes: row.request_bytes,
    responseBytes: row.response_bytes,
    requestMessages: row.request_messages,
    responseMessages: row.response_messages,
    errorMessage: row.error_message,
    traceId: row.trace_id,
    rawPath: row.raw_path,
    errorReason: row.error_reason,
    violationField: row.violation_field,
  };
}

function matches(query: LogQuery) {
  return (eb: ExpressionBuilder<LogStoreDatabase, 'request_logs'>) => {
    const conditions: Expression<SqlBool>[] = [];
    if (query.since !== undefined) conditions.push(eb('started_at', '>=', query.since));
    if (query.until !== undefined) conditions.push(eb('started_at', '<', query.until));
    if (query.service !== undefined) conditions.push(eb('service', '=', query.service));
    if (query.method !== undefined) conditions.push(eb('method', '=', query.method));
    if (query.statusCode !== undefined) conditions.push(eb('status_code', '=', query.statusCode));
    if (query.errorsOnly) conditions.push(eb('status_code', '!=', 0));
    if (query.principal !== undefined) conditions.push(eb('principal', '=', query.principal));
    if (query.minDurationMs !== undefined) conditions.push(eb('duration_ms', '>=', query.minDurationMs));
    if (query.beforeId !== undefined) conditions.push(eb('id', '<', query.beforeId));
    return eb.and(conditions);
  };
}

/** The read side of {@link RequestLogs} over a kysely connection. */
export function createRequestLogReader(db: Kysely<LogStoreDatabase>): Omit<RequestLogs, 'record'> {
  const list = async (query: LogQuery, fromId?: number) => {
    const rows = await db
      .selectFrom('request_logs')
      .where(matches(query))
      .$if(fromId !== undefined, (select) => select.where('id', '>=', fromId ?? 0))
      .selectAll()
      .orderBy('id', 'desc')
      .limit(query.limit ?? 50)
      .execute();
    return rows.map(toRequestLog);
  };
  const idBound = (bound: 'min' | 'max') =>
    db
      .selectFrom('request_logs')
      .select((eb) => eb.fn[bound]<number | null>('id').as('id'))
      .executeTakeFirst()
      .then((row) => row?.id ?? undefined);
  return {
    list: (query = {}) => list(query),
    async page(query = {}) {
      const limit = query.limit ?? 50;
      if (query.scanRows === undefined) {
        const logs = await list(query);
        return { logs, nextBefore: logs.length === limit ? (logs.at(-1)?.id ?? null) : null };
      }
      // A range of row ids, walked on the primary key: at most `scanRows` rows whatever the filter matches.
      const upper = query.beforeId ?? ((await idBound('max')) ?? 0) + 1;
      const from = Math.max(0, upper - query.scanRows);
      const logs = await list({ ...query, beforeId: upper }, from);
      if (logs.length === limit) return { logs, nextBefore: logs.at(-1)?.id ?? null };
      const oldest = await idBound('min');
      if (oldest === undefined || oldest >= from) return { logs, nextBefore: null };
      // Rows are stored in about the order their calls end: once the walk is past `since`, older rows cannot match.
      if (query.since !== undefined) {
        const below = await db
          .selectFrom('request_logs')
          .select('started_at')
          .where('id', '<', from)
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (below !== undefined && below.started_at < query.since) return { logs, nextBefore: null };
      }
      return { logs, nextBefore: from };
    },
    async get(requestId) {
      // A UUIDv7 carries its call's start time: the time index finds the row. Older ids (v4) need a scan.
      const startedAt = requestIdTime(requestId);
      const row = await db
        .selectFrom('request_logs')
        .selectAll()
        .$if(startedAt !== undefined, (query) => query.where('started_at', '=', startedAt ?? 0))
        .where('request_id', '=', requestId)
        .executeTakeFirst();
      return row ? toRequestLog(row) : undefined;
    },
  };
}
