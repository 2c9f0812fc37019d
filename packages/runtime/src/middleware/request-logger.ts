import { performance } from 'node:perf_hooks';
import { ServerError, Status, type CallContext, type Metadata, type ServerMiddleware } from 'nice-grpc';
import { describePrincipal } from '../auth/principal.js';
import type { CallKind, CallRecord } from '../logstore/call-record.js';
import { traceIdOfCall } from '../telemetry/trace-id.js';
import { attachCallInfo, isStoredCall, unstoredCall, type CallInfo } from './call-info.js';
import { createRequestId } from '../logstore/request-id.js';

/** Options of {@link createRequestLoggerMiddleware}. */
export interface RequestLoggerOptions {
  /**
   * Where finished calls go; must not block (the log store only enqueues). Calls auth only counted (throttled
   * refusals past the first per address per minute) do not come here.
   */
  readonly record: (call: CallRecord) => void;
  /**
   * Changes a record before it is recorded, for example to blank error messages of some methods. Every call that is
   * recorded stays a record.
   */
  readonly redact?: (call: CallRecord) => CallRecord;
  /**
   * The server's accounting of its HTTP/2 streams (`startServer` sets it): it settles each record's status with what
   * the client was sent, and records it through its own sink (`record` and `redact` here are then not used).
   * @internal
   */
  readonly tracker?: CallTracker;
}

/**
 * What the request logger needs of the server's accounting of calls: the call it is logging, found by the tag the
 * accounting put into the request metadata.
 * @internal
 */
export interface CallTracker {
  /**
   * The call tagged in `metadata` (the tag is removed, so stages and handlers after the logger never see it); one
   * that is only counted as in flight when the call carries no tag.
   */
  claim(metadata: Metadata): TrackedCall;
}

/** @internal One call the logger hands back to the {@link CallTracker} when it ends. */
export interface TrackedCall {
  /** Settles the status with what the client was sent, redacts and records, once. */
  finish(call: CallRecord): void;
}

const KINDS = ['unary', 'serverStreaming', 'clientStreaming', 'bidiStreaming'] as const satisfies readonly CallKind[];

/** Service, method and kind of a gRPC method path. */
export interface MethodOfPath {
  readonly service: string;
  readonly method: string;
  readonly kind: CallKind;
  /** The path as the client sent it (truncated), for a path the server does not serve only. */
  readonly rawPath?: string;
}

