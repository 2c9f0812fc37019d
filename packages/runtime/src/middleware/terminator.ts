import { ServerError, Status, type ServerMiddleware } from 'nice-grpc';
import { attachCallAuth, callAuthOf } from '../auth/refusals.js';
import { attachCallInfo, callInfoOf } from './call-info.js';
import { forgetErrorDetails } from './error-mapping.js';

/** What a streaming call ended by shutdown reports: UNAVAILABLE tells clients to reconnect, to another replica. */
export const SHUTTING_DOWN_MESSAGE = 'the server is shutting down';

/**
 * Server middleware that ends streaming calls when the server shuts down, so a drain does not wait for streams that
 * never finish on their own (a watch, a live tail, a bidi sync waiting for the client's next request):
 * - calls with a response stream (server-streaming and bidi): the handler's `context.signal` also aborts when
 *   `terminate` does;
 * - calls with a request stream (client-streaming and bidi): a read of the request stream that is waiting when
 *   `terminate` aborts, or starts after, throws `ServerError(UNAVAILABLE)`, so a handler in
 *   `for await (const request of requests)` stops there without looking at its signal (a throw, not an end: a
 *   handler that would act on the requests it got, an import, does not act on part of them).
 *
 * Such a call then ends with UNAVAILABLE and {@link SHUTTING_DOWN_MESSAGE}, whatever the handler threw (unless the
 * client had cancelled); so does a client-streaming or bidi call whose handler caught the throw and returned. Unary
 * calls, and client-streaming calls whose requests had all been read, are left to finish within the drain time.
 * Streaming calls that arrive after `terminate` aborted are answered UNAVAILABLE. nice-grpc-server-middleware-terminator
 * does the first part; it is not on the registry this project installs from.
 * @param terminate aborted when shutdown starts.
 */
export function createTerminatorMiddleware(terminate: AbortSignal): ServerMiddleware {
  // A function, not a property read: `terminate.aborted` changes while the call runs.
  const isTerminated = () => terminate.aborted;
  const reads = createShutdownReads(terminate);
  return async function* terminator(call, context) {
    if (!call.responseStream && !call.requestStream) return yield* call.next(call.request, context);
    if (isTerminated()) throw new ServerError(Status.UNAVAILABLE, SHUTTING_DOWN_MESSAGE);
    let signal = context.signal;
    if (call.responseStream) {
      signal = AbortSignal.any([context.signal, terminate]);
      // The request logger's record of the call is found by signal: inner stages get the new one.
      const info = callInfoOf(context.signal);
      if (info) attachCallInfo(signal, info);
      // So is auth's (requirePrincipal and requireRole in a streaming handler give the credential's reason).
      const auth = callAuthOf(context.signal);
      if (auth) attachCallAuth(signal, auth);
    }
    const requests = call.requestStream ? endRequestsOnShutdown(call.request, reads) : undefined;
    // Ended by shutdown rather than by the client: its response stream was cut short, or its requests were.
    const isEndedByShutdown = () =>
      !context.signal.aborted && ((call.responseStream && isTerminated()) || requests?.isCut === true);
    try {
      const response = yield* call.next(requests ? requests.iterable : call.request, { ...context, signal });
      if (requests?.isCut && !context.signal.aborted) throw new ServerError(Status.UNAVAILABLE, SHUTTING_DOWN_MESSAGE);
      return response;
    } catch (error) {
      if (isEndedByShutdown()) {
        // The handler's error no longer ends the call: its details (grpc-status-details-bin) go with it.
        forgetErrorDetails(context);
        throw new ServerError(Status.UNAVAILABLE, SHUTTING_DOWN_MESSAGE);
      }
      throw error;
    }
  };
}

/** The reads of request streams waiting for a message when shutdown starts: each is cut by calling it. */
interface ShutdownReads {
  readonly terminate: AbortSignal;
  readonly pending: Set<() => void>;
}

/**
 * One listener on `terminate` for every call's reads: a listener per call would trip Node's warning about many abort
 * listeners, and racing each read against one shared promise would keep a reaction per read until shutdown.
 */
function createShutdownReads(terminate: AbortSignal): ShutdownReads {
  const pending = new Set<() => void>();
  terminate.addEventListener(
    'abort',
    () => {
      for (const cut of pending) cut();
      pending.clear();
    },
    { once: true },
  );
  return { terminate, pending };
}

/** A request stream as the handler reads it; `isCut` once shutdown ended it. */
interface CuttableRequests<Request> {
  readonly iterable: AsyncIterable<Request>;
  readonly isCut: boolean;
}

/**
 * `requests`, whose reads throw UNAVAILABLE once shutdown started (see {@link createTerminatorMiddleware}). An
 * iterator object rather than an async generator: it costs a promise per message, not a generator step and a race.
 */
function endRequestsOnShutdown<Request>(requests: AsyncIterable<Request>, reads: ShutdownReads): CuttableRequests<Request> {
  let isCut = false;
  let isFinished = false;
  let source: AsyncIterator<Request> | undefined;
  const finish = () => {
    if (isFinished) return;
    isFinished = true;
    // Not awaited: a read cut while waiting holds the source until the call ends, and its return waits for that.
    void Promise.resolve(source?.return?.()).catch(() => {});
  };
  const cut = () => {
    isCut = true;
    finish();
    return new ServerError(Status.UNAVAILABLE, SHUTTING_DOWN_MESSAGE);
  };
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  const iterator: AsyncIterableIterator<Request> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    next() {
      if (isCut || (!isFinished && reads.terminate.aborted)) return Promise.reject(cut());
      if (isFinished) return Promise.resolve(done);
      const from = (source ??= requests[Symbol.asyncIterator]());
      return new Promise<IteratorResult<Request>>((resolve, reject) => {
        const onShutdown = () => reject(cut());
        reads.pending.add(onShutdown);
        from.next().then(
          (result) => {
            reads.pending.delete(onShutdown);
            if (result.done) isFinished = true;
            resolve(result);
          },
          (error: unknown) => {
            reads.pending.delete(onShutdown);
            isFinished = true;
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      });
    },
    return() {
      finish();
      return Promise.resolve(done);
    },
  };
  return {
    iterable: iterator,
    get isCut() {
      return isCut;
    },
  };
}
