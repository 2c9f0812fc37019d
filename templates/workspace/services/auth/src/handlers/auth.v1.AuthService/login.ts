import { authErrors } from '../../gen/errors/auth.v1.AuthErrorReason.js';
import type { AuthServiceHandlers } from '../../gen/server/auth.v1.AuthService.js';
import { createSession } from '../../sessions.js';

/**
 * Login exchanges a username and a password for a session token.
 *
 * The example accepts any username with the password "demo". The contract's rules (buf.validate) have checked the
 * username's shape before this runs; a wrong password is the contract's declared reason INVALID_CREDENTIALS
 * (UNAUTHENTICATED, with the username in the ErrorInfo's metadata), which consumers catch with `isInvalidCredentials`.
 */
export const login: AuthServiceHandlers['login'] = async (request) => {
  if (request.password !== 'demo') {
    throw authErrors.invalidCredentials({ username: request.username });
  }
  const session = createSession(request.username);
  return { token: session.token, expireTime: session.expireTime };
};
