import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ServerError, Status, type ServerMiddleware } from 'nice-grpc';
import { describePrincipal } from '../auth/principal.js';
import type { RequestLogTable } from '../logstore/database.js';
import { attachCallInfo, type CallInfo } from './call-info.js';

/**
 * One finished call, as the logger hands it to its sink: a request-log row without its id (the columns and their
 * units are documented on {@link RequestLogTable}).
 */
export type LoggedCall = Omit<RequestLogTable, 'id'>;

/** Options of {@link createRequestLoggerMiddleware}. */
export interface RequestLoggerOptions {
  /** Where finished calls go; must not block (the log store only enqueues). */
  readonly record: (call: LoggedCall) => void;
  /** Changes a row before it is recorded, for example to blank error messages of some methods. Every call stays a row. */
  readonly redact?: (call: LoggedCall) => LoggedCall;
}

const KINDS = ['unary', 'serverStreaming', 'clientStreaming', 'bidiStreaming'] as const;

/**
 * Outermost server middleware: records every call that reaches a method (ones auth refuses too) with its status,
 * duration, principal, peer, and message counts and sizes (the bytes on the wire). Never records metadata, so credentials cannot leak.
 */
export function createRequestLoggerMiddleware(options: RequestLoggerOptions): ServerMiddleware {
  // Per method path, computed once: service and method names, and kind.
  const methods = new Map<string, { service: string; method: string; kind: string }>();
  const describe = (path: string, requestStream: boolean, responseStream: boolean) => {
    let entry = methods.get(path);
    if (!entry) {
      const [service = '', method = ''] = path.replace(/^\//, '').split('/');
      entry = { service, method, kind: KINDS[(requestStream ? 2 : 0) + (responseStream ? 1 : 0)]! };
      methods.set(path, entry);
    }
    return entry;
  };

  return async function* requestLogger(call, context) {
    const startedAt = Date.now();
    const start = performance.now();
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
        errorMessage = info.errorDetail ?? error.details;
      } else {
        statusCode = context.signal.aborted ? Status.CANCELLED : Status.UNKNOWN;
        errorMessage = error instanceof Error ? error.message : String(error);
      }
      throw error;
    } finally {
      if (context.signal.aborted && statusCode === Status.OK) statusCode = Status.CANCELLED;
      const logged: LoggedCall = {
        request_id: randomUUID(),
        started_at: startedAt,
        service,
        method,
        kind,
        status_code: statusCode,
        duration_ms: Math.round((performance.now() - start) * 1000) / 1000,
        principal: info.principal ? describePrincipal(info.principal) : null,
        api_key_id: info.principal?.apiKeyId ?? null,
        peer: context.peer || null,
        request_bytes: requestBytes,
        response_bytes: responseBytes,
        request_messages: requestMessages,
        response_messages: responseMessages,
        error_message: errorMessage,
      };
      options.record(options.redact ? options.redact(logged) : logged);
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
