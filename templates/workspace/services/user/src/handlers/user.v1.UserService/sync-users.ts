import type { UserServiceHandlers } from '../../gen/server/user.v1.UserService.js';

/** SyncUsers answers each requested id with the user's current profile, as the ids arrive. */
export const syncUsers: UserServiceHandlers['syncUsers'] = async function* (requests, { serviceContext }) {
  for await (const request of requests) {
    const user = serviceContext.users.find(request.id);
    yield { user, found: user !== undefined };
  }
};
