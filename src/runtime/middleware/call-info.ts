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

/** The context key the logger adds. */
export interface CallInfoContext {
  readonly callInfo?: CallInfo;
}
