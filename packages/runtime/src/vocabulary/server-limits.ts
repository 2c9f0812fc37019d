import { MINUTE_MS, SECOND_MS } from './time.js';

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
   * the budget needs). Two lines are fixed inside nghttp2 (node:http2's HTTP/2 library), which fails the whole
   * connection before any check can run and which Node offers no option to move: a single field whose name or value
   * takes more than 65,536 bytes in HPACK encoding (`NGHTTP2_HD_MAX_NV`; Huffman coding makes that about 102 KiB of
   * `a`s but exactly 64 KiB of `~`s) is a COMPRESSION_ERROR (RFC 9113 §4.3: the connection's HPACK state cannot
   * skip it), and a header block that needs more than 8 CONTINUATION frames (`NGHTTP2_DEFAULT_MAX_CONTINUATIONS`,
   * nghttp2 1.61's answer to CVE-2024-28182; clients built on nghttp2, Node and grpc-js among them, cut header blocks
   * into 16 KiB frames, so 9 × 16,384 = 147,456 encoded bytes) gets GOAWAY INTERNAL_ERROR. Below both, a call over
   * the budget fails alone. @defaultValue 8 KiB
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
  /**
   * A connection that has not finished its handshake this long after it was accepted is destroyed (counted
   * `handshakeTimeouts`): the TLS handshake if any, the client's connection preface with its SETTINGS (RFC 9113 §3.4)
   * and the client's acknowledgement of the server's SETTINGS. Bounds slowloris: silent sockets, a preface alone.
   * @defaultValue 5000 (5 seconds)
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * A connection that has sent no request's headers this long after it was accepted is sent GOAWAY (NO_ERROR, debug
   * data `header_timeout`) and closed (counted `headerTimeouts`). Later idleness is
   * {@link ServerLimits.connectionIdleMs}'s. @defaultValue 10000 (10 seconds)
   */
  readonly headerTimeoutMs?: number;
  /**
   * Most connections open at once on the server (all its addresses together); a connection over it is destroyed as
   * soon as it is accepted, before any TLS or HTTP/2 (counted `connectionsRefused`). 0: no cap. Keep it under the
   * process's file descriptor limit (`ulimit -n`). @defaultValue 10000
   */
  readonly maxConnections?: number;
  /**
   * Most connections open at once from one remote IP address; one over it is destroyed as soon as it is accepted
   * (counted `connectionsRefused`). 0: no cap. Behind a proxy or load balancer that rewrites the source address (SNAT)
   * every client shares the proxy's address: raise it or set 0 there. @defaultValue 1000
   */
  readonly maxConnectionsPerPeer?: number;
  /** The rapid-reset defence (CVE-2023-44487): how many streams a client may reset on one connection. */
  readonly streamResets?: StreamResetBudget;
}

/**
 * A per-connection token bucket of streams the client reset (RST_STREAM) before the server completed them: each such
 * reset takes a token, {@link StreamResetBudget.perSecond} tokens come back each second up to
 * {@link StreamResetBudget.burst}; a reset without a token gets the connection GOAWAY ENHANCE_YOUR_CALM with debug
 * data `too_many_resets` and closes it (counted `rapidResetGoaways`). The same shape as nghttp2's
 * `nghttp2_option_set_stream_reset_rate_limit` (burst 1000, 33/s, which Node applies and answers with GOAWAY
 * INTERNAL_ERROR): a smaller burst ends an attacking connection five times sooner, and a higher rate leaves clients
 * that cancel many calls (deadlines, hedging, a user's navigation) alone. 0 for `burst` turns the budget off.
 */
export interface StreamResetBudget {
  /** Resets allowed at once, the bucket's size. @defaultValue 200 */
  readonly burst?: number;
  /** Resets allowed per second after the burst, the bucket's refill. @defaultValue 50 */
  readonly perSecond?: number;
  /**
   * After a connection got GOAWAY for its resets, new connections from the same IP address are closed as soon as they
   * are accepted (counted `connectionsRefused`) for this long, in ms: an attacker that reconnects at once would
   * otherwise cost the server a TLS and HTTP/2 handshake and a fresh budget per connection. 0 turns it off.
   * @defaultValue 10000
   */
  readonly penaltyMs?: number;
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
  readonly handshakeTimeoutMs: number;
  readonly headerTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerPeer: number;
  readonly streamResets: Required<StreamResetBudget>;
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
  handshakeTimeoutMs: 5 * SECOND_MS,
  headerTimeoutMs: 10 * SECOND_MS,
  maxConnections: 10_000,
  maxConnectionsPerPeer: 1000,
  streamResets: { burst: 200, perSecond: 50, penaltyMs: 10_000 },
};
