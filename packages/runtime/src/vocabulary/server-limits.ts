import { MINUTE_MS } from './time.js';

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

/** {@link ServerLimits} with every default filled in; sizes in bytes, times in ms (0: no limit). */
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

/** The limits of a server that sets none; also the defaults of grpcforge.yaml's `server.limits`. */
export const DEFAULT_SERVER_LIMITS: ResolvedServerLimits = {
  maxReceiveMessageBytes: 4 * 1024 * 1024,
  maxSendMessageBytes: 4 * 1024 * 1024,
  maxMetadataBytes: 8 * 1024,
  maxConcurrentStreams: 1000,
  connectionIdleMs: 5 * MINUTE_MS,
  maxConnectionAgeMs: 30 * MINUTE_MS,
  maxConnectionAgeGraceMs: 5 * MINUTE_MS,
  keepalive: { minPingIntervalMs: 5 * MINUTE_MS, permitWithoutCalls: false, maxPingStrikes: 2 },
};
