import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { constants as http2Constants } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { Status, type Metadata } from 'nice-grpc';
import type { CallRecord } from '../logstore/call-record.js';
import { createRequestId } from '../logstore/request-id.js';
import { observeHttp2Servers } from './grpc-js-patches.js';
import { unknownMethodOf } from './unknown-method.js';
import { holdFinalStatus } from './final-status-hold.js';
import { isUnstored } from './unstored-streams.js';
import { parseGrpcTimeout } from './grpc-timeout.js';
import type { DefenceCounters } from './defence-counters.js';
import { splitMethodPath, type CallTracker, type MethodOfPath, type TrackedCall } from '../middleware/request-logger.js';

/**
 * Request metadata key that carries a stream's accounting id from the HTTP/2 stream to the request logger. Set on
 * every logged call (over any value a client sent) and removed by the logger before auth and handlers run.
 */
export const CALL_TAG_HEADER = 'x-grpcforge-call';

/**
 * How close to its deadline a call the client reset counts as DEADLINE_EXCEEDED, in ms: the client resets at its
 * deadline, which the server sees later by the request's latency (it counts `grpc-timeout` from the arrival), so the
 * margin must cover a loaded host's latency: up to 250 ms, and at most half the timeout, so a short call's deliberate
 * cancel still reads CANCELLED.
 */
const MAX_DEADLINE_TOLERANCE_MS = 250;

/** Options of {@link createCallAccounting}. */
export interface CallAccountingOptions {
  /** The log store's sink. */
  readonly record: (call: CallRecord) => void;
  readonly redact?: ((call: CallRecord) => CallRecord) | undefined;
  /** Methods served through the request logger, by path. */
  readonly logged: ReadonlyMap<string, MethodOfPath>;
  /** Every path the server serves (logged or not, such as health and reflection): the others are unknown. */
  readonly served: ReadonlySet<string>;
  /** The server's defence counters: streams the client reset before a handler took them are counted there. */
  readonly defences: DefenceCounters;
}

/** The server's accounting of calls: the logger's tracker, the stream observer, and the wait at shutdown. */
export interface CallAccounting extends CallTracker {
  /**
   * Observes the HTTP/2 streams of the grpc-js server constructed with `grpcServerOptions` (call before `listen`,
   * once `startServer` made sure the grpc-js patch it needs applied: see `grpc-js-patches.ts`).
   */
  observe(grpcServerOptions: object): void;
  /**
   * Resolves once every call that started has been recorded, or after `timeoutMs`; the calls still running then are
   * recorded as they are (CANCELLED, without the logger's details), so none is lost.
   */
  waitUntilRecorded(timeoutMs: number): Promise<void>;
}

/**
 * Accounts for every call a server receives, with the status its client saw:
 * - a call that reaches the request logger is recorded once the logger finished and its HTTP/2 stream closed, with
 *   the status settled against the stream: CANCELLED when the client reset it (even if the handler's input had
 *   ended normally and it returned OK), what grpc-js sent when grpc-js answered first (DEADLINE_EXCEEDED when its
 *   deadline timer fired, RESOURCE_EXHAUSTED for an oversize message), DEADLINE_EXCEEDED once the deadline passed;
 * - a call that never reaches it (an unknown service or method, a unary request over the size limit or past its
 *   deadline before it arrived whole, a malformed `grpc-timeout`) is recorded when its stream closes, under its
 *   method, or for a path not served under its bucket with kind `unknown` and the raw path (`unknown-method.ts`);
 *   unless the client reset it before any status was sent (the rapid-reset pattern): nothing ran and nobody saw a
 *   status, so it is counted in {@link CallAccountingOptions.defences} (`streamsReset`), not stored.
 *
 * The final status of a client-streaming or bidi call whose client ended its input is held until the client answered
 * two PINGs (`final-status-hold.ts`): a client that cancels, or whose deadline passes, ends its side and resets the
 * stream right after, and the reset must reach the stream while it is open for the accounting to see it. The deadline
 * is `grpc-timeout` read as grpc-js reads it (`grpc-timeout.ts`, shared with the server's admit step).
 *
 * grpc-js answers unknown paths before any server interceptor runs and offers no public hook for them, so the
 * accounting listens to the HTTP/2 server's `stream` event, which it gets from the patch of grpc-js's
 * `Server.prototype._setupHandlers` (`grpc-js-patches.ts`: called once per bound address; inert for other servers).
 * The stream and the logger's call are matched by {@link CALL_TAG_HEADER}. Per call this costs a listener, a
 * metadata entry and a `close` listener (~1-1.5 µs measured piecewise), not a grpc-js interceptor (tens of µs).
 */
