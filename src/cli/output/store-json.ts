import { Status } from 'nice-grpc-common';
// The module itself, not the runtime's index: the CLI loads this at start-up.
import type { DashboardShapes } from '../../dashboard/api.js';
import { describeDropped, totalDropped, type ListedInstance } from '@grpcforge/runtime/admin';
import type {
  ApiKeyRecord,
  CallStats,
  ErrorReasonCount,
  MethodCallStats,
  RequestLog,
  ServerInstance,
  TimelineBucket,
} from '@grpcforge/runtime';
import type {
  ApiKeyJson,
  ApiKeyStateJson,
  CallStatsJson,
  DroppedJson,
  ErrorReasonCountJson,
  InstanceJson,
  IsoTime,
  MethodStatsJson,
  RequestLogJson,
  StoreJsonVersion,
  TimelineBucketJson,
} from '@grpcforge/runtime/vocabulary';

/**
 * The `--json` shapes of `logs`, `stats`, `status` and `keys` (shape version 2, documented in the README): camelCase
 * keys; a status as `statusCode` (number) and `status` (name); times as ISO 8601 UTC with milliseconds; durations in
 * ms, sizes in bytes; lists as arrays, never JSON inside a string. Fields may be added, never renamed or removed.
 */
export const STORE_JSON_VERSION: StoreJsonVersion = 2;

/** ISO 8601 with milliseconds, or null for null. */
export function isoTime(ms: number): IsoTime;
export function isoTime(ms: number | null): IsoTime | null;
export function isoTime(ms: number | null): IsoTime | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** 5 → `NOT_FOUND`; a code nice-grpc does not name stays its number as a string. */
export const statusName = (code: number): string => Status[code] ?? String(code);

/** One stored call, as `logs --json` prints it. */
export function requestLogJson(log: RequestLog): RequestLogJson {
  return {
    id: log.id,
    requestId: log.requestId,
    startedAt: isoTime(log.startedAt),
    service: log.service,
    method: log.method,
    kind: log.kind,
    statusCode: log.statusCode,
    status: statusName(log.statusCode),
    durationMs: log.durationMs,
    principal: log.principal,
    apiKeyId: log.apiKeyId,
    peer: log.peer,
    requestBytes: log.requestBytes,
    responseBytes: log.responseBytes,
    requestMessages: log.requestMessages,
    responseMessages: log.responseMessages,
    errorMessage: log.errorMessage,
    traceId: log.traceId ?? null,
    rawPath: log.rawPath ?? null,
    errorReason: log.errorReason ?? null,
    violationField: log.violationField ?? null,
  };
}

/** The totals of a set of calls, as `stats --json` prints them. */
export function callStatsJson(stats: CallStats): CallStatsJson {
  return {
    calls: stats.calls,
    ok: stats.ok,
    errors: stats.errors,
    successRate: stats.successRate,
    avgMs: stats.avgMs,
    minMs: stats.minMs,
    maxMs: stats.maxMs,
    p50Ms: stats.p50Ms,
    p95Ms: stats.p95Ms,
    p99Ms: stats.p99Ms,
    percentiles: stats.exact ? 'exact' : 'sketch',
    requestBytes: stats.requestBytes,
    responseBytes: stats.responseBytes,
    byStatus: stats.byStatus.map((entry) => ({
      statusCode: entry.statusCode,
      status: statusName(entry.statusCode),
      calls: entry.calls,
    })),
  };
}

/** One method's totals. */
export const methodStatsJson = (stats: MethodCallStats): MethodStatsJson => ({
  service: stats.service,
  method: stats.method,
  ...callStatsJson(stats),
});

/** One bucket of a timeline. */
export const timelineBucketJson = (bucket: TimelineBucket): TimelineBucketJson => ({
  start: isoTime(bucket.start),
  ...callStatsJson(bucket),
});

/** One group of failed calls by method, status and error reason. */
export const errorReasonCountJson = (group: ErrorReasonCount): ErrorReasonCountJson => ({
  service: group.service,
  method: group.method,
  statusCode: group.statusCode,
  status: statusName(group.statusCode),
  reason: group.reason,
  calls: group.calls,
});

/** `status --json`'s shape of one instance; `restarts`: the earlier runs folded into it. */
export function instanceJson(instance: ListedInstance, now: number): InstanceJson {
  return {
    id: instance.id,
    service: instance.service,
    state: instance.state,
    address: instance.address,
    pid: instance.pid,
    host: instance.host,
    startedAt: isoTime(instance.startedAt),
    lastHeartbeatAt: isoTime(instance.lastHeartbeatAt),
    heartbeatAgeMs: now - instance.lastHeartbeatAt,
    services: instance.services,
    callsRecorded: instance.callsRecorded,
    rowsWritten: instance.rowsWritten,
    rowsDropped: instance.rowsDropped,
    droppedBy: instance.droppedBy,
    defences: instance.defences,
    restarts: instance.restarts,
  };
}

/** `keys list --json`'s shape of one key (never the key itself); its state as of `now` (ms since the epoch). */
export function apiKeyJson(record: ApiKeyRecord, now: number): ApiKeyJson {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    roles: record.roles,
    state: apiKeyState(record, now),
    createdAt: isoTime(record.createdAt),
    expiresAt: isoTime(record.expiresAt),
    revokedAt: isoTime(record.revokedAt),
    lastUsedAt: isoTime(record.lastUsedAt),
    requestCount: record.requestCount,
  };
}

/** `active`, `revoked` or `expired`. */
export function apiKeyState(record: ApiKeyRecord, now: number): ApiKeyStateJson {
  if (record.revokedAt !== null) return 'revoked';
  return record.expiresAt !== null && record.expiresAt <= now ? 'expired' : 'active';
}

/** Rows dropped by the instances of a window, summed (as of their last heartbeats). */
export function droppedJson(instances: readonly ServerInstance[]): DroppedJson {
  const droppedBy = { queueFull: 0, writeError: 0, storeGone: 0 };
  for (const instance of instances) {
    droppedBy.queueFull += instance.droppedBy.queueFull;
    droppedBy.writeError += instance.droppedBy.writeError;
    droppedBy.storeGone += instance.droppedBy.storeGone;
  }
  return { rows: totalDropped(droppedBy), droppedBy };
}

export { describeDropped };

/** These formatters as the dashboard takes them (its API answers in the same shapes as `--json`). */
export const dashboardShapes = (): DashboardShapes => ({
  version: STORE_JSON_VERSION,
  isoTime,
  callStats: callStatsJson,
  methodStats: methodStatsJson,
  timelineBucket: timelineBucketJson,
  requestLog: requestLogJson,
  errorReasonCount: errorReasonCountJson,
  instance: instanceJson,
  apiKey: apiKeyJson,
});
