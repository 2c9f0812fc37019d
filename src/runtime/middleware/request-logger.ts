import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ServerError, Status, type ServerMiddleware } from 'nice-grpc';
import { describePrincipal } from '../auth/principal.js';
import type { CallInfo, CallInfoContext } from './call-info.js';

/** One finished call, as the logger hands it to its sink (the log store's `record`). Times in ms. */
export interface LoggedCall {
  request_id: string;
  started_at: number;
  service: string;
  method: string;
  kind: string;
  status_code: number;
  duration_ms: number;
  principal: string | null;
  api_key_id: string | null;
  peer: string | null;
  request_bytes: number;
  response_bytes: number;
  request_messages: number;
  response_messages: number;
  error_message: string | null;
}

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
export function createRequestLoggerMiddleware(options: RequestLoggerOptions): ServerMiddleware<CallInfoContext> {
  return async function* requestLogger(call, context) {
    const startedAt = Date.now();
    const start = performance.now();
    const [service = '', method = ''] = call.method.path.replace(/^\//, '').split('/');
    const sizer = options.sizer?.(call.method.path);
    const info: CallInfo = { principal: undefined, errorDetail: undefined };
    const counts = { requestMessages: 0, responseMessages: 0, requestBytes: 0, responseBytes: 0 };
    let statusCode: number = Status.OK;
    let errorMessage: string | null = null;
    const countRequest = (message: unknown) => {
      counts.requestMessages++;
      if (sizer) counts.requestBytes += sizer.request(message);
    };
    const countResponse = (message: unknown) => {
      counts.responseMessages++;
      if (sizer) counts.responseBytes += sizer.response(message);
    };
    try {
      let request = call.request;
      if (call.requestStream) {
        const source = call.request as AsyncIterable<unknown>;
        request = (async function* () {
          for await (const message of source) {
            countRequest(message);
            yield message;
          }
        })() as typeof request;
      } else countRequest(call.request);
      const next = call.next(request, { ...context, callInfo: info });
      if (call.responseStream) {
        for await (const response of next) {
          countResponse(response);
          yield response;
        }
        return;
      }
      const response = yield* next;
      countResponse(response);
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
      const kind = KINDS[(call.requestStream ? 2 : 0) + (call.responseStream ? 1 : 0)]!;
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
        request_bytes: counts.requestBytes,
        response_bytes: counts.responseBytes,
        request_messages: counts.requestMessages,
        response_messages: counts.responseMessages,
        error_message: errorMessage,
      };
      options.record(options.redact ? options.redact(logged) : logged);
    }
  };
}
