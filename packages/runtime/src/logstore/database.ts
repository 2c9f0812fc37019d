import type { Generated } from 'kysely';

/**
 * Tables of the log store, as kysely sees them. Times are milliseconds since the Unix epoch (UTC), durations are
 * milliseconds, sizes are bytes. Queries are written once against this interface, whatever the dialect.
 */
export interface LogStoreDatabase {
  request_logs: RequestLogTable;
  api_keys: ApiKeyTable;
  server_instances: ServerInstanceTable;
  call_rollups: CallRollupTable;
}

/** One call, rejected ones and ones that never reached a method included. */
export interface RequestLogTable {
  id: Generated<number>;
  /** Random, time-ordered id of the call (UUIDv7). */
  request_id: string;
  started_at: number;
  /** Fully-qualified service, for example `auth.v1.AuthService`, or `_unknown`; at most 256 bytes. */
  service: string;
  /** Method name, for example `Login`, or `_unknown`; at most 256 bytes. */
  method: string;
  /** `unary`, `serverStreaming`, `clientStreaming`, `bidiStreaming`, or `unknown` (no such method). */
  kind: string;
  /** gRPC status code number (0 = OK). */
  status_code: number;
  duration_ms: number;
  /** Who auth resolved, for example `apikey:ci-bot` or `jwt:ada`; null when anonymous or rejected. */
  principal: string | null;
  api_key_id: string | null;
  peer: string | null;
  request_bytes: number;
  response_bytes: number;
  request_messages: number;
  response_messages: number;
  /** The error's message for non-OK calls (server-side detail, never a credential). */
  error_message: string | null;
  /** W3C trace id of the call's server span (32 hex digits), when traced. */
  trace_id: string | null;
  /** The `:path` of a call to a method not served (service or method `_unknown`), truncated; null for other calls. */
  raw_path: string | null;
  /** The reason of the error's `errorInfo` detail, truncated; null when it had none (and for rows before 0007). */
  error_reason: string | null;
  /** The field path of the error's first `badRequest` violation, truncated; null when it had none. */
  violation_field: string | null;
}

/** An API key: only its hash is stored. */
export interface ApiKeyTable {
  id: string;
  name: string;
  /** First characters of the key, shown in listings to recognise it. */
  prefix: string;
  /** SHA-256 of the whole key, hex. */
  hash: string;
  /** JSON array of role names. */
  roles: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  request_count: number;
}

/** A running (or stopped) `grpcforge serve` process. */
export interface ServerInstanceTable {
  id: string;
  service: string;
  address: string;
  pid: number;
  host: string;
  /** `serving`, `stopping` or `stopped`. */
  status: string;
  started_at: number;
  last_heartbeat_at: number;
  /** JSON array of the fully-qualified services it serves. */
  services: string;
  /** Calls the instance handed to the store, as of its last heartbeat. */
  calls_recorded: Generated<number>;
  /** Of those, rows committed. */
  rows_written: Generated<number>;
  /** Rows dropped because the queue was full (the writer fell behind). */
  dropped_queue_full: Generated<number>;
  /** Rows dropped because their batch failed to write (not SQLITE_BUSY, which is retried). */
  dropped_write_error: Generated<number>;
  /** Rows dropped because the database file was deleted or replaced, or the writer thread died. */
  dropped_store_gone: Generated<number>;
  /** The defence counters (the vocabulary's `DEFENCE_COUNTERS`), running totals as of the last heartbeat. */
  defence_connections_refused: Generated<number>;
  defence_handshake_timeouts: Generated<number>;
  defence_header_timeouts: Generated<number>;
  defence_tls_handshake_failures: Generated<number>;
  defence_rapid_reset_goaways: Generated<number>;
  defence_streams_reset: Generated<number>;
  defence_auth_throttled: Generated<number>;
}

/**
 * Per-bucket totals of calls by service, method and status code, maintained by the writer in the same transaction as
 * the rows: `stats`, per-method and timeline read these, never the raw rows. Buckets are one minute, 5 minutes, one
 * hour or 6 hours (`bucket_ms`, `ROLLUP_BUCKETS_MS`; the last two since migration 0008), aligned to the epoch.
 */
export interface CallRollupTable {
  /** 60000, 300000, 3600000 or 21600000. */
  bucket_ms: number;
  /** Start of the bucket, ms since the epoch, a multiple of `bucket_ms`. */
  bucket_start: number;
  service: string;
  method: string;
  status_code: number;
  calls: number;
  duration_sum_ms: number;
  duration_min_ms: number;
  duration_max_ms: number;
  request_bytes: number;
  response_bytes: number;
  request_messages: number;
  response_messages: number;
  /** DDSketch of the durations in ms (relative accuracy 1%), in the DDSketch protobuf format: mergeable. */
  latency_sketch: Uint8Array;
}
