import type { Http2SecureServer, Http2Server, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { constants as http2Constants } from 'node:http2';
import { Status } from 'nice-grpc';
import { DEFAULT_SERVER_LIMITS, type ResolvedServerLimits, type ServerLimits } from '../vocabulary/server-limits.js';
import { HOUR_MS } from '../vocabulary/time.js';
import type { Socket } from 'node:net';
import { createConnectionCaps } from './connection-caps.js';
import { createConnectionTimeouts } from './connection-timeouts.js';
import type { DefenceCounters } from './defence-counters.js';
import { createStreamResetBudget } from './stream-reset-budget.js';
import { answerTrailersOnly } from './trailers-only.js';

/** Without calls and `keepalive.permitWithoutCalls`, pings are allowed this often (gRPC core's). */
const PING_INTERVAL_WITHOUT_CALLS_MS = 2 * HOUR_MS;

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
    streamResets: { ...DEFAULT_SERVER_LIMITS.streamResets, ...definedOnly(limits?.streamResets ?? {}) },
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
 * budget (at least 256 KiB decoded, more than the 147,456 encoded bytes nghttp2 takes in one header block; see
 * `ServerLimits.maxMetadataBytes`), so the budget, not the HTTP/2 layer, answers the calls over it.
 * SETTINGS_MAX_HEADER_LIST_SIZE is advisory (RFC 9113 §6.5.2): it tells clients the ceiling.
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
 * Enforces the limits grpc-js does not on an HTTP/2 server grpc-js created: the connection caps, the handshake and
 * header timeouts, the metadata budget, keepalive enforcement and the stream-reset budget, and counts failed TLS
 * handshakes. Listen to `stream` with {@link ConnectionGuard.onStream} before grpc-js does (it returns false for a
 * stream it answered: grpc-js must then not handle it); {@link guardHttp2Server} wires the rest.
 */
export interface ConnectionGuard {
  /**
   * Admits or refuses a TCP connection just accepted (the caps) and starts its handshake and header clocks; call it
   * before node:http2 sees the socket.
   */
  onConnection(socket: Socket): void;
  /**
   * Checks a new stream's headers against the metadata budget; over it, answers the call RESOURCE_EXHAUSTED
   * (trailers-only) and returns false.
   */
  onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: readonly string[]): boolean;
  /** Applies the timeouts, keepalive enforcement and the stream-reset budget to a new connection's session. */
  onSession(session: Http2Session): void;
  /**
   * Counts a TLS handshake that failed (the secure server's `tlsClientError`), unless the TCP connection merely closed
   * before it finished (ECONNRESET, "socket hang up"): a TCP health check or port scan that connects and leaves, or
   * the handshake timeout, which is counted as such.
   */
  onTlsClientError(error: Error): void;
  /** Refuses new connections from `address` for `streamResets.penaltyMs` (see the stream-reset budget). */
  penalise(address: string | undefined): void;
}

/** A {@link ConnectionGuard} for `limits`, counting what it refuses and closes into `defences`. */
export function createConnectionGuard(limits: ResolvedServerLimits, defences: DefenceCounters): ConnectionGuard {
  const caps = createConnectionCaps(limits, defences);
  const timeouts = createConnectionTimeouts(limits, defences);
  const resets = createStreamResetBudget(limits.streamResets, defences);
  return {
    onConnection(socket) {
      if (resets.admit(socket) && caps.admit(socket)) timeouts.onConnection(socket);
    },
    penalise: (address) => resets.penalise(address),
    onStream(stream, _headers, rawHeaders) {
      const size = headerListSize(rawHeaders);
      if (size <= limits.maxMetadataBytes) return true;
      const message = `request metadata of ${size} bytes is over the server's limit of ${limits.maxMetadataBytes} bytes`;
      // A request body may follow; it is not read.
      answerTrailersOnly(stream, Status.RESOURCE_EXHAUSTED, message);
      return false;
    },
    onSession(session) {
      timeouts.onSession(session);
      resets.onSession(session);
      enforceKeepalive(session, limits.keepalive);
    },
    onTlsClientError(error) {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') defences.count('tlsHandshakeFailures');
    },
  };
}

/** gRPC's keepalive enforcement (gRFC A8) on one connection; see `KeepaliveEnforcement`. */
function enforceKeepalive(session: Http2Session, keepalive: ResolvedServerLimits['keepalive']): void {
  const { minPingIntervalMs, permitWithoutCalls, maxPingStrikes } = keepalive;
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
}

/**
 * Observes an HTTP/2 server grpc-js created, with a guard: its `connection` listener is prepended, so it runs before
 * node:http2's own (which starts TLS or the session on the socket); `tlsClientError` is emitted by secure servers
 * only (node:http2 still destroys the socket: its own listener does).
 */
export function guardHttp2Server(http2Server: Http2Server | Http2SecureServer, guard: ConnectionGuard): void {
  http2Server.prependListener('connection', (socket: Socket) => guard.onConnection(socket));
  http2Server.on('session', (session: Http2Session) => guard.onSession(session));
  http2Server.on('tlsClientError', (error: Error) => guard.onTlsClientError(error));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
