/** How a method exchanges messages; `unknown` for a call that never reached a method (unknown service or method). */
export type CallKind = 'unary' | 'serverStreaming' | 'clientStreaming' | 'bidiStreaming' | 'unknown';

/**
 * One finished call, as the request logger hands it to the log store (and to a service's `redactCall` hook). Times
 * are milliseconds since the Unix epoch (UTC), durations milliseconds, sizes bytes of serialized messages as they
 * crossed the wire (without gRPC's 5-byte frame prefix).
 */
export interface CallRecord {
  /** Random, time-ordered id of the call (UUIDv7, RFC 9562). */
  readonly requestId: string;
  readonly startedAt: number;
  /**
   * Fully-qualified service, for example `auth.v1.AuthService`; for a call to a method the server does not serve, the
   * served service of its path or `_unknown` (`UNKNOWN_BUCKET`). The store keeps at most 256 bytes of UTF-8
   * (`STORED_TEXT_MAX_BYTES`), cut at a character boundary.
   */
  readonly service: string;
  /** Method name, for example `Login`; `_unknown` for a method the server does not serve. Stored up to 256 bytes. */
  readonly method: string;
  readonly kind: CallKind;
  /** gRPC status code number (0 = OK), as the client saw it. */
  readonly statusCode: number;
  readonly durationMs: number;
  /**
   * Who auth resolved, for example `apikey:ci-bot` or `jwt:ada`; null when anonymous or rejected. Stored up to 256
   * bytes of UTF-8.
   */
  readonly principal: string | null;
  readonly apiKeyId: string | null;
  readonly peer: string | null;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly requestMessages: number;
  readonly responseMessages: number;
  /** The error's message for non-OK calls (server-side detail, never a credential). Stored up to 2,048 bytes. */
  readonly errorMessage: string | null;
  /**
   * The W3C trace id (32 hex digits) of the call's server span when `telemetry` traces it; null otherwise. Optional
   * for records made before tracing existed (`redactCall` hooks, tests); stored as null then.
   */
  readonly traceId?: string | null;
  /**
   * The request's `:path` as the client sent it, for a call to a method the server does not serve (kind `unknown`);
   * null (or absent) otherwise. Stored up to 256 bytes of UTF-8.
   */
  readonly rawPath?: string | null;
  /**
   * The reason of the error's `errorInfo` detail (a declared error reason, `USER_NOT_FOUND`); null (or absent) when the
   * error had none. Stored up to 64 bytes of UTF-8.
   */
  readonly errorReason?: string | null;
  /**
   * The field path of the error's first `badRequest` violation (`user.email`, `items[0].name`); null (or absent)
   * when it had none. Stored up to 256 bytes of UTF-8.
   */
  readonly violationField?: string | null;
}
