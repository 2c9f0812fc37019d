import { ServerError, Status } from 'nice-grpc';

/** Who is calling, as the auth middleware resolved it. */
export interface Principal {
  /** Stable id: the API key's name, the JWT `sub`, or the certificate's SPIFFE ID / CN. */
  readonly id: string;
  /** How the caller authenticated: `custom` is a service's own `resolvePrincipal` hook. */
  readonly kind: 'apiKey' | 'jwt' | 'mtls' | 'custom';
  /** Roles for the policy's `{ roles: [...] }` rules and `requireRole`. */
  readonly roles: readonly string[];
  /** The API key's id, when `kind` is `apiKey`. */
  readonly apiKeyId?: string;
  /** The verified JWT claims, when `kind` is `jwt`. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** The generic message of every authentication failure, whatever the reason (no oracle for attackers). */
export const UNAUTHENTICATED_MESSAGE = 'authentication required';

/**
 * The message of a call refused for ambiguous credentials (an API key and a bearer token, or a credential header sent
 * twice). It describes the call's shape only: nothing about whether any credential was valid, nothing of their values.
 */
export const AMBIGUOUS_CREDENTIALS_MESSAGE =
  'ambiguous credentials: send one x-api-key or one authorization: Bearer, not both and not twice';

/** `apiKey:ci-bot`: how a principal appears in the log store. */
export function describePrincipal(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/**
 * The caller, or UNAUTHENTICATED. For handlers of methods the policy marks public, where a principal is optional.
 * @throws ServerError UNAUTHENTICATED when the call has no principal.
 */
export function requirePrincipal(context: { principal?: Principal | undefined }): Principal {
  if (!context.principal) throw new ServerError(Status.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE);
  return context.principal;
}

/**
 * The caller when it has `role`.
 * @throws ServerError UNAUTHENTICATED without a principal, PERMISSION_DENIED without the role.
 */
export function requireRole(context: { principal?: Principal | undefined }, role: string): Principal {
  const principal = requirePrincipal(context);
  if (!principal.roles.includes(role)) throw new ServerError(Status.PERMISSION_DENIED, `role "${role}" required`);
  return principal;
}
