import type { User } from './gen/pb/user/v1/user.js';

/** The example's users, in memory. */
const users = new Map<string, User>([
  ['u1', { id: 'u1', displayName: 'Ada Lovelace', email: 'ada@example.com' }],
  ['u2', { id: 'u2', displayName: 'Grace Hopper', email: 'grace@example.com' }],
]);

/** One user by id, or `undefined`. */
export function findUser(id: string): User | undefined {
  return users.get(id);
}

/** Every user, in id order. */
export function listUsers(): User[] {
  return [...users.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** Creates or replaces a user. */
export function saveUser(user: User): void {
  users.set(user.id, user);
}
