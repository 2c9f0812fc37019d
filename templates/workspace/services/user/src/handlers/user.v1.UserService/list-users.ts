import type { UserServiceHandlers } from '../../gen/server/user.v1.UserService.js';
import { authenticate } from '../../authenticate.js';
import { listUsers as allUsers } from '../../users.js';

/** ListUsers streams every user, in id order. */
export const listUsers: UserServiceHandlers['listUsers'] = async function* (_request, context) {
  await authenticate(context);
  for (const user of allUsers()) yield { user };
};
