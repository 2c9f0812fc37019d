import type { CallContext } from 'nice-grpc';
import type { PipelineContextExtension } from './pipeline.js';

/**
 * What grpcforge adds to nice-grpc's `CallContext` for handlers: `principal` (the caller auth resolved, `undefined`
 * on a public method called without credentials) and `serviceContext` (the service's own context from its
 * user-owned `src/context.ts`, created once per process). Derived from the pipeline's middleware types, so it cannot
 * drift from what the pipeline provides.
 * @typeParam ServiceContext the type `createServiceContext` returns.
 */
export type HandlerContextExtension<ServiceContext = unknown> = PipelineContextExtension<ServiceContext>;

/**
 * The context every handler receives: nice-grpc's `CallContext` (`metadata`, `peer`, `signal`, `header`, `trailer`,
 * `sendHeader`) and grpcforge's additions ({@link HandlerContextExtension}).
 */
export type HandlerContext<ServiceContext = unknown> = CallContext & HandlerContextExtension<ServiceContext>;