export function createCallAccounting(options: CallAccountingOptions): CallAccounting {
  const { logged, served, redact } = options;
  const emit = (call: CallRecord) => options.record(redact ? redact(call) : call);
  const entries = new Map<string, Entry>();
  const inFlight = new Set<Entry>();
  let waiters: (() => void)[] = [];
  let nextId = 0;

  /** Takes an entry out of the accounting, with its record (none for a stream counted instead). */
  const done = (entry: Entry, call: CallRecord | undefined) => {
    if (entry.recorded) return;
    entry.recorded = true;
    inFlight.delete(entry);
    if (entry.id !== undefined) entries.delete(entry.id);
    if (call) emit(call);
    if (inFlight.size === 0 && waiters.length > 0) {
      const resolve = waiters;
      waiters = [];
      for (const waiter of resolve) waiter();
    }
  };

  const recordUnreached = (entry: Entry, statusCode: number, errorMessage: string | null) => {
    const { service, method, kind, rawPath } = entry.method;
    done(entry, {
      requestId: createRequestId(entry.startedAt),
      startedAt: entry.startedAt,
      service,
      method,
      kind,
      statusCode,
      durationMs: Math.round(((entry.closedAt ?? performance.now()) - entry.start) * 1000) / 1000,
      principal: null,
      apiKeyId: null,
      peer: entry.peer,
      requestBytes: 0,
      responseBytes: 0,
      requestMessages: 0,
      responseMessages: 0,
      errorMessage,
      rawPath: rawPath ?? null,
    });
  };

  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const path = headers[':path'];
    const contentType = headers['content-type'];
    // grpc-js answers other content types with HTTP 415, not with a gRPC status: not a call.
    if (typeof path !== 'string' || typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) return;
    let method = logged.get(path);
    if (!method) {
      if (served.has(path)) return; // health, reflection: served outside the logger, not recorded
      method = unknownMethodOf(path, served);
    }
    const entry = new Entry(method, stream, headers['grpc-timeout']);
    if (method.kind === 'clientStreaming' || method.kind === 'bidiStreaming') holdFinalStatus(stream);
    // The stream forgets its session when it closes; the peer is read then only for calls the logger does not see.
    const session = stream.session;
    inFlight.add(entry);
    if (method.kind !== 'unknown') {
      entry.id = String(++nextId);
      entries.set(entry.id, entry);
      headers[CALL_TAG_HEADER] = entry.id;
    }
    stream.once('close', () => {
      entry.closedAt = performance.now();
      if (!entry.claimed) entry.peer = peerOf(session);
      if (entry.logged) recordLogged(entry, entry.logged);
      if (entry.claimed) return; // claimed and running: recorded when the logger finishes
      // The logger of a call whose input just completed starts a few microtasks later; let it claim the call first.
      setImmediate(() => {
        if (entry.claimed) return;
        // Answered and counted by a defence (a throttled guess): no row.
        if (isUnstored(stream)) {
          done(entry, undefined);
          return;
        }
        if (stream.rstCode !== http2Constants.NGHTTP2_NO_ERROR && isRapidReset(entry, stream)) {
          options.defences.count('streamsReset');
          done(entry, undefined);
          return;
        }
        const outcome = streamOutcome(entry, stream);
        recordUnreached(entry, outcome?.code ?? Status.CANCELLED, outcome?.message ?? CLOSED_MESSAGE);
      });
    });
  };

  /** Records what the logger saw, with the status the stream settled. */
  const recordLogged = (entry: Entry, call: CallRecord) => {
    const outcome = entry.stream ? streamOutcome(entry, entry.stream) : undefined;
    if (outcome === undefined || outcome.code === call.statusCode) done(entry, call);
    // The client got another status than the handler's error, so not its details either: no reason, no violation.
    else
      done(entry, {
        ...call,
        statusCode: outcome.code,
        errorMessage: outcome.message ?? call.errorMessage,
        errorReason: null,
        violationField: null,
      });
  };

  const untracked = (): TrackedCall => {
    const entry = new Entry(splitMethodPath('', 'unknown'), undefined, undefined);
    entry.claimed = true;
    inFlight.add(entry);
    return { finish: (call) => done(entry, call) };
  };

  return {
    claim(metadata: Metadata): TrackedCall {
      const id = metadata.get(CALL_TAG_HEADER);
      if (id === undefined) return untracked();
      metadata.delete(CALL_TAG_HEADER);
      const entry = entries.get(id);
      if (!entry) return untracked();
      entry.claimed = true;
      return {
        finish(call) {
          // Until its stream closed, the client may still reset a call whose handler returned: settled then.
          if (entry.closedAt === undefined) entry.logged = call;
          else recordLogged(entry, call);
        },
      };
    },
    observe(grpcServerOptions) {
      // Prepended: the tag must be in the headers before grpc-js turns them into the call's metadata.
      observeHttp2Servers(grpcServerOptions, { observe: (http2Server) => http2Server.prependListener('stream', onStream) });
    },
    async waitUntilRecorded(timeoutMs) {
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => waiters.push(resolve)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
      }
      for (const entry of [...inFlight]) {
        if (entry.logged) recordLogged(entry, entry.logged);
        else if (entry.stream) recordUnreached(entry, Status.CANCELLED, 'the call was still running when the server stopped');
      }
    },
  };
}

