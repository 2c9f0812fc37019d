import type { Generated } from 'kysely';

/**
 * Tables of the log store, as kysely sees them. Times are milliseconds since the Unix epoch (UTC), durations are
 * milliseconds, sizes are bytes. Queries are written once against this interface, whatever the dialect.
 */
export interface LogStoreDatabase {
  request_logs: RequestLogTable;
  api_keys: ApiKeyTable;
  server_instances: ServerInstanceTable;
}

/** One call that reached a method (rejected ones included). */
export interface RequestLogTable {
  id: Generated<number>;
  /** Random id of the call (also sent back in the `x-request-id` trailer). */
  request_id: string;
  started_at: number;
  /** Fully-qualified service, for example `auth.v1.AuthService`. */
  service: string;
  /** Method name, for example `Login`. */
  method: string;
  /** `unary`, `serverStreaming`, `clientStreaming` or `bidiStreaming`. */
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
}