/** Service and method of a path `/pkg.Service/Method` (empty strings for parts it lacks). */
export function splitMethodPath(path: string, kind: CallKind): MethodOfPath {
  const [service = '', method = ''] = path.replace(/^\//, '').split('/');
  return { service, method, kind };
}

/** The kind of a method, from its stream flags. */
export function callKindOf(requestStream: boolean, responseStream: boolean): CallKind {
  return KINDS[(requestStream ? 2 : 0) + (responseStream ? 1 : 0)]!;
}

/**
 * Outermost server middleware: records every call that reaches a method (ones auth refuses too) with its status,
 * duration, principal, peer, message counts and sizes (the bytes on the wire), and the reason and first violated
 * field of an error's details (as error mapping found them). Never records metadata, so credentials cannot leak: a
 * call auth refused is stored with auth's reason as its error message and the presented API key's id (from its
 * non-secret prefix); of the calls auth's throttle refuses without verifying them, one per address per minute is
 * recorded, saying how many before it were only counted (`CallInfo.stored`). Under `startServer`, the server's
 * accounting also records the calls that never reach a method (unknown paths, oversize requests, expired deadlines)
 * and settles each status with what the client saw.
 */
export function createRequestLoggerMiddleware(options: RequestLoggerOptions): ServerMiddleware {
  const log = createRequestLog(options);
  return async function* requestLogger(call, context) {
    const open = log.begin(call, context);
    try {
      let request = call.request;
      if (call.requestStream) {
        const source = call.request as AsyncIterable<unknown>;
        request = (async function* () {
          for await (const message of source) {
            open.requestMessages++;
            open.requestBytes += wireSize(message);
            yield message;
          }
        })() as typeof request;
      } else {
        open.requestMessages = 1;
        open.requestBytes = wireSize(call.request);
      }
      const next = call.next(request, context);
      if (call.responseStream) {
        for await (const response of next) {
          open.responseMessages++;
          open.responseBytes += wireSize(response);
          yield response;
        }
        return;
      }
      const response = yield* next;
      open.responseMessages = 1;
      open.responseBytes = wireSize(response);
      return response;
    } catch (error) {
      log.fail(open, error, context.signal);
      throw error;
    } finally {
      log.end(open, context);
    }
  };
}

/** What the logger reads of a call: its method path and stream flags. @internal */
export interface CallShape {
  readonly method: { readonly path: string };
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** One call's record while it runs: what the logger counts, and how the call is ending. @internal */
export interface OpenCall {
  readonly startedAt: number;
  /** `performance.now()` at the start, for the duration. */
  readonly start: number;
  readonly tracked: TrackedCall;
  readonly method: MethodOfPath;
  readonly info: CallInfo;
  requestMessages: number;
  responseMessages: number;
  /** Bytes on the wire (see {@link wireSize}). */
  requestBytes: number;
  responseBytes: number;
  statusCode: Status;
  errorMessage: string | null;
}

/**
 * The request logger's per-call steps, apart from how a pipeline runs them: {@link createRequestLoggerMiddleware}
 * runs them around its stage, and the pipeline's unary path (`createPipeline`) inline, without a generator. @internal
 */
export interface RequestLog {
  /** Starts a call's record and attaches its {@link CallInfo} to `context.signal` for the inner stages. */
  begin(call: CallShape, context: CallContext): OpenCall;
  /** The call ends with `error` (thrown on, by the caller). */
  fail(open: OpenCall, error: unknown, signal: AbortSignal): void;
  /** Records the call, once, whichever way it ended. */
  end(open: OpenCall, context: CallContext): void;
}

/** The steps of {@link createRequestLoggerMiddleware}, for the pipeline's unary path. @internal */
export function createRequestLog(options: RequestLoggerOptions): RequestLog {
  // Per method path, computed once: service and method names, and kind.
  const methods = new Map<string, MethodOfPath>();
  const describe = (path: string, requestStream: boolean, responseStream: boolean) => {
    let entry = methods.get(path);
    if (!entry) {
      entry = splitMethodPath(path, callKindOf(requestStream, responseStream));
      methods.set(path, entry);
    }
    return entry;
  };
  const { tracker, redact, record } = options;
  const direct: TrackedCall = {
    finish: (call) => {
      if (isStoredCall(call)) record(redact ? redact(call) : call);
    },
  };
  return {
    begin(call, context) {
      const startedAt = Date.now();
      const start = performance.now();
      const tracked = tracker ? tracker.claim(context.metadata) : direct;
      const method = describe(call.method.path, call.requestStream, call.responseStream);
      const info: CallInfo = { principal: undefined, errorDetail: undefined };
      attachCallInfo(context.signal, info);
      return {
        startedAt,
        start,
        tracked,
        method,
        info,
        requestMessages: 0,
        responseMessages: 0,
        requestBytes: 0,
        responseBytes: 0,
        statusCode: Status.OK,
        errorMessage: null,
      };
    },
    fail(open, error, signal) {
      if (error instanceof ServerError) {
        open.statusCode = error.code;
        open.errorMessage = (open.info.errorDetailOf === error ? open.info.errorDetail : undefined) ?? error.details;
      } else {
        open.statusCode = signal.aborted ? Status.CANCELLED : Status.UNKNOWN;
        open.errorMessage = error instanceof Error ? error.message : String(error);
      }
    },
    end(open, context) {
      const { info, startedAt } = open;
      const statusCode = context.signal.aborted && open.statusCode === Status.OK ? Status.CANCELLED : open.statusCode;
      const finished: CallRecord = {
        requestId: createRequestId(startedAt),
        startedAt,
        service: open.method.service,
        method: open.method.method,
        kind: open.method.kind,
        statusCode,
        durationMs: Math.round((performance.now() - open.start) * 1000) / 1000,
        principal: info.principal ? describePrincipal(info.principal) : null,
        apiKeyId: info.principal?.apiKeyId ?? info.apiKeyId ?? null,
        peer: context.peer || null,
        requestBytes: open.requestBytes,
        responseBytes: open.responseBytes,
        requestMessages: open.requestMessages,
        responseMessages: open.responseMessages,
        errorMessage: open.errorMessage,
        traceId: traceIdOfCall(context.signal) ?? null,
        errorReason: info.errorReason ?? null,
        violationField: info.violationField ?? null,
      };
      // A call auth only counted (a throttled refusal) still ends in the accounting and telemetry, not in the store.
      open.tracked.finish(info.stored === false ? unstoredCall(finished) : finished);
    },
  };
}

/**
 * A message's size on the wire: the server hands the pipeline the bytes grpc-js read and takes back the bytes it
 * writes (see `toWireDefinition`), so the logger measures them instead of encoding messages again. 0 for a message of
 * a definition served as objects.
 */
export function wireSize(message: unknown): number {
  return message instanceof Uint8Array ? message.byteLength : 0;
}