/** One call's stream, from its arrival until it is recorded. */
class Entry {
  /** The accounting id in the request metadata; none for unknown paths (nothing claims them). */
  id: string | undefined = undefined;
  readonly startedAt = Date.now();
  readonly start = performance.now();
  /** The deadline the client sent (`grpc-timeout`), ms since the epoch; Infinity without one. */
  readonly deadline: number;
  /** See {@link MAX_DEADLINE_TOLERANCE_MS}. */
  readonly deadlineTolerance: number;
  /** Whether the request logger took the call over. */
  claimed = false;
  /** What the logger recorded, when it finished before the stream closed. */
  logged: CallRecord | undefined = undefined;
  recorded = false;
  closedAt: number | undefined = undefined;
  peer: string | null = null;

  constructor(
    readonly method: MethodOfPath,
    readonly stream: ServerHttp2Stream | undefined,
    timeout: string | string[] | undefined,
  ) {
    // Read as grpc-js reads it (the server's admit step answers a malformed value before grpc-js sees it).
    const timeoutMs = (typeof timeout === 'string' ? parseGrpcTimeout(timeout) : undefined) ?? Infinity;
    this.deadline = this.startedAt + timeoutMs;
    this.deadlineTolerance = Math.min(MAX_DEADLINE_TOLERANCE_MS, timeoutMs / 2);
  }
}

/**
 * The status the client saw, as far as the stream tells: when the client reset it, DEADLINE_EXCEEDED if that was at
 * its deadline (clients reset the stream when their deadline passes), the error status the server had written whole
 * before (the writable side finished, trailers included: a client still sending when it reads the status resets its
 * side, as Go's HTTP/2 client, buf curl's, does), CANCELLED otherwise (also after an OK status, which may be the
 * handler's answer to the client ending its requests just before it reset); else the status grpc-js sent when it
 * sent one, DEADLINE_EXCEEDED once the deadline has passed; `undefined` while the call runs within its deadline.
 */
