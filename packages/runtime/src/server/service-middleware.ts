import type { ServerMiddleware } from 'nice-grpc';
import type { PipelineContextExtension } from './pipeline.js';

/**
 * A service's own server middleware, from its user-owned `src/middleware/index.ts`, in the order they run (outermost
 * first). The pipeline composes them after auth and before error mapping, so each one sees `principal` and
 * `serviceContext`, and what it adds to the context (with nice-grpc's `call.next(request, { ...context, tenant })`)
 * reaches the handlers' context type: the generated handler types read it from this list's type.
 * @typeParam ServiceContext the type of the service's `src/context.ts` context.
 * @typeParam Ext what the middleware add to the context, together.
 */
export interface ServiceMiddlewareList<ServiceContext = unknown, Ext extends object = object> {
  /** The middleware, outermost first; their context types are the list's (erased here). */
  readonly stages: readonly ServerMiddleware[];
  /** Type-level only, never set: what the list adds to the handlers' context. */
  readonly contextType?: Ext;
  /**
   * A new list with `middleware` added innermost, as nice-grpc's `server.use()`. It may require what grpcforge's
   * pipeline gives (`principal`, `serviceContext`) and what the middleware before it add.
   */
  use<Added extends object>(
    middleware: ServerMiddleware<Added, PipelineContextExtension<ServiceContext> & Ext>,
  ): ServiceMiddlewareList<ServiceContext, Ext & Added>;
}

/** What a middleware list adds to the handlers' context: `ServiceMiddlewareList<S, Ext>` → `Ext`; none → `{}`. */
export type ServiceMiddlewareContext<List> = List extends { readonly contextType?: infer Ext } ? Exclude<Ext, undefined> : object;

/**
 * Starts a service's middleware list, empty; add each with `.use(middleware)`.
 * @example export const middleware = defineMiddleware<ServiceContext>().use(tenantMiddleware).use(concurrencyLimit(100));
 */
export function defineMiddleware<ServiceContext = unknown>(): ServiceMiddlewareList<ServiceContext> {
  return middlewareList([]);
}

function middlewareList<ServiceContext, Ext extends object>(
  stages: readonly ServerMiddleware[],
): ServiceMiddlewareList<ServiceContext, Ext> {
  return {
    stages,
    use: <Added extends object>(middleware: ServerMiddleware<Added, PipelineContextExtension<ServiceContext> & Ext>) =>
      // The stage's context types live on in the list's type; at run time the pipeline hands it the whole context.
      middlewareList<ServiceContext, Ext & Added>([...stages, middleware as unknown as ServerMiddleware]),
  };
}
