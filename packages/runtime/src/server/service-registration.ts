import type { CompatServiceDefinition, ServiceImplementation } from 'nice-grpc';
import type { HandlerContextExtension } from './context.js';

/**
 * A service definition (ts-proto's `<Service>Definition`) and the handlers that implement it, with the service
 * context their `context.serviceContext` has.
 */
export interface ServiceRegistration<ServiceContext = unknown> {
  readonly definition: CompatServiceDefinition;
  /** The handlers, checked against `definition` by {@link defineService}; a list mixes definitions, so not typed here. */
  readonly implementation: object;
  /**
   * Type-level only, never set: the service context the handlers expect, so registrations for one context cannot be
   * served with another.
   */
  readonly serviceContextType?: (serviceContext: ServiceContext) => void;
}

/**
 * Pairs a definition with its implementation, type-checking one against the other. Generated server wiring calls it,
 * with the service's middleware list type, so handlers may read what those middleware add to the context.
 * @typeParam Middleware the type of the service's middleware list (`typeof middleware`); none by default.
 * @example defineService(AuthServiceDefinition, { login, validateToken })
 */
export function defineService<Definition extends CompatServiceDefinition, ServiceContext = unknown, Middleware = undefined>(
  definition: Definition,
  implementation: ServiceImplementation<Definition, HandlerContextExtension<ServiceContext, Middleware>>,
): ServiceRegistration<ServiceContext> {
  return { definition, implementation };
}
