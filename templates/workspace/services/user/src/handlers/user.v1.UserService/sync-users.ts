import type { UserServiceHandlers } from '../../gen/server/user.v1.UserService.js';
import { authenticate } from '../../authenticate.js';
import { findUser } from '../../users.js';

/** SyncUsers answers each requested id with the user's current profile, as the ids arrive. */
export const syncUsers: UserServiceHandlers['syncUsers'] = async function* (requests, context) {
  await authenticate(context);
  for await (const request of requests) {
    const user = findUser(request.id);
    yield { user, found: user !== undefined };
  }
};
