import type { Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { constants as http2Constants } from 'node:http2';
import { Status } from 'nice-grpc';
import { throttledFailure, type AuthThrottle } from '../auth/auth-throttle.js';
import type { DefenceCounters } from './defence-counters.js';
import { goAwayAndClose } from './connection-key.js';
import { answerTrailersOnly } from './trailers-only.js';
import { markUnstored } from './unstored-streams.js';

/**
 * Early refusals one connection may get before it is sent GOAWAY ENHANCE_YOUR_CALM `too_many_failed_authentications`
 * and its address is refused new connections for `streamResets.penaltyMs`: a client that ignores RESOURCE_EXHAUSTED
 * and its `grpc-retry-pushback-ms` this many times in a row is flooding, and each of its calls would still cost the
 * server a stream.
 */
export const MAX_EARLY_REFUSALS_PER_CONNECTION = 100;

/**
 * An `admit` step (`observeHttp2Servers`) that refuses, at the HTTP/2 stream and before grpc-js builds a call, a call
 * presenting a built-in credential (`x-api-key`, `authorization: Bearer`) from an address the failed-authentication
 * throttle already refuses, unless it is the address's sampled row ({@link AuthThrottle.refuseEarly}):
 * RESOURCE_EXHAUSTED with the same message and `grpc-retry-pushback-ms` trailer the auth stage sends, counted
 * `authThrottled`, no row. A flood of guesses then costs the server a header check per call instead of grpc-js's call,
 * the pipeline and a row, so the legitimate clients sharing its CPU keep their latency. A connection that gets
 * {@link MAX_EARLY_REFUSALS_PER_CONNECTION} of them is sent GOAWAY and its address penalised (`penalise`). Calls with
 * a team's own authenticator's credential are throttled in the auth stage, as before.
 */
export function createEarlyThrottle(
  throttle: AuthThrottle,
  defences: DefenceCounters,
  penalise: (address: string | undefined) => void,
): (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean {
  // Early refusals per connection, to end the connections that keep guessing.
  const refusals = new WeakMap<Http2Session, number>();
  return (stream, headers) => {
    // The credentials the built-in authenticators claim: an API key, a Bearer token (another scheme, such as Basic,
    // is the service's own `resolvePrincipal`'s, which the auth stage does not throttle either).
    const authorization = headers.authorization;
    const bearer = typeof authorization === 'string' && /^bearer /i.test(authorization);
    if (headers['x-api-key'] === undefined && !bearer) return true;
    const socket = stream.session?.socket;
    if (!socket?.remoteAddress) return true;
    const verdict = throttle.refuseEarly(`${socket.remoteAddress}:${socket.remotePort ?? 0}`);
    if (!verdict) return true;
    defences.count('authThrottled');
    markUnstored(stream);
    answerTrailersOnly(stream, Status.RESOURCE_EXHAUSTED, throttledFailure(verdict).message, {
      'grpc-retry-pushback-ms': String(verdict.retryAfterMs),
    });
    const session = stream.session;
    if (session) {
      const refused = (refusals.get(session) ?? 0) + 1;
      refusals.set(session, refused);
      if (refused === MAX_EARLY_REFUSALS_PER_CONNECTION) {
        penalise(socket.remoteAddress);
        goAwayAndClose(session, http2Constants.NGHTTP2_ENHANCE_YOUR_CALM, 'too_many_failed_authentications', stream.id);
      }
    }
    return false;
  };
}
