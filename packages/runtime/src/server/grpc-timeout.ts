import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { constants as http2Constants } from 'node:http2';
import { Status } from 'nice-grpc';
import { answerTrailersOnly } from './trailers-only.js';

/**
 * `grpc-timeout` as gRPC's PROTOCOL-HTTP2.md defines it: `TimeoutValue TimeoutUnit`, the value a positive integer of
 * at most 8 ASCII digits, the unit one of H M S m u n; nothing else (no sign, no fraction, no space, no ninth digit).
 */
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * The longest timer Node runs: `setTimeout` takes a 32-bit signed delay and runs a longer one after 1 ms. grpc-js
 * times a call's deadline with one timer and truncates its ms to 32 bits, so a deadline of 2^31 ms (about 24.9
 * days) or more would fail its call at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Parses a `grpc-timeout` header value.
 * @returns the timeout in ms (fractional for `u` and `n`), or `undefined` when the value is malformed.
 */
export function parseGrpcTimeout(value: string): number | undefined {
  const match = GRPC_TIMEOUT.exec(value);
  return match ? Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]! : undefined;
}

/**
 * Reads `grpc-timeout` for grpc-js, before grpc-js does (an `admit` step of `observeHttp2Servers`), so that grpc-js
 * and the call accounting agree on every value:
 * - a malformed value (see {@link parseGrpcTimeout}) is answered INTERNAL `malformed grpc-timeout "…"`
 *   (trailers-only) and grpc-js never sees the stream, as grpc-go answers it (INTERNAL "malformed grpc-timeout",
 *   `decodeTimeout` in its internal/transport/http_util.go); grpc-js would read `+1S` as 1 s, `1.5S` as 5 s and
 *   `100000000S` as 0 s (it searches the value for digits and a unit anywhere), and the client would see a
 *   DEADLINE_EXCEEDED the accounting could not explain;
 * - a timeout over {@link MAX_TIMER_MS} is taken from grpc-js (the header is removed) and enforced here with
 *   chained timers: past it, the call is answered DEADLINE_EXCEEDED (trailers-only) when nothing was sent yet, else
 *   its stream is reset (CANCEL: the client's own deadline timer reports DEADLINE_EXCEEDED); grpc-js would fail it at
 *   once (see {@link MAX_TIMER_MS});
 * - any other value is left to grpc-js, whose reading of it is then exact.
 * @returns whether grpc-js handles the stream (false once it was answered).
 */
export function admitGrpcTimeout(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean {
  const value = headers['grpc-timeout'];
  if (value === undefined) return true;
  const timeoutMs = typeof value === 'string' ? parseGrpcTimeout(value) : undefined;
  if (timeoutMs === undefined) {
    answerTrailersOnly(
      stream,
      Status.INTERNAL,
      `malformed grpc-timeout ${JSON.stringify(String(value))}: expected 1 to 8 digits and one unit of H M S m u n`,
    );
    return false;
  }
  if (timeoutMs > MAX_TIMER_MS) {
    delete headers['grpc-timeout'];
    enforceLongDeadline(stream, Date.now() + timeoutMs);
  }
  return true;
}

/** Ends the call at `deadline` (ms since the epoch), with timers of at most {@link MAX_TIMER_MS} each. */
function enforceLongDeadline(stream: ServerHttp2Stream, deadline: number): void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const remaining = deadline - Date.now();
    if (remaining > 0) {
      // Unref'd: a call's deadline alone does not keep the process alive.
      timer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS)).unref();
      return;
    }
    if (stream.closed || stream.destroyed) return;
    if (!stream.headersSent) answerTrailersOnly(stream, Status.DEADLINE_EXCEEDED, 'Deadline exceeded');
    else stream.close(http2Constants.NGHTTP2_CANCEL);
  };
  arm();
  stream.once('close', () => clearTimeout(timer));
}

/** Answers a call with a status and nothing else (a trailers-only response). */
