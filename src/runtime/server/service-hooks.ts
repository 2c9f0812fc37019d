import type { Metadata } from 'nice-grpc';
import type { Principal } from '../auth/principal.js';
import type { LoggedCall } from '../middleware/request-logger.js';

/**
 * A service's own adjustments to the pipeline, from its user-owned `src/middleware/*.ts` files (scaffolded once by
 * `grpcforge generate`). The policy itself (which method is public, which roles) stays in grpcforge.yaml.
 */
export interface ServiceHooks {
  /** Adjusts a resolved caller before the policy is checked (add roles, refuse a caller by throwing). */
  readonly enrichPrincipal?: (principal: Principal, call: { readonly method: string; readonly metadata: Metadata }) => Principal | Promise<Principal>;
  /** Changes each row before it is recorded (redaction); every call stays a row. */
  readonly redactCall?: (call: LoggedCall) => LoggedCall;
}

/** Types the hooks of a user-owned middleware file. @example export const authHooks = defineHooks({ enrichPrincipal }) */
export function defineHooks(hooks: ServiceHooks): ServiceHooks {
  return hooks;
}
