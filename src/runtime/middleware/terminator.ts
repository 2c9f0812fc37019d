import { ServerError, Status, type ServerMiddleware } from 'nice-grpc';
import { attachCallInfo, callInfoOf } from './call-info.js';

/** What a streaming call ended by shutdown reports: UNAVAILABLE tells clients to reconnect, to another replica. */
export const SHUTTING_DOWN_MESSAGE = 'the server is shutting down';

/**
 * Server middleware that ends long-running streams when the server shuts down, so a drain does not wait for streams
 * that never finish on their own (a watch, a live tail). For calls with a response stream (server-streaming and
 * bidi), the handler's `context.signal` also aborts when `terminate` does; the call then ends with UNAVAILABLE,
 * whatever the handler threw on the abort (unless the client had cancelled). Unary and client-streaming calls are
 * left to finish within the drain time. nice-grpc-server-middleware-terminator does the same; it is not on the
 * registry this project installs from.
 * @param terminate aborted when shutdown starts.
 */
export function createTerminatorMiddleware(terminate: AbortSignal): ServerMiddleware {
  // A function, not a property read: `terminate.aborted` changes while the call runs.
  const isTerminated = () => terminate.aborted;
  return async function* terminator(call, context) {
    if (!call.responseStream) return yield* call.next(call.request, context);
    if (isTerminated()) throw new ServerError(Status.UNAVAILABLE, SHUTTING_DOWN_MESSAGE);
    const signal = AbortSignal.any([context.signal, terminate]);
    // The request logger's record of the call is found by signal: inner stages get the new one.
    const info = callInfoOf(context.signal);
    if (info) attachCallInfo(signal, info);
    try {
      return yield* call.next(call.request, { ...context, signal });
    } catch (error) {
      if (isTerminated() && !context.signal.aborted) throw new ServerError(Status.UNAVAILABLE, SHUTTING_DOWN_MESSAGE);
      throw error;
    }
  };
}
