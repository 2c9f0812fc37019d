import type { AuthHookCall } from '../server/service-hooks.js';
import type { Principal } from './principal.js';
import { AUTH_MESSAGES, type AuthFailure, type AuthRefusalReason } from './refusals.js';

/**
 * The credential an {@link Authenticator} claims, which decides when it runs:
 * - `metadata`: a call credential in one metadata `header` (lower-case), optionally only values of one auth-scheme
 *   (`scheme: 'Bearer'` for `authorization: Bearer <token>`, RFC 9110 §11.1, compared case-insensitively). A call
 *   presents at most one call credential: two of them, or one header sent twice, is refused as ambiguous before any
 *   is verified (the rule is the auth middleware's, written once over the list). A presented call credential that
 *   fails is final;
 * - `peer-certificate`: the verified client certificate (mTLS). Consulted only when the call presents no call
 *   credential (then the certificate only authenticated the channel);
 * - `fallback`: whatever the authenticator reads itself (the service's `resolvePrincipal`). Consulted only when no
 *   other authenticator identified the caller.
 */
export type AuthCredential =
  | { readonly kind: 'metadata'; readonly header: string; readonly scheme?: string }
  | { readonly kind: 'peer-certificate' }
  | { readonly kind: 'fallback' };

/**
 * What an authenticator concluded: the caller (`principal`); a refused credential (`failure`: UNAUTHENTICATED with
 * its message on a method that needs a caller, anonymous on a public one); a key source that cannot be reached now
 * (`unavailable`, the operator's detail: UNAVAILABLE on a method that needs a caller); or `undefined` when it has
 * nothing to say (no certificate, no caller found).
 */
export type AuthenticatorOutcome =
  { readonly principal: Principal } | { readonly failure: AuthFailure } | { readonly unavailable: string } | undefined;

/**
 * One way of identifying a caller. The auth middleware runs a list of them: the built-in API key, JWT and mTLS
 * authenticators, a service's own (`defineAuthHooks({ authenticators: [...] })`), and its `resolvePrincipal`.
 * @typeParam ServiceContext the type of the service's context, which `authenticate` receives in `call`.
 * @example
 * const introspection: Authenticator = {
 *   name: 'oauth2-introspection',
 *   credential: { kind: 'metadata', header: 'authorization', scheme: 'Bearer' },
 *   authenticate: async (token) => ({ principal: { id: 'ada', kind: 'oauth2', roles: [] } }),
 * };
 */
export interface Authenticator<ServiceContext = unknown> {
  /** Names it in the operator's detail of a refusal, for example `oauth2-introspection`. */
  readonly name: string;
  /** Which credential it reads, and so when it runs. */
  readonly credential: AuthCredential;
  /**
   * Verifies the credential. An error that is not a `ServerError` becomes INTERNAL (a service's own authenticator
   * runs outside error mapping); a `ServerError` refuses the call with its status.
   * @param presented for a `metadata` credential, the header's value without the scheme, trimmed (may be empty);
   *   otherwise `undefined`.
   */
  authenticate(
    presented: string | undefined,
    call: AuthHookCall<ServiceContext>,
  ): AuthenticatorOutcome | Promise<AuthenticatorOutcome>;
  /**
   * For a `metadata` credential: whom the presented value claims to be, read without verifying it and holding no
   * secret (an API key's public prefix `gfk_<id>`), so that failures are also limited per claimed key
   * (`auth.throttle.perKey`); `undefined`, or no such method, when the credential names nobody before it is verified
   * (bearer tokens: only the address is throttled).
   */
  throttleKey?(presented: string): string | undefined;
}

/** A refusal reason an authenticator may give: `permission-denied` is the policy's, `auth-throttled` the throttle's. */
type AuthenticatorRefusalReason = Exclude<AuthRefusalReason, 'permission-denied' | 'auth-throttled'>;

/** The client message of each refusal reason an authenticator may give. */
const REASON_MESSAGES: Record<AuthenticatorRefusalReason, string> = {
  'no-credentials': AUTH_MESSAGES.noCredentials,
  'invalid-api-key': AUTH_MESSAGES.invalidApiKey,
  'api-key-revoked': AUTH_MESSAGES.apiKeyRevoked,
  'api-key-expired': AUTH_MESSAGES.apiKeyExpired,
  'invalid-token': AUTH_MESSAGES.invalidToken,
  'token-expired': AUTH_MESSAGES.tokenExpired,
  'certificate-not-accepted': AUTH_MESSAGES.certificateNotAccepted,
  'ambiguous-credentials': AUTH_MESSAGES.ambiguousCredentials,
  'credentials-unavailable': AUTH_MESSAGES.credentialsUnavailable,
};

/**
 * A refusal of a credential: the client gets the reason's message ({@link AUTH_MESSAGES}), the operator
 * `message (why)`. `why` must hold no secret (never the token or key itself).
 * @example authFailure('invalid-token', 'introspection: active false') // message 'invalid token'
 */
export function authFailure(reason: AuthenticatorRefusalReason, why: string, apiKeyId?: string): AuthFailure {
  const message = REASON_MESSAGES[reason];
  return { reason, message, detail: `${message} (${why})`, ...(apiKeyId ? { apiKeyId } : {}) };
}

/** `x-api-key`, `authorization: Bearer`: how a call credential is named in messages. */
export function describeCredential(credential: AuthCredential): string {
  if (credential.kind === 'metadata') return credential.scheme ? `${credential.header}: ${credential.scheme}` : credential.header;
  return credential.kind === 'peer-certificate' ? 'the client certificate' : "the service's own credential";
}

/**
 * Types a service's own authenticator (for example in its `src/middleware/introspection.ts`), to list in
 * `defineAuthHooks({ authenticators: [...] })`.
 */
export function defineAuthenticator<ServiceContext = unknown>(
  authenticator: Authenticator<ServiceContext>,
): Authenticator<ServiceContext> {
  return authenticator;
}
