import type { CallContext } from 'nice-grpc';

/**
 * What grpcforge adds to nice-grpc's `CallContext` for handlers. Empty for now: the auth middleware will add the
 * principal here. An interface, so later runtime versions extend it without changing generated code.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface HandlerContextExtension {}

/** The context every handler receives: nice-grpc's `CallContext` (metadata, signal, peer) and grpcforge's additions. */
export type HandlerContext = CallContext & HandlerContextExtension;