function streamOutcome(entry: Entry, stream: ServerHttp2Stream): { code: number; message: string | null } | undefined {
  const now = Date.now();
  // NO_ERROR (0) while the stream is open and after it closed normally.
  if (stream.rstCode !== http2Constants.NGHTTP2_NO_ERROR) {
    if (now >= entry.deadline - entry.deadlineTolerance) return { code: Status.DEADLINE_EXCEEDED, message: DEADLINE_MESSAGE };
    const sent = stream.writableFinished ? sentStatus(stream) : undefined;
    if (sent && sent.code !== (Status.OK as number)) return sent;
    return { code: Status.CANCELLED, message: 'the client cancelled the call' };
  }
  const sent = sentStatus(stream);
  if (sent) return sent;
  if (now >= entry.deadline) return { code: Status.DEADLINE_EXCEEDED, message: DEADLINE_MESSAGE };
  if (stream.closed || stream.destroyed) return { code: Status.CANCELLED, message: CLOSED_MESSAGE };
  return undefined;
}

/**
 * Whether a stream the client reset before any handler took it is the rapid-reset pattern, counted (`streamsReset`)
 * instead of stored: nothing ran and nobody saw a status. Either no status was sent (HEADERS, then RST_STREAM at
 * once), or the only one sent is grpc-js's answer to a request of a served method that ended without a message
 * (UNIMPLEMENTED, which for a served method means nothing else): node:http2's own client ends a stream (an empty
 * END_STREAM) before it resets it, so `close(NGHTTP2_CANCEL)` right after `request()` looks like that. A status a
 * client may have read and then reset after, as Go's HTTP/2 client does while still sending (RESOURCE_EXHAUSTED for an
 * oversize request, DEADLINE_EXCEEDED, UNIMPLEMENTED for a path not served), keeps its row.
 */
function isRapidReset(entry: Entry, stream: ServerHttp2Stream): boolean {
  // Reset at its deadline (a slow upload, the client's timer ahead of the server's): DEADLINE_EXCEEDED, a row.
  if (Date.now() >= entry.deadline - entry.deadlineTolerance) return false;
  const sent = sentStatus(stream);
  return sent === undefined || (sent.code === (Status.UNIMPLEMENTED as number) && entry.method.kind !== 'unknown');
}

const DEADLINE_MESSAGE = 'the deadline passed';
const CLOSED_MESSAGE = 'the stream closed before a status was sent';

/** The gRPC status in the trailers sent, or in the headers of a trailers-only response. */
function sentStatus(stream: ServerHttp2Stream): { code: number; message: string | null } | undefined {
  // Typed as always present, but undefined until sent.
  const trailers =
    (stream.sentTrailers as IncomingHttpHeaders | undefined) ?? (stream.sentHeaders as IncomingHttpHeaders | undefined);
  const status = trailers?.['grpc-status'];
  if (status === undefined) return undefined;
  const message = trailers!['grpc-message'];
  // Decoded only when read: for most calls the status agrees with the logger's and the message is not needed.
  return {
    code: Number(status),
    get message() {
      return typeof message === 'string' && message ? safeDecodeURI(message) : null;
    },
  };
}

function safeDecodeURI(text: string): string {
  try {
    return decodeURI(text);
  } catch {
    return text;
  }
}

/** `address:port` of a stream's peer, as grpc-js reports it to handlers; null when the socket is gone. */
function peerOf(session: ServerHttp2Stream['session']): string | null {
  const socket = session?.socket;
  if (!socket?.remoteAddress) return null;
  return socket.remotePort ? `${socket.remoteAddress}:${socket.remotePort}` : socket.remoteAddress;
}
