import { ServerError, Status } from 'grpcforge/runtime';
import type { UserServiceHandlers } from '../../gen/server/user.v1.UserService.js';
import { authenticate } from '../../authenticate.js';
import { saveUser } from '../../users.js';

/** ImportUsers creates the users of a stream and answers once, with how many were created. */
export const importUsers: UserServiceHandlers['importUsers'] = async (requests, context) => {
  await authenticate(context);
  let createdCount = 0;
  for await (const request of requests) {
    if (!request.user?.id) throw new ServerError(Status.INVALID_ARGUMENT, 'every user needs an id');
    saveUser(request.user);
    createdCount++;
  }
  return { createdCount };
};
