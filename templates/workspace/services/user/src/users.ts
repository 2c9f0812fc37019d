import type { User } from './gen/pb/user/v1/user.js';

/** The users the service keeps: in memory in the example, a database in a real service. */
export interface UserDirectory {
  /** One user by id, or `undefined`. */
  find(id: string): User | undefined;
  /** Every user, in id order. */
  list(): User[];
  /** Creates or replaces a user. */
  save(user: User): void;
}

/** A directory that starts with the example's two users. */
export function createUserDirectory(): UserDirectory {
  const users = new Map<string, User>([
    ['u1', { id: 'u1', displayName: 'Ada Lovelace', email: 'ada@example.com' }],
    ['u2', { id: 'u2', displayName: 'Grace Hopper', email: 'grace@example.com' }],
  ]);
  return {
    find: (id) => users.get(id),
    list: () => [...users.values()].sort((a, b) => a.id.localeCompare(b.id)),
    save: (user) => void users.set(user.id, user),
  };
}
