import type { Principal } from '../auth/principal.js';

/**
 * What the inner middleware tell the request logger about a call: the principal auth resolved (also for calls it
 * then refused) and the server-side detail of an unexpected error. The logger creates it; auth and error mapping fill it.
 */
export interface CallInfo {
  principal: Principal | undefined;
  /** Full message of an error that reached the client as INTERNAL. */
  errorDetail: string | undefined;
}

// Keyed by the call's AbortSignal, which every stage passes on unchanged: the logger's bookkeeping stays out of the
// context type that handlers see.
const infos = new WeakMap<AbortSignal, CallInfo>();

/** Attaches the logger's record of a call to the call's signal. */
export function attachCallInfo(signal: AbortSignal, info: CallInfo): void {
  infos.set(signal, info);
}

/** The logger's record of a call, or `undefined` when no request logger runs. */
export function callInfoOf(signal: AbortSignal): CallInfo | undefined {
  return infos.get(signal);
}
