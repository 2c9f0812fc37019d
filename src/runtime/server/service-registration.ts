import type { CompatServiceDefinition, ServiceImplementation } from 'nice-grpc';
import type { HandlerContextExtension } from './context.js';

/**
 * A service definition (ts-proto's `<Service>Definition`) and the handlers that implement it, with the service
 * context their `context.serviceContext` has.
 */
export interface ServiceRegistration<ServiceContext = unknown> {
  readonly definition: CompatServiceDefinition;
  readonly implementation: ServiceImplementation<CompatServiceDefinition, HandlerContextExtension<ServiceContext>>;
}

/**
 * Pairs a definition with its implementation, type-checking one against the other. Generated server wiring calls it.
 * @example defineService(AuthServiceDefinition, { login, validateToken })
 */
export function defineService<Definition extends CompatServiceDefinition, ServiceContext = unknown>(
  definition: Definition,
  implementation: ServiceImplementation<Definition, HandlerContextExtension<ServiceContext>>,
): ServiceRegistration<ServiceContext> {
  // A list of registrations mixes definitions; each was checked against its own one here.
  return { definition, implementation: implementation as ServiceImplementation<CompatServiceDefinition, HandlerContextExtension<ServiceContext>> };
}

/** The fully-qualified name of a ts-proto definition, or `undefined` for a grpc-js style one. */
export function definitionFullName(definition: CompatServiceDefinition): string | undefined {
  const fullName = (definition as { fullName?: unknown }).fullName;
  return typeof fullName === 'string' ? fullName : undefined;
}
