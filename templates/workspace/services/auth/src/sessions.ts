import { randomBytes } from 'node:crypto';

/** A session of the example: kept in memory, gone when the process stops. */
export interface Session {
  readonly token: string;
  readonly subject: string;
  readonly createTime: Date;
  readonly expireTime: Date;
}

const SESSION_TTL_MS = 60 * 60 * 1000;
const sessions = new Map<string, Session>();

/** Opens a session for `subject` with a random token. */
export function createSession(subject: string): Session {
  const now = Date.now();
  const session = {
    token: randomBytes(24).toString('base64url'),
    subject,
    createTime: new Date(now),
    expireTime: new Date(now + SESSION_TTL_MS),
  };
  sessions.set(session.token, session);
  return session;
}

/** The session of a token, or `undefined` when the token is unknown or expired. */
export function findSession(token: string): Session | undefined {
  const session = sessions.get(token);
  return session && session.expireTime.getTime() > Date.now() ? session : undefined;
}

/** Active sessions, oldest first. */
export function activeSessions(): Session[] {
  return [...sessions.values()]
    .filter((session) => session.expireTime.getTime() > Date.now())
    .sort((a, b) => a.createTime.getTime() - b.createTime.getTime());
}
