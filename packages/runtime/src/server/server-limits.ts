import type { Http2SecureServer, Http2Server, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { constants as http2Constants } from 'node:http2';
import { Status } from 'nice-grpc';

/**
 * Per-connection and per-call limits of a server. Every field is optional; {@link DEFAULT_SERVER_LIMITS} fills the
 * rest. Times are in ms, sizes in bytes; 0 turns a time limit off (unlimited).
 */
export interface ServerLimits {
  /**
   * Largest request message accepted, in bytes (before decompression is not counted: the decoded size is). A larger
   * one is answered RESOURCE_EXHAUSTED. grpc-js's `grpc.max_receive_message_length`. @defaultValue 4 MiB
   */
  readonly maxReceiveMessageBytes?: number;
  /**
   * Largest response message sent, in bytes; a handler returning a larger one fails the call with RESOURCE_EXHAUSTED.
   * grpc-js's `grpc.max_send_message_length`. @defaultValue 4 MiB
   */
  readonly maxSendMessageBytes?: number;
  /**
   * Budget of a request's header list (metadata plus the HTTP/2 pseudo-headers), counted as HPACK counts it: each
   * field's name and value plus 32 bytes (RFC 7541 §4.1, the size SETTINGS_MAX_HEADER_LIST_SIZE is about, RFC 9113
   * §6.5.2). A call over it is answered RESOURCE_EXHAUSTED with a gRPC status (trailers-only), the connection stays
   * open (today's 128-field limit of node:http2, which resets the stream with ENHANCE_YOUR_CALM, is raised to what
   * the budget needs). Header lists node:http2 itself cannot take (about 256 KiB) still close the connection with
   * GOAWAY before any check can run. @defaultValue 8 KiB
   */
  readonly maxMetadataBytes?: number;
  /**
   * Most streams (calls) open at once on one connection, advertised as SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113
   * §6.5.2): clients (node:http2, grpc-js) queue the calls over it until one ends; a client that opens more anyway has
   * them refused by node:http2 (RST_STREAM REFUSED_STREAM). grpc-js's `grpc.max_concurrent_streams`.
   * @defaultValue 1000
   */
  readonly maxConcurrentStreams?: number;
  /**
   * A connection without any call for this long is closed (GOAWAY, then closed): also one that connects and never
   * sends a request. grpc-js's `grpc.max_connection_idle_ms`. @defaultValue 300000 (5 minutes)
   */
  readonly connectionIdleMs?: number;
  /**
   * A connection older than this is asked to go away (GOAWAY), so clients reconnect and spread over new replicas
   * (load balancing); calls in flight get {@link ServerLimits.maxConnectionAgeGraceMs}. grpc-js's
   * `grpc.max_connection_age_ms`. @defaultValue 1800000 (30 minutes)
   */
  readonly maxConnectionAgeMs?: number;
  /**
   * After {@link ServerLimits.maxConnectionAgeMs}, how long calls in flight may finish before the connection is
   * closed: this also bounds a call that never finishes its request. grpc-js's `grpc.max_connection_age_grace_ms`.
   * @defaultValue 300000 (5 minutes)
   */
  readonly maxConnectionAgeGraceMs?: number;
  /** How the server treats clients' keepalive pings (gRPC's keepalive enforcement, gRFC A8). */
  readonly keepalive?: KeepaliveEnforcement;
}

/**
 * Keepalive enforcement, as gRPC core does it (gRFC A8, `grpc.http2.min_ping_interval_without_data_ms`,
 * `grpc.keepalive_permit_without_calls`): a PING earlier than allowed is a strike, and after more than
 * {@link KeepaliveEnforcement.maxPingStrikes} strikes the connection is closed with GOAWAY ENHANCE_YOUR_CALM and the
 * debug data `too_many_pings` (grpc-js clients then double their keepalive time).
 */
export interface KeepaliveEnforcement {
  /** Least time between two client pings while calls are open, in ms. @defaultValue 300000 (5 minutes) */
  readonly minPingIntervalMs?: number;
  /**
   * Whether pings on a connection without calls are allowed at {@link KeepaliveEnforcement.minPingIntervalMs}; when
   * false they are allowed every 2 hours only. @defaultValue false
   */
  readonly permitWithoutCalls?: boolean;
  /** Strikes tolerated before the connection is closed. @defaultValue 2 */
  readonly maxPingStrikes?: number;
}

/** {@link ServerLimits} with every default filled in. */
export interface ResolvedServerLimits {
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  readonly maxMetadataBytes: number;
  readonly maxConcurrentStreams: number;
  readonly connectionIdleMs: number;
  readonly maxConnectionAgeMs: number;
  readonly maxConnectionAgeGraceMs: number;
  readonly keepalive: Required<KeepaliveEnforcement>;
}

/** The limits of a server that sets none. */
export const DEFAULT_SERVER_LIMITS: ResolvedServerLimits = {
  maxReceiveMessageBytes: 4 * 1024 * 1024,
  maxSendMessageBytes: 4 * 1024 * 1024,
  maxMetadataBytes: 8 * 1024,
  maxConcurrentStreams: 1000,
  connectionIdleMs: 300_000,
  maxConnectionAgeMs: 1_800_000,
  maxConnectionAgeGraceMs: 300_000,
  keepalive: { minPingIntervalMs: 300_000, permitWithoutCalls: false, maxPingStrikes: 2 },
};

/** Without calls and {@link KeepaliveEnforcement.permitWithoutCalls}, pings are allowed this often (gRPC core's). */
const PING_INTERVAL_WITHOUT_CALLS_MS = 2 * 60 * 60 * 1000;

/** grpc-js's "unlimited" for its timers (it treats this value and above as off). */
const GRPC_JS_UNLIMITED_MS = 2 ** 31 - 1;

/** HPACK's per-field overhead (RFC 7541 §4.1). */
const FIELD_OVERHEAD_BYTES = 32;

/** The limits with defaults filled in. */
export function resolveServerLimits(limits: ServerLimits | undefined): ResolvedServerLimits {
  return {
    ...DEFAULT_SERVER_LIMITS,
    ...definedOnly(limits ?? {}),
    keepalive: { ...DEFAULT_SERVER_LIMITS.keepalive, ...definedOnly(limits?.keepalive ?? {}) },
  };
}

/** The grpc-js `Server` options that carry the limits grpc-js enforces itself. */
export function grpcServerOptionsOf(limits: ResolvedServerLimits): Record<string, number> {
  const time = (ms: number) => (ms > 0 ? Math.min(ms, GRPC_JS_UNLIMITED_MS) : GRPC_JS_UNLIMITED_MS);
  return {
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.max_send_message_length': limits.maxSendMessageBytes,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    'grpc.max_connection_idle_ms': time(limits.connectionIdleMs),
    'grpc.max_connection_age_ms': time(limits.maxConnectionAgeMs),
    'grpc.max_connection_age_grace_ms': time(limits.maxConnectionAgeGraceMs),
  };
}

/**
 * Options for node:http2's `createServer` that grpc-js does not expose: room for header lists of 8 times the metadata
 * budget (at least 256 KiB, about what node:http2 decodes), so the budget, not the HTTP/2 layer, answers the calls
 * over it. SETTINGS_MAX_HEADER_LIST_SIZE is advisory (RFC 9113 §6.5.2): it tells clients the ceiling.
 */
export function http2ServerOptionsOf(limits: ResolvedServerLimits): {
  maxHeaderListPairs: number;
  settings: { maxHeaderListSize: number };
} {
  const ceiling = Math.max(limits.maxMetadataBytes * 8, 256 * 1024);
  return {
    // Node's default is 128 (a 129th field resets the stream); every field costs at least 32 bytes of the budget.
    maxHeaderListPairs: Math.ceil(ceiling / FIELD_OVERHEAD_BYTES),
    settings: { maxHeaderListSize: ceiling },
  };
}

/**
 * The size of a header list as HPACK counts it (name + value + 32 per field, RFC 7541 §4.1), from node:http2's raw
 * headers (`[name, value, name, value, …]`).
 */
export function headerListSize(rawHeaders: readonly string[]): number {
  let size = 0;
  for (const field of rawHeaders) size += Buffer.byteLength(field);
  return size + (rawHeaders.length / 2) * FIELD_OVERHEAD_BYTES;
}

/**
 * Enforces the limits grpc-js does not on an HTTP/2 server grpc-js created: the metadata budget and keepalive
 * enforcement. Listen to `stream` with {@link ConnectionGuard.onStream} before grpc-js does (it returns false for a
 * stream it answered: grpc-js must then not handle it), and to `session` with {@link ConnectionGuard.onSession}.
 */
export interface ConnectionGuard {
  /**
   * Checks a new stream's headers against the metadata budget; over it, answers the call RESOURCE_EXHAUSTED
   * (trailers-only) and returns false.
   */
  onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: readonly string[]): boolean;
  /** Applies keepalive enforcement to a new connection. */
  onSession(session: Http2Session): void;
}

