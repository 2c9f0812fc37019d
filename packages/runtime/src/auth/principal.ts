import { ServerError, Status } from 'nice-grpc';
import { callAuthOf, noCallerFailure, permissionDeniedMessage, type AuthFailure } from './refusals.js';

/**
 * The `kind` of the principals grpcforge's own authenticators resolve: `apiKey` (an `x-api-key`), `jwt` (a bearer
 * token), `mtls` (the client certificate), and `custom`, the usual kind of a service's `resolvePrincipal`.
 */
export const PRINCIPAL_KINDS = { apiKey: 'apiKey', jwt: 'jwt', mtls: 'mtls', custom: 'custom' } as const;

/**
 * How a caller authenticated: one of {@link PRINCIPAL_KINDS}, or the kind a service's own authenticator gives (for
 * example `oauth2`). An open string; the `string & {}` keeps the built-in values in editors' completions.
 */
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[keyof typeof PRINCIPAL_KINDS] | (string & {});

/** Who is calling, as the auth middleware resolved it. */
export interface Principal {
  /** Stable id: the API key's name, the JWT `sub`, the certificate's SPIFFE ID / CN, or an authenticator's own. */
  readonly id: string;
  /** How the caller authenticated: which authenticator resolved it ({@link PrincipalKind}); the log store records `kind:id`. */
  readonly kind: PrincipalKind;
  /** Roles for the policy's `{ roles: [...] }` rules and `requireRole`. */
  readonly roles: readonly string[];
  /** The API key's id, when `kind` is `apiKey`: the request log records it. */
  readonly apiKeyId?: string;
  /** The verified JWT claims, when `kind` is `jwt`. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** `apiKey:ci-bot`: how a principal appears in the log store. */
export function describePrincipal(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/** The handler context fields {@link requirePrincipal} and {@link requireRole} read. */
export interface PrincipalContext {
  readonly principal?: Principal | undefined;
  /** The call's signal: with it, a refusal is reported like the auth middleware's own (row detail, operator log). */
  readonly signal?: AbortSignal;
}

/**
 * The caller, or UNAUTHENTICATED. For handlers of methods the policy marks public, where a principal is optional.
 * The message says why: `no credentials`, or the presented credential's failure (`invalid API key`, `token expired`,
 * ...; see `AUTH_MESSAGES`).
 * @throws ServerError UNAUTHENTICATED when the call has no principal.
 */
export function requirePrincipal(context: PrincipalContext): Principal {
  if (context.principal) return context.principal;
  const auth = callAuthOf(context.signal);
  const failure = noCallerFailure(auth?.failure);
  throw auth ? auth.refuse(Status.UNAUTHENTICATED, failure) : new ServerError(Status.UNAUTHENTICATED, failure.message);
}

/**
 * The caller when it has `role`.
 * @throws ServerError UNAUTHENTICATED without a principal, PERMISSION_DENIED (`permission denied: requires role
 * admin`) without the role.
 */
export function requireRole(context: PrincipalContext, role: string): Principal {
  const principal = requirePrincipal(context);
  if (principal.roles.includes(role)) return principal;
  const failure = permissionDenied(principal, [role]);
  const auth = callAuthOf(context.signal);
  throw auth ? auth.refuse(Status.PERMISSION_DENIED, failure) : new ServerError(Status.PERMISSION_DENIED, failure.message);
}

/** The refusal of a caller that has none of `roles`; the operator's detail also names the caller and its roles. */
export function permissionDenied(principal: Principal, roles: readonly string[]): AuthFailure {
  const message = permissionDeniedMessage(roles);
  const has = principal.roles.length === 0 ? 'no roles' : `roles ${principal.roles.join(', ')}`;
  return {
    reason: 'permission-denied',
    message,
    detail: `${message} (${describePrincipal(principal)} has ${has})`,
    ...(principal.apiKeyId ? { apiKeyId: principal.apiKeyId } : {}),
  };
}
