import { performance } from 'node:perf_hooks';
import { ServerError, Status, type Metadata, type ServerMiddleware } from 'nice-grpc';
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

  return async function* requestLogger(call, context) {
    const startedAt = Date.now();
    const start = performance.now();
    const tracked = tracker ? tracker.claim(context.metadata) : direct;
    const { service, method, kind } = describe(call.method.path, call.requestStream, call.responseStream);
    const info: CallInfo = { principal: undefined, errorDetail: undefined };
    attachCallInfo(context.signal, info);
    let requestMessages = 0;
    let responseMessages = 0;
    let requestBytes = 0;
    let responseBytes = 0;
    let statusCode: Status = Status.OK;
    let errorMessage: string | null = null;
    try {
      let request = call.request;
      if (call.requestStream) {
        const source = call.request as AsyncIterable<unknown>;
        request = (async function* () {
          for await (const message of source) {
            requestMessages++;
            requestBytes += wireSize(message);
            yield message;
          }
        })() as typeof request;
      } else {
        requestMessages = 1;
        requestBytes = wireSize(call.request);
      }
      const next = call.next(request, context);
      if (call.responseStream) {
        for await (const response of next) {
          responseMessages++;
          responseBytes += wireSize(response);
          yield response;
        }
        return;
      }
      const response = yield* next;
      responseMessages = 1;
      responseBytes = wireSize(response);
      return response;
    } catch (error) {
      if (error instanceof ServerError) {
        statusCode = error.code;
        errorMessage = (info.errorDetailOf === error ? info.errorDetail : undefined) ?? error.details;
      } else {
        statusCode = context.signal.aborted ? Status.CANCELLED : Status.UNKNOWN;
        errorMessage = error instanceof Error ? error.message : String(error);
      }
      throw error;
    } finally {
      if (context.signal.aborted && statusCode === Status.OK) statusCode = Status.CANCELLED;
      const finished: CallRecord = {
        requestId: createRequestId(startedAt),
        startedAt,
        service,
        method,
        kind,
        statusCode,
        durationMs: Math.round((performance.now() - start) * 1000) / 1000,
        principal: info.principal ? describePrincipal(info.principal) : null,
        apiKeyId: info.principal?.apiKeyId ?? info.apiKeyId ?? null,
        peer: context.peer || null,
        requestBytes,
        responseBytes,
        requestMessages,
        responseMessages,
        errorMessage,
        traceId: traceIdOfCall(context.signal) ?? null,
        errorReason: info.errorReason ?? null,
        violationField: info.violationField ?? null,
      };
      // A call auth only counted (a throttled refusal) still ends in the accounting and telemetry, not in the store.
      tracked.finish(info.stored === false ? unstoredCall(finished) : finished);
    }
  };
}

/**
 * A message's size on the wire: the server hands the pipeline the bytes grpc-js read and takes back the bytes it
 * writes (see `toWireDefinition`), so the logger measures them instead of encoding messages again. 0 for a message of
 * a definition served as objects.
 */
function wireSize(message: unknown): number {
  return message instanceof Uint8Array ? message.byteLength : 0;
}