/** A {@link ConnectionGuard} for `limits`. */
export function createConnectionGuard(limits: ResolvedServerLimits): ConnectionGuard {
  const { minPingIntervalMs, permitWithoutCalls, maxPingStrikes } = limits.keepalive;
  return {
    onStream(stream, _headers, rawHeaders) {
      const size = headerListSize(rawHeaders);
      if (size <= limits.maxMetadataBytes) return true;
      const message = `request metadata of ${size} bytes is over the server's limit of ${limits.maxMetadataBytes} bytes`;
      try {
        stream.respond(
          {
            [http2Constants.HTTP2_HEADER_STATUS]: 200,
            [http2Constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
            'grpc-status': String(Status.RESOURCE_EXHAUSTED),
            'grpc-message': encodeURI(message),
          },
          { endStream: true },
        );
      } catch {
        stream.destroy();
      }
      // A request body may follow; it is not read.
      stream.on('error', () => undefined);
      stream.resume();
      return false;
    },
    onSession(session) {
      let active = 0;
      let lastPing: number | undefined;
      let strikes = 0;
      session.on('stream', (stream: ServerHttp2Stream) => {
        active += 1;
        strikes = 0;
        stream.once('close', () => {
          active -= 1;
        });
      });
      session.on('ping', () => {
        const now = Date.now();
        const allowedEvery =
          active > 0 || permitWithoutCalls ? minPingIntervalMs : Math.max(minPingIntervalMs, PING_INTERVAL_WITHOUT_CALLS_MS);
        if (lastPing !== undefined && now - lastPing < allowedEvery) strikes += 1;
        lastPing = now;
        if (strikes > maxPingStrikes && !session.closed && !session.destroyed) {
          session.goaway(http2Constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from('too_many_pings'));
          session.close();
        }
      });
    },
  };
}

/** Observes an HTTP/2 server grpc-js created, with a guard. */
export function guardHttp2Server(http2Server: Http2Server | Http2SecureServer, guard: ConnectionGuard): void {
  http2Server.on('session', (session: Http2Session) => guard.onSession(session));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
