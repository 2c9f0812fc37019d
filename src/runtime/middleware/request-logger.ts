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

/** Sizes of a method's messages in bytes (their protobuf encoding). */
export interface MessageSizer {
  request(message: unknown): number;
  response(message: unknown): number;
}

/** Options of {@link createRequestLoggerMiddleware}. */
export interface RequestLoggerOptions {
  /** Where finished calls go; must not block (the log store only enqueues). */
  readonly record: (call: LoggedCall) => void;
  /** Sizes of the messages of a method path; bytes are recorded as 0 when it returns undefined. */
  readonly sizer?: (path: string) => MessageSizer | undefined;
  /** Changes a row before it is recorded, for example to blank error messages of some methods. Every call stays a row. */
  readonly redact?: (call: LoggedCall) => LoggedCall;
}

const KINDS = ['unary', 'serverStreaming', 'clientStreaming', 'bidiStreaming'] as const;

/**
 * Outermost server middleware: records every call that reaches a method (ones auth refuses too) with its status,
 * duration, principal, peer, and message counts and sizes. Never records metadata, so credentials cannot leak.
 */
export function createRequestLoggerMiddleware(options: RequestLoggerOptions): ServerMiddleware {
  // Per method path, computed once: service and method names, kind, and the sizer.
  const methods = new Map<string, { service: string; method: string; kind: string; sizer: MessageSizer | undefined }>();
  const describe = (path: string, requestStream: boolean, responseStream: boolean) => {
    let entry = methods.get(path);
    if (!entry) {
      const [service = '', method = ''] = path.replace(/^\//, '').split('/');
      entry = { service, method, kind: KINDS[(requestStream ? 2 : 0) + (responseStream ? 1 : 0)]!, sizer: options.sizer?.(path) };
      methods.set(path, entry);
    }
    return entry;
  };

  return async function* requestLogger(call, context) {
    const startedAt = Date.now();
    const start = performance.now();
    const { service, method, kind, sizer } = describe(call.method.path, call.requestStream, call.responseStream);
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
            if (sizer) requestBytes += sizer.request(message);
            yield message;
          }
        })() as typeof request;
      } else {
        requestMessages = 1;
        if (sizer) requestBytes = sizer.request(call.request);
      }
      const next = call.next(request, context);
      if (call.responseStream) {
        for await (const response of next) {
          responseMessages++;
          if (sizer) responseBytes += sizer.response(response);
          yield response;
        }
        return;
      }
      const response = yield* next;
      responseMessages = 1;
      if (sizer) responseBytes = sizer.response(response);
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
