/**
 * The trace id of each server call, for the request logger: keyed by the call's `AbortSignal` (which every stage of
 * the pipeline passes on unchanged), like `callInfoOf`. This module imports nothing, so reading it costs a service
 * without telemetry nothing.
 */
const traceIds = new WeakMap<AbortSignal, string>();

/**
 * The trace id (32 lower-case hex characters, W3C Trace Context) of the server span of a call, or `undefined` when
 * the server runs without traces. Set by the telemetry middleware before auth runs, so the request logger (outside
 * it) can read it when the call ends: `traceIdOfCall(context.signal)`.
 * @param signal the call's `context.signal`.
 */
export function traceIdOfCall(signal: AbortSignal): string | undefined {
  return traceIds.get(signal);
}

/** @internal Sets the trace id of a call (the telemetry middleware). */
export function setTraceIdOfCall(signal: AbortSignal, traceId: string): void {
  traceIds.set(signal, traceId);
}
