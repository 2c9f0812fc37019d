import type { AuthServiceHandlers } from '../../gen/server/auth.v1.AuthService.js';
import { activeSessions } from '../../sessions.js';

/** ListSessions streams the active sessions, oldest first. */
export const listSessions: AuthServiceHandlers['listSessions'] = async function* () {
  for (const session of activeSessions()) {
    yield { session: { subject: session.subject, createTime: session.createTime, expireTime: session.expireTime } };
  }
};
