import { ServerError, Status } from '@grpcforge/runtime';
import type { AuthServiceHandlers } from '../../gen/server/auth.v1.AuthService.js';
import { createSession } from '../../sessions.js';

/**
 * Login exchanges a username and a password for a session token.
 *
 * The example accepts any username with the password "demo".
 */
export const login: AuthServiceHandlers['login'] = async (request) => {
  if (!request.username || request.password !== 'demo') {
    throw new ServerError(Status.UNAUTHENTICATED, 'wrong username or password');
  }
  const session = createSession(request.username);
  return { token: session.token, expireTime: session.expireTime };
};
