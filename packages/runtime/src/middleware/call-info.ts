import type { ServerError } from 'nice-grpc';
import type { Principal } from '../auth/principal.js';
import type { CallRecord } from '../logstore/call-record.js';

/**
 * What the inner middleware tell the request logger about a call: the principal auth resolved (also for calls it
 * then refused), the server-side detail of an error, and the presented API key of a refused call. The logger
 * creates it; auth and error mapping fill it.
 */
export interface CallInfo {
  principal: Principal | undefined;
  /**
   * What the row stores instead of the message the client got: the full message of an error that reached the client
   * as INTERNAL, or why auth refused the call (with the key's prefix, never a secret).
   */
  errorDetail: string | undefined;
  /**
   * The error `errorDetail` describes: the row uses the detail only when the call ends with this very error, so a
   * handler that caught a refusal (from `requireRole`) and threw another status does not get the refusal's detail.
   */
  errorDetailOf?: ServerError | undefined;
  /** The reason of the error's `errorInfo` detail (a declared error reason), for the row's `error_reason`. */
  errorReason?: string | undefined;
  /** The field path of the error's first `badRequest` violation (validation's), for the row's `violation_field`. */
  violationField?: string | undefined;
  /** The id of the API key a refused call presented (a caller's key is `principal.apiKeyId`). */
  apiKeyId?: string | undefined;
  /**
   * `false`: the call is counted, not stored as a row (a throttled refusal past the first of its address's window:
   * see {@link isStoredCall}). Telemetry still counts it.
   */
  stored?: boolean;
}

// On the call's AbortSignal, which every stage passes on unchanged: the logger's bookkeeping stays out of the
// context type that handlers see. A symbol property, not a WeakMap: every call would add an ephemeron the garbage
// collector has to trace (a measurable part of a call's cost at full load), and the signal dies with the call anyway.
const INFO = Symbol('grpcforge.callInfo');
type SignalWithInfo = AbortSignal & { [INFO]?: CallInfo };

/** Attaches the logger's record of a call to the call's signal. */
export function attachCallInfo(signal: AbortSignal, info: CallInfo): void {
  (signal as SignalWithInfo)[INFO] = info;
}

/** The logger's record of a call, or `undefined` when no request logger runs. */
export function callInfoOf(signal: AbortSignal): CallInfo | undefined {
  return (signal as SignalWithInfo)[INFO];
}

/** Marks a record the store must not get; a symbol, so it survives `{ ...record }` copies and no JSON shows it. */
const UNSTORED = Symbol('grpcforge.unstoredCall');

/**
 * `record` marked as counted only, not stored ({@link CallInfo.stored} `false`): the request logger hands it on like
 * any other (to the call accounting and telemetry), and the server's sink leaves it out of the log store.
 */
export function unstoredCall(record: CallRecord): CallRecord {
  return Object.assign(record, { [UNSTORED]: true });
}

/** Whether `record` goes to the log store: every record but those {@link unstoredCall} marked. */
export function isStoredCall(record: CallRecord): boolean {
  return !(UNSTORED in record);
}
