import { ServerError, Status, type ServerMiddleware } from 'nice-grpc';
import { DomainError } from '../errors.js';
import { callInfoOf } from './call-info.js';

/** Options of {@link createErrorMappingMiddleware}. */
export interface ErrorMappingOptions {
  /**
   * Called with every error that is not a `ServerError` (a bug or an unexpected failure in a handler), and the gRPC
   * method path such as `/auth.v1.AuthService/Login`. The client only sees INTERNAL with a generic message.
   * @defaultValue writes the error and its stack to stderr
   */
  readonly onUnexpectedError?: (error: unknown, methodPath: string) => void;
}

/** The message clients get for INTERNAL: details stay on the server. */
export const INTERNAL_ERROR_MESSAGE = 'internal server error';

/**
 * Server middleware that maps handler errors to gRPC statuses at one boundary:
 * a `ServerError` passes through unchanged; a {@link DomainError} (NotFoundError, InvalidArgumentError, ...) becomes
 * its status with its message; an abort (the client cancelled, or shutdown) becomes CANCELLED;
 * anything else becomes INTERNAL with {@link INTERNAL_ERROR_MESSAGE}, and the full error goes to `onUnexpectedError`.
 */
export function createErrorMappingMiddleware(options: ErrorMappingOptions = {}): ServerMiddleware {
  const report = options.onUnexpectedError ?? reportToStderr;
  return async function* errorMapping(call, context) {
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      throw toServerError(error, call.method.path, context.signal, report);
    }
  };
}

/**
 * The status a client gets for an error thrown on the server, by the rules of {@link createErrorMappingMiddleware}.
 * Also used by auth for errors of a service's own hooks, which run outside error mapping.
 * @param report receives errors that become INTERNAL. @defaultValue writes them to stderr
 */
export function toServerError(
  error: unknown,
  methodPath: string,
  signal: AbortSignal,
  report: (error: unknown, methodPath: string) => void = reportToStderr,
): ServerError {
  if (error instanceof ServerError) return error;
  if (error instanceof DomainError) return new ServerError(error.status, error.message);
  if (isAbort(error) || signal.aborted) return new ServerError(Status.CANCELLED, 'the call was cancelled');
  report(error, methodPath);
  // The request logger stores the real message; the client only gets the generic one.
  const info = callInfoOf(signal);
  const internal = new ServerError(Status.INTERNAL, INTERNAL_ERROR_MESSAGE);
  if (info) {
    info.errorDetail = error instanceof Error ? error.message : String(error);
    info.errorDetailOf = internal;
  }
  return internal;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function reportToStderr(error: unknown, methodPath: string): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`error in ${methodPath}: ${detail}\n`);
}
