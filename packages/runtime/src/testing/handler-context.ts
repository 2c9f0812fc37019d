import { Metadata, type CallContext } from 'nice-grpc';
import type { Principal } from '../auth/principal.js';
import type { HandlerContext } from '../server/context.js';

/** Options of {@link createHandlerContext}. */
export interface HandlerContextOptions<ServiceContext> {
  /** The service context the handler reads, for example one built with a stub's client. */
  readonly serviceContext: ServiceContext;
  /** The caller, as auth would have resolved it. @defaultValue undefined (an anonymous call) */
  readonly principal?: Principal;
  /** Request metadata. @defaultValue empty */
  readonly metadata?: Metadata;
  /** @defaultValue `'test'` */
  readonly peer?: string;
  /** Abort it to simulate a client that cancels. @defaultValue a signal that never aborts */
  readonly signal?: AbortSignal;
}

/** A handler context built by a test, with what the handler sent back as response metadata. */
export type TestHandlerContext<ServiceContext> = HandlerContext<ServiceContext> & {
  /** Whether the handler called `sendHeader()`. */
  readonly sentHeader: { readonly sent: boolean };
};

/**
 * Builds the context a handler receives from `grpcforge serve`, for calling a handler directly in a unit test:
 * `header` and `trailer` are real `Metadata` the test can read afterwards.
 * @example
 * const context = createHandlerContext({ serviceContext, principal: { id: 'ada', kind: 'custom', roles: [] } });
 * const response = await getUser({ id: 'u1' }, context);
 */
export function createHandlerContext<ServiceContext>(
  options: HandlerContextOptions<ServiceContext>,
): TestHandlerContext<ServiceContext> {
  const sentHeader = { sent: false };
  const call: CallContext = {
    metadata: options.metadata ?? Metadata(),
    peer: options.peer ?? 'test',
    header: Metadata(),
    trailer: Metadata(),
    sendHeader: () => {
      sentHeader.sent = true;
    },
    signal: options.signal ?? new AbortController().signal,
  };
  return { ...call, principal: options.principal, serviceContext: options.serviceContext, sentHeader };
}
