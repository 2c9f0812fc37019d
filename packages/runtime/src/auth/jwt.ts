import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  importSPKI,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { PRINCIPAL_KINDS, type Principal } from './principal.js';
import { principalIdTooLong, printableText, unsafePrincipalCharacter } from './principal-text.js';

/** How bearer tokens are verified (with `jose`). Exactly one of `secret`, `publicKey`, `jwksUrl`, `jwks`. */
export interface JwtOptions {
  /** Shared secret for HS256/HS384/HS512. */
  readonly secret?: string;
  /** PEM (SPKI) public key for RS*, PS*, ES* or EdDSA. */
  readonly publicKey?: string;
  /** JWKS endpoint; keys are cached and refetched at most every `jwksCooldownMs`. */
  readonly jwksUrl?: string;
  /** An in-memory JWKS (`{ keys: [...] }`). */
  readonly jwks?: { keys: object[] };
  /** Expected `iss`; not checked when omitted. */
  readonly issuer?: string;
  /** Expected `aud`; not checked when omitted. */
  readonly audience?: string;
  /** Allowed `alg` values; `none` is never allowed. @defaultValue by key type: HS256 for secrets, RS256/ES256/EdDSA otherwise */
  readonly algorithms?: readonly string[];
  /** Clock skew tolerated for `exp` and `nbf`, in seconds. @defaultValue 30 */
  readonly clockToleranceSec?: number;
  /** Claim holding the roles: an array, or a space-separated string like `scope`. @defaultValue 'roles' */
  readonly rolesClaim?: string;
  /** Minimum time between two JWKS fetches, in ms. @defaultValue 30000 */
  readonly jwksCooldownMs?: number;
}

/**
 * Outcome of verifying a token: a principal, a refused token (`expired` only when its signature verified and its
 * `exp` passed), or a key source that cannot be reached. `detail` is for the operator: it never holds the token.
 */
export type JwtResult =
  { ok: true; principal: Principal } | { ok: false; reason: 'invalid' | 'expired' | 'unavailable'; detail: string };

/** A token verifier built once from {@link JwtOptions}. */
export type JwtVerifier = (token: string) => Promise<JwtResult>;

/**
 * Builds a verifier: allow-listed algorithms, `exp` required, issuer and audience checked when configured; a `sub`
 * longer than `MAX_PRINCIPAL_ID_LENGTH` (256) characters, or a `sub` or role holding a control character (CR,
 * LF, ANSI escapes: see {@link unsafePrincipalCharacter}), is `invalid`.
 * @throws Error when not exactly one key source is configured or the public key does not parse.
 */
export async function createJwtVerifier(options: JwtOptions): Promise<JwtVerifier> {
  const sources = [options.secret, options.publicKey, options.jwksUrl, options.jwks].filter((source) => source !== undefined);
  if (sources.length !== 1) throw new Error('jwt: configure exactly one of secret, publicKey, jwksUrl, jwks');
  const algorithms = [...(options.algorithms ?? (options.secret !== undefined ? ['HS256'] : ['RS256', 'ES256', 'EdDSA']))];
  if (algorithms.some((alg) => alg.toLowerCase() === 'none')) throw new Error('jwt: algorithm "none" is never allowed');
  let key: Parameters<typeof jwtVerify>[1] | JWTVerifyGetKey;
  if (options.secret !== undefined) key = new TextEncoder().encode(options.secret);
  else if (options.publicKey !== undefined) key = await importSPKI(options.publicKey, algorithms[0]!);
  else if (options.jwks !== undefined) key = createLocalJWKSet(options.jwks);
  else
    key = createRemoteJWKSet(new URL(options.jwksUrl!), {
      cooldownDuration: options.jwksCooldownMs ?? 30_000,
      timeoutDuration: 5000,
    });
  const rolesClaim = options.rolesClaim ?? 'roles';
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key as never, {
        algorithms,
        requiredClaims: ['exp'],
        clockTolerance: options.clockToleranceSec ?? 30,
        ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
        ...(options.audience !== undefined ? { audience: options.audience } : {}),
      });
      if (!payload.sub) return { ok: false, reason: 'invalid', detail: 'token has no sub' };
      // A sub of kilobytes would be stored and shown with every call; one with CR, LF, ESC... would forge lines in
      // logs and terminals: the token is refused.
      const tooLong = principalIdTooLong(payload.sub, 'sub');
      if (tooLong) return { ok: false, reason: 'invalid', detail: tooLong };
      const roles = rolesOf(payload, rolesClaim);
      const unsafe = [payload.sub, ...roles].map(unsafePrincipalCharacter).find((found) => found !== undefined);
      if (unsafe) return { ok: false, reason: 'invalid', detail: `sub or ${rolesClaim} holds the control character ${unsafe}` };
      return { ok: true, principal: { id: payload.sub, kind: PRINCIPAL_KINDS.jwt, roles, claims: payload } };
    } catch (error) {
      // Only these say the token is bad; anything else (JWKS timeout, HTTP error, bad JWKS body) is the key
      // source failing, which is the server's problem (UNAVAILABLE), not the caller's.
      // jose's messages name the check that failed (`signature verification failed`, `unexpected "aud" claim value`),
      // never the token; some quote a header the caller wrote, so they are made printable.
      if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired', detail: printableText(error.message) };
      if (error instanceof errors.JOSEError && TOKEN_ERRORS.has(error.code)) {
        return { ok: false, reason: 'invalid', detail: printableText(error.message) };
      }
      return { ok: false, reason: 'unavailable', detail: printableText(String(error)) };
    }
  };
}

/** jose error codes that mean the presented token is not acceptable. */
const TOKEN_ERRORS = new Set([
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWS_INVALID',
  'ERR_JWT_INVALID',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

function rolesOf(payload: JWTPayload, claim: string): string[] {
  const value = payload[claim];
  if (Array.isArray(value)) return value.filter((role): role is string => typeof role === 'string');
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  return [];
}
