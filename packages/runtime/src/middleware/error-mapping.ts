import { ServerError, Status, type CallContext, type Metadata, type ServerMiddleware } from 'nice-grpc';
import { RichServerError } from '../error-details/rich-errors.js';
import { encodeStatusDetailsWithin } from '../error-details/status-details.js';
import { DomainError } from '../errors.js';
import { STATUS_DETAILS_TRAILER, hasErrorDetails, type ErrorDetails } from '../vocabulary/error-details.js';
import { callInfoOf } from './call-info.js';

/** Options of {@link createErrorMappingMiddleware}. */
export interface ErrorMappingOptions {
  /**
   * Called with every error that is not a `ServerError` (a bug or an unexpected failure in a handler), and the gRPC
   * method path such as `/auth.v1.AuthService/Login`. The client only sees INTERNAL with a generic message.
   * @defaultValue writes the error and its stack to stderr
   */
  readonly onUnexpectedError?: (error: unknown, methodPath: string) => void;
  /**
   * Whether a `debugInfo` detail (a stack trace, google.rpc.DebugInfo) may reach the client; when `false` it is
   * dropped from the details sent, as it is meant for the service's own developers.
   * @defaultValue false
   */
  readonly debugInfo?: boolean;
}

/** The message clients get for INTERNAL: details stay on the server. */
export const INTERNAL_ERROR_MESSAGE = 'internal server error';

/**
 * Server middleware that maps handler errors to gRPC statuses at one boundary:
 * a `ServerError` passes through unchanged; a {@link DomainError} (NotFoundError, InvalidArgumentError, ...) becomes
 * its status with its message (a `RichServerError` when it has details); the details of either (`DomainError.details`,
 * `RichServerError.errorDetails`, less `debugInfo` unless {@link ErrorMappingOptions.debugInfo}) go to the client as a
 * google.rpc.Status in `grpc-status-details-bin`; an abort (the client cancelled, or shutdown) becomes CANCELLED;
 * anything else becomes INTERNAL with {@link INTERNAL_ERROR_MESSAGE}, and the full error goes to `onUnexpectedError`.
 */
export function createErrorMappingMiddleware(options: ErrorMappingOptions = {}): ServerMiddleware {
  const mapError = createErrorMapper(options);
  return async function* errorMapping(call, context) {
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      throw mapError(error, call.method.path, context);
    }
  };
}

/**
 * What a stage of error handling does with an error of a call to `methodPath`, apart from how a pipeline runs it:
 * the pipeline's unary path calls it inline. @internal
 */
export type ErrorStep<Result> = (error: unknown, methodPath: string, context: CallContext) => Result;

/**
 * The step of {@link createErrorMappingMiddleware}: the status the error becomes (to be thrown), its details set in
 * the trailer. @internal
 */
export function createErrorMapper(options: ErrorMappingOptions = {}): ErrorStep<ServerError> {
  const report = options.onUnexpectedError ?? reportToStderr;
  const debugInfo = options.debugInfo ?? false;
  return (error, methodPath, context) => {
    const serverError = toServerError(error, methodPath, context.signal, report);
    sendErrorDetails(context, serverError, methodPath, debugInfo, report);
    return serverError;
  };
}

/**
 * Server middleware that sends the details of a `RichServerError` thrown by stages outside error mapping — auth's
 * authenticators and hooks, the service's own code run by auth, which map their errors with {@link toServerError} —
 * in `grpc-status-details-bin`, as error mapping does for handlers. An error whose details an inner error mapping
 * already sent (or took back) passes unchanged. Goes right outside auth.
 */
export function createOuterErrorDetailsMiddleware(options: ErrorMappingOptions = {}): ServerMiddleware {
  const sendOuterDetails = createOuterErrorDetails(options);
  return async function* outerErrorDetails(call, context) {
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      sendOuterDetails(error, call.method.path, context);
      throw error;
    }
  };
}

