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
  return {
    async list(query = {}) {
      const rows = await db
        .selectFrom('request_logs')
        .where(matches(query))
        .selectAll()
        .orderBy('id', 'desc')
        .limit(query.limit ?? 50)
        .execute();
      return rows.map(toRequestLog);
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
