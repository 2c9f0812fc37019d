import type { Metadata } from 'nice-grpc';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { CallRecord } from '../logstore/call-record.js';

/** What auth hooks see of a call. */
export interface AuthHookCall<ServiceContext = unknown> {
  /** gRPC method path, for example `/user.v1.UserService/GetUser`. */
  readonly method: string;
  /** Request metadata. */
  readonly metadata: Metadata;
  /** The caller's address as grpc-js reports it. */
  readonly peer: string;
  /** Aborted when the client cancels or the deadline passes; pass it on to outgoing calls. */
  readonly signal: AbortSignal;
  /** The service's context (`src/context.ts`), as handlers get it. */
  readonly serviceContext: ServiceContext;
}

/**
 * A service's own auth adjustments, from its user-owned `src/middleware/auth.ts` (scaffolded once by
 * `grpcforge generate`). The policy itself (which method is public, which roles it needs) stays in grpcforge.yaml.
 * Order per call: the call credential (API key, JWT, or one of `authenticators`), else the client certificate →
 * `resolvePrincipal` (only when none of them identified the caller) → `enrichPrincipal` (when there is a caller) →
 * the policy.
 * @typeParam ServiceContext the type of `src/context.ts`'s service context.
 */
export interface AuthHooks<ServiceContext = unknown> {
  /**
   * The service's own authenticators (an OAuth2 token introspection, say), each claiming a call credential of its
   * own: they join API keys and JWTs under the same ambiguity rule (one call credential per call). One that claims
   * `authorization: Bearer` takes bearer tokens over from the built-in JWT verifier, which then must not be
   * configured (`auth.jwt`).
   */
  readonly authenticators?: readonly Authenticator<ServiceContext>[];
  /**
   * Turns a credential of the service's own into the caller, for example a session token checked by calling another
   * service through `call.serviceContext`. Return `undefined` for an anonymous call; throw a `ServerError` to refuse.
   */
  readonly resolvePrincipal?: (call: AuthHookCall<ServiceContext>) => Principal | undefined | Promise<Principal | undefined>;
  /** Adjusts a resolved caller before the policy is checked (add roles, refuse a caller by throwing). */
  readonly enrichPrincipal?: (principal: Principal, call: AuthHookCall<ServiceContext>) => Principal | Promise<Principal>;
}

/** A service's own request-log adjustments, from its user-owned `src/middleware/logging.ts`. */
export interface LoggingHooks {
  /**
   * Changes each record before it is recorded (redaction), calls that never reached a method included; every call
   * stays a record.
   * @example redactCall: (call) => (call.method === 'Login' ? { ...call, errorMessage: null } : call)
   */
  readonly redactCall?: (call: CallRecord) => CallRecord;
}

/**
 * Types the hooks of a user-owned `src/middleware/auth.ts`.
 * @example export const authHooks = defineAuthHooks<ServiceContext>({ authenticators: [introspection], resolvePrincipal: async (call) => ... })
 */
export function defineAuthHooks<ServiceContext = unknown>(hooks: AuthHooks<ServiceContext>): AuthHooks<ServiceContext> {
  return hooks;
}

/**
 * Types the hooks of a user-owned `src/middleware/logging.ts`.
 * @example export const loggingHooks = defineLoggingHooks({ redactCall: (call) => ({ ...call, errorMessage: null }) })
 */
export function defineLoggingHooks(hooks: LoggingHooks): LoggingHooks {
  return hooks;
}
