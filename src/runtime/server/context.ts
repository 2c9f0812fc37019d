import type { CallContext } from 'nice-grpc';
import type { Principal } from '../auth/principal.js';

/**
 * What grpcforge adds to nice-grpc's `CallContext` for handlers. An interface, so later runtime versions extend it
 * without changing generated code.
 */
export interface HandlerContextExtension {
  /** The caller the auth middleware resolved; `undefined` on a public method called without credentials. */
  readonly principal?: Principal | undefined;
}

/** The context every handler receives: nice-grpc's `CallContext` (metadata, signal, peer) and grpcforge's additions. */
export type HandlerContext = CallContext & HandlerContextExtension;
