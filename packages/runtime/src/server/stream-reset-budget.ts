import type { Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { constants as http2Constants } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { goAwayAndClose } from './connection-key.js';
import { parseGrpcTimeout } from './grpc-timeout.js';
import type { DefenceCounters } from './defence-counters.js';

/** A token bucket's size and refill; see the vocabulary's `StreamResetBudget`. */
export interface StreamResetBudgetLimits {
  /** Tokens at once (the bucket's size); 0 turns the budget off. */
  readonly burst: number;
  /** Tokens that come back per second. */
  readonly perSecond: number;
  /** How long a peer address whose connection got GOAWAY is refused new connections, in ms; 0: not at all. */
  readonly penaltyMs: number;
}

/**
 * The rapid-reset defence (CVE-2023-44487): a per-connection budget of streams the client reset before the server
 * completed them. On Node 20 such a stream's `close` comes with a non-zero `rstCode` (RST_STREAM received while the
 * stream was open on the server; `aborted` is emitted only when the server's side was not ended yet, and grpc-js
 * often has written its trailers by then); a RST_STREAM for a stream the server already completed is ignored by
 * nghttp2 and leaves `rstCode` 0 (a call the server served). grpc-js never resets a server stream and grpcforge does
 * so with NO_ERROR only (the request-stream closer), so with the session up a non-zero `rstCode` is the client's
 * doing (or node:http2's answer to a protocol error, as hostile). Each such reset takes a token of a bucket of `burst` tokens refilled at `perSecond`; a reset
 * without a token gets the connection GOAWAY ENHANCE_YOUR_CALM (last stream id: the last one it opened) with debug
 * data `too_many_resets`, then the connection closes (destroyed after a second if the client holds streams open),
 * counted `rapidResetGoaways`. The fixes after the CVE bound the same thing: nghttp2 1.57
 * (`nghttp2_option_set_stream_reset_rate_limit`, a token bucket of incoming RST_STREAM, burst 1000 and 33/s, then
 * GOAWAY, which Node 20.8.1+ applies), Go's x/net/http2 (CVE-2023-39325: handlers bounded by
 * MAX_CONCURRENT_STREAMS, and a connection whose queue of reset-early requests grows past that is closed with
 * ENHANCE_YOUR_CALM) and grpc-go 1.58.3 (the same handler bound).
 */
export interface StreamResetBudget {
  /** Applies the budget to a new connection. */
  onSession(session: Http2Session): void;
  /**
   * Whether a TCP connection just accepted may stay: false (and the socket destroyed, counted `connectionsRefused`)
   * while its IP address serves a penalty for an earlier connection's resets.
   */
  admit(socket: Socket): boolean;
  /**
   * Refuses new connections from `address` (a socket's `remoteAddress`) for the penalty; also used by the auth
   * throttle's early refusal for a connection that keeps guessing. Nothing when `penaltyMs` is 0.
   */
  penalise(address: string | undefined): void;
}

/** Most addresses remembered as penalised at once: a flood from many addresses cannot grow the table without bound. */
const MAX_PENALISED_ADDRESSES = 10_000;

/** A {@link StreamResetBudget} of `limits`. */
export function createStreamResetBudget(limits: StreamResetBudgetLimits, defences: DefenceCounters): StreamResetBudget {
  const { burst, perSecond, penaltyMs } = limits;
  // Address -> until when (performance.now() ms) its new connections are refused; in insertion order, oldest first.
  const penalised = new Map<string, number>();
  const penalise = (address: string | undefined) => {
    if (penaltyMs <= 0 || !address) return;
    penalised.delete(address);
    penalised.set(address, performance.now() + penaltyMs);
    if (penalised.size > MAX_PENALISED_ADDRESSES) penalised.delete(penalised.keys().next().value!);
  };
  return {
    penalise,
    admit(socket) {
      if (penalised.size === 0) return true;
      const address = socket.remoteAddress ?? '';
      const until = penalised.get(address);
      if (until === undefined) return true;
      if (performance.now() >= until) {
        penalised.delete(address);
        return true;
      }
      socket.destroy();
      defences.count('connectionsRefused');
      return false;
    },
    onSession(session) {
      if (burst <= 0) return;
      const take = tokenBucket(burst, perSecond);
      let lastStreamId = 0;
      session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
        lastStreamId = Math.max(lastStreamId, stream.id ?? 0);
        const arrived = performance.now();
        const timeout = headers['grpc-timeout'];
        const timeoutMs = typeof timeout === 'string' ? parseGrpcTimeout(timeout) : undefined;
        stream.once('close', () => {
          if (stream.rstCode === http2Constants.NGHTTP2_NO_ERROR) return;
          // A session going down resets its open streams: not the client's doing.
          if (session.closed || session.destroyed) return;
          // A client resets a call when its deadline passes: however many, that is an overloaded server, not an attack
          // (the server sees the deadline later than the client by the request's latency: a tenth of it is allowed).
          if (timeoutMs !== undefined && performance.now() - arrived >= timeoutMs * 0.9) return;
          if (take()) return;
          defences.count('rapidResetGoaways');
          penalise(session.socket.remoteAddress);
          goAwayAndClose(session, http2Constants.NGHTTP2_ENHANCE_YOUR_CALM, 'too_many_resets', lastStreamId);
        });
      });
    },
  };
}

/**
 * A token bucket, full at first, of `size` tokens refilled at `perSecond` (monotonic clock).
 * @returns a function that takes a token and says whether there was one.
 */
function tokenBucket(size: number, perSecond: number): () => boolean {
  let tokens = size;
  let at = performance.now();
  return () => {
    const now = performance.now();
    tokens = Math.min(size, tokens + ((now - at) / 1000) * perSecond);
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}
