import type { Http2Session, OutgoingHttpHeaders, ServerHttp2Stream, ServerStreamResponseOptions } from 'node:http2';

/**
 * Holds back the final status (trailers, or a trailers-only response) of a call whose client ended its request
 * stream until the client answered two PINGs (see `later`), so that a reset right behind that end reaches the stream
 * while it is still open.
 *
 * Why: a gRPC client that cancels a client-streaming or bidi call, or whose deadline passes, ends its side (an empty
 * DATA frame with END_STREAM) and resets the stream (RST_STREAM CANCEL) in two writes, one right after the other
 * (grpc-js's `Http2Stream.close(NGHTTP2_CANCEL)`: node:http2 flushes the end before the reset). A server in another
 * process may read the end alone: the handler sees a normal end of input and returns, grpc-js sends OK trailers, and
 * the stream, ended on both sides, closes with code NO_ERROR before the reset is read. nghttp2 then ignores the reset of
 * a closed stream and node:http2 reports nothing of it (no stream, no event), though the client, which cancelled before
 * it read those trailers, saw CANCELLED (or DEADLINE_EXCEEDED). Measured on Node 20 with a grpc-js client in another
 * process: 9 of 50 cancelled bidi calls, 16 of 50 bidi and 13 of 50 client-streaming calls past their deadline closed
 * OK that way (the race tests in test/runtime/call-accounting-races.test.ts: 8, 23 and 10 of 50 in another run). Held,
 * the reset closes the open stream with its code (`rstCode`, the `close` event) and the status is never sent: the
 * accounting records what the client saw (0 of 50 wrong in each race).
 *
 * Only calls with a request stream are held, and only once the client ended it: a unary or server-streaming client
 * sends its end with its request, long before any reset. The cost: the status of those calls reaches the client two
 * round trips later (at most {@link MAX_FINAL_STATUS_HOLD_MS}); their response messages are not delayed.
 */
export function holdFinalStatus(stream: ServerHttp2Stream): void {
  let inputEnded = false;
  stream.once('end', () => {
    inputEnded = true;
  });
  const sendTrailers = stream.sendTrailers.bind(stream);
  const respond = stream.respond.bind(stream);
  // Own properties on this stream only: node:http2's prototype methods stay as they are for every other stream.
  stream.sendTrailers = (headers: OutgoingHttpHeaders) => {
    if (!inputEnded) return sendTrailers(headers);
    later(stream, () => sendTrailers(headers));
  };
  stream.respond = (headers?: OutgoingHttpHeaders, options?: ServerStreamResponseOptions) => {
    // Only a trailers-only response (headers that end the stream) carries the final status.
    if (!inputEnded || !options?.endStream) return respond(headers, options);
    later(stream, () => respond(headers, options));
  };
}

/**
 * The longest a final status is held, in ms, when the client does not answer the PING: a peer that ignores pings
 * still gets its status.
 */
export const MAX_FINAL_STATUS_HOLD_MS = 1000;

/** Per HTTP/2 session: the sends waiting for the next PING round trip, and whether one is under way. */
interface RoundTrips {
  next: (() => void)[];
  inFlight: boolean;
}

const roundTrips = new WeakMap<Http2Session, RoundTrips>();

/**
 * Runs `send` after the hold, unless the stream closed meanwhile (node:http2 then throws on any send): once the client
 * answered two PINGs in a row, the first sent after now. A client resets the stream right after it ended it; node:http2
 * sends a reset queued while a write is under way after that write, and after the PING answers it read meanwhile, so
 * one round trip may end just before the reset: the second PING leaves only once the first was answered, and is
 * answered after the reset. One PING at a time per connection serves every stream waiting on it.
 */
function later(stream: ServerHttp2Stream, send: () => void): void {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (stream.closed || stream.destroyed) return;
    try {
      send();
    } catch {
      // Another answer went first (a long deadline's expiry, `grpc-timeout.ts`): node:http2 refuses a second one.
      stream.destroy();
    }
  };
  // Unref'd: a stream held when the process is done with everything else is not worth waiting for.
  const timer = setTimeout(run, MAX_FINAL_STATUS_HOLD_MS).unref();
  const session = stream.session;
  // A closed session (the client sent GOAWAY, as it does when it shuts its channel right after a cancel) still reads
  // frames and answers PINGs until its streams are done: only a destroyed one cannot.
  if (!session || session.destroyed) {
    run();
    return;
  }
  afterRoundTrip(session, () => (stream.closed || stream.destroyed ? run() : afterRoundTrip(session, run)));
}

/**
 * How long each of the two steps of a hold lasts, in ms, on a connection closing (GOAWAY sent or received: a server
 * draining, a client shutting its channel), where node:http2 cancels every PING at once: a time, not a round trip,
 * well within the 1 s a draining server gives an answered stream before it resets it (`request-stream-closer.ts`).
 */
export const CLOSING_HOLD_STEP_MS = 20;

/** Runs `then` once the client answered a PING sent after now (on a closing connection, after a fixed time). */
function afterRoundTrip(session: Http2Session, then: () => void): void {
  if (session.closed) {
    setTimeout(then, CLOSING_HOLD_STEP_MS).unref();
    return;
  }
  let trips = roundTrips.get(session);
  if (!trips) {
    trips = { next: [], inFlight: false };
    roundTrips.set(session, trips);
  }
  trips.next.push(then);
  if (!trips.inFlight) ping(session, trips);
}

/** Sends a PING for the sends waiting; those that join meanwhile wait for the next one. */
function ping(session: Http2Session, trips: RoundTrips): void {
  const batch = trips.next;
  trips.next = [];
  trips.inFlight = true;
  const settle = (error: Error | null) => {
    trips.inFlight = false;
    // A PING cancelled (ERR_HTTP2_PING_CANCEL): the connection started closing meanwhile, and a status sent now could
    // beat a reset still on its way; those wait a closing connection's step instead.
    for (const then of batch) {
      if (error) setTimeout(then, CLOSING_HOLD_STEP_MS).unref();
      else then();
    }
    if (trips.next.length > 0) ping(session, trips);
  };
  try {
    // False when too many PINGs are outstanding (maxOutstandingPings): each waiting send's bound applies then.
    if (!session.ping(settle)) trips.inFlight = false;
  } catch {
    settle(new Error('the session is gone')); // destroyed meanwhile: its streams are closed, nothing is sent
  }
}
