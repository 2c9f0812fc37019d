import { authFailure, type Authenticator, type AuthenticatorOutcome } from './authenticator.js';
import type { JwtVerifier } from './jwt.js';

/**
 * The authenticator of `authorization: Bearer <token>` metadata (RFC 6750 §2.1). Without a verifier (no `auth.jwt`)
 * every bearer token is `invalid token`; an `authorization` value of another scheme is not its credential.
 */
export function createJwtAuthenticator(verifier: JwtVerifier | undefined): Authenticator {
  return {
    name: 'jwt',
    credential: { kind: 'metadata', header: 'authorization', scheme: 'Bearer' },
    async authenticate(token = ''): Promise<AuthenticatorOutcome> {
      const result = token && verifier ? await verifier(token) : undefined;
      if (result?.ok) return { principal: result.principal };
      if (result?.reason === 'unavailable') return { unavailable: result.detail };
      if (result?.reason === 'expired') return { failure: authFailure('token-expired', result.detail) };
      const why = result ? result.detail : token ? 'no auth.jwt here to verify bearer tokens' : 'an empty bearer token';
      return { failure: authFailure('invalid-token', why) };
    },
  };
}
