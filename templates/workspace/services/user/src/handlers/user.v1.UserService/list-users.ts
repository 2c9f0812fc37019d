import type { UserServiceHandlers } from '../../gen/server/user.v1.UserService.js';

/** ListUsers streams every user, in id order. */
export const listUsers: UserServiceHandlers['listUsers'] = async function* (_request, { serviceContext }) {
  for (const user of serviceContext.users.list()) yield { user };
};