/** The step of {@link createOuterErrorDetailsMiddleware}: sends the error's details if no inner stage did. @internal */
export function createOuterErrorDetails(options: ErrorMappingOptions = {}): ErrorStep<void> {
  const report = options.onUnexpectedError ?? reportToStderr;
  const debugInfo = options.debugInfo ?? false;
  return (error, methodPath, context) => {
    if (error instanceof RichServerError && !detailsSent.has(context.trailer)) {
      sendErrorDetails(context, error, methodPath, debugInfo, report);
    }
  };
}

/** The rich error model's details of a thrown error: a `DomainError`'s or a `RichServerError`'s, else none. */
export function errorDetailsOf(error: unknown): ErrorDetails | undefined {
  if (error instanceof DomainError) return error.details;
  if (error instanceof RichServerError) return error.errorDetails;
  return undefined;
}

/** The trailers (one object per call) whose `grpc-status-details-bin` error mapping set. */
const detailsSent = new WeakSet<Metadata>();

/**
 * Sets `grpc-status-details-bin` (a google.rpc.Status with the same code and message as the call's status) when
 * `status` has details to send, and tells the request logger the error's reason and first violated field. A status
 * without details takes back what an inner error mapping set for another status (error mapping also runs around the
 * service's own middleware, which may catch one error and throw another): grpc-go and grpc-java clients take the
 * code and message of `grpc-status-details-bin` over `grpc-status`, so it must never describe another status.
 */
function sendErrorDetails(
  context: CallContext,
  status: ServerError,
  methodPath: string,
  debugInfo: boolean,
  report: (error: unknown, methodPath: string) => void,
): void {
  const details = errorDetailsOf(status);
  const sent = !hasErrorDetails(details) || debugInfo || details.debugInfo === undefined ? details : withoutDebugInfo(details);
  if (!hasErrorDetails(sent)) {
    forgetErrorDetails(context);
    return;
  }
  let bytes: Uint8Array | undefined;
  try {
    bytes = encodeStatusDetailsWithin(status.code, status.details, sent);
  } catch (error) {
    // The status still goes out, without details; the encoding failure is a bug of whoever built the details.
    report(new Error(`cannot encode the error details of ${Status[status.code]}`, { cause: error }), methodPath);
  }
  if (!bytes) {
    forgetErrorDetails(context);
    return;
  }
  context.trailer.set(STATUS_DETAILS_TRAILER, bytes);
  detailsSent.add(context.trailer);
  const info = callInfoOf(context.signal);
  if (info) {
    info.errorReason = sent.errorInfo?.reason || undefined;
    // A rule of the message itself has no field (''): nothing to store.
    info.violationField = sent.badRequest?.fieldViolations[0]?.field || undefined;
  }
}

/**
 * Takes back the `grpc-status-details-bin` an error mapping set for this call, and the reason and field it gave the
 * logger, because the call now ends with another status. A trailer the handler set itself is left alone.
 * Also for stages outside error mapping that replace a call's error (the terminator's UNAVAILABLE at shutdown).
 */
export function forgetErrorDetails(context: Pick<CallContext, 'trailer' | 'signal'>): void {
  if (!detailsSent.has(context.trailer)) return;
  detailsSent.delete(context.trailer);
  context.trailer.delete(STATUS_DETAILS_TRAILER);
  const info = callInfoOf(context.signal);
  if (info) {
    info.errorReason = undefined;
    info.violationField = undefined;
  }
}

function withoutDebugInfo(details: ErrorDetails): ErrorDetails {
  return Object.fromEntries(Object.entries(details).filter(([kind]) => kind !== 'debugInfo'));
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
  // With its details, so the service's own middleware (outside error mapping) and outer stages see them too.
  if (error instanceof DomainError)
    return hasErrorDetails(error.details)
      ? new RichServerError(error.status, error.message, error.details)
      : new ServerError(error.status, error.message);
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
