import type { CompatServiceDefinition, ServiceImplementation } from 'nice-grpc';
import type { HandlerContextExtension } from './context.js';

/** A service definition (ts-proto's `<Service>Definition`) and the handlers that implement it. */
export interface ServiceRegistration<Definition extends CompatServiceDefinition = CompatServiceDefinition> {
  readonly definition: Definition;
  readonly implementation: ServiceImplementation<Definition, HandlerContextExtension>;
}

/**
 * Pairs a definition with its implementation, type-checking one against the other. Generated server wiring calls it.
 * @example defineService(AuthServiceDefinition, { login, validateToken })
 */
export function defineService<Definition extends CompatServiceDefinition>(
  definition: Definition,
  implementation: ServiceImplementation<Definition, HandlerContextExtension>,
): ServiceRegistration<Definition> {
  return { definition, implementation };
}

/** The fully-qualified name of a ts-proto definition, or `undefined` for a grpc-js style one. */
export function definitionFullName(definition: CompatServiceDefinition): string | undefined {
  const fullName = (definition as { fullName?: unknown }).fullName;
  return typeof fullName === 'string' ? fullName : undefined;
}
