import type { CallContext } from 'nice-grpc';
import type { PipelineContextExtension } from './pipeline.js';
import type { ServiceMiddlewareContext } from './service-middleware.js';

/**
 * What grpcforge adds to nice-grpc's `CallContext` for handlers: `principal` (the caller auth resolved, `undefined`
 * on a public method called without credentials) and `serviceContext` (the service's own context from its
 * user-owned `src/context.ts`, created once per process). Derived from the pipeline's middleware types, so it cannot
 * drift from what the pipeline provides. With the service's middleware list (`typeof middleware` of its
 * `src/middleware/index.ts`), also what those middleware add.
 * @typeParam ServiceContext the type `createServiceContext` returns.
 * @typeParam Middleware the type of the service's middleware list; none by default.
 */
export type HandlerContextExtension<ServiceContext = unknown, Middleware = undefined> = PipelineContextExtension<ServiceContext> &
  ServiceMiddlewareContext<Middleware>;

/**
 * The context every handler receives: nice-grpc's `CallContext` (`metadata`, `peer`, `signal`, `header`, `trailer`,
 * `sendHeader`) and grpcforge's additions ({@link HandlerContextExtension}).
 */
export type HandlerContext<ServiceContext = unknown, Middleware = undefined> = CallContext &
  HandlerContextExtension<ServiceContext, Middleware>;
