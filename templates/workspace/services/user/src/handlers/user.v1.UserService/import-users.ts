import { InvalidArgumentError } from '@grpcforge/runtime';
import type { UserServiceHandlers } from '../../gen/server/user.v1.UserService.js';

/** ImportUsers creates the users of a stream and answers once, with how many were created. */
export const importUsers: UserServiceHandlers['importUsers'] = async (requests, { serviceContext }) => {
  let createdCount = 0;
  for await (const request of requests) {
    if (!request.user?.id) throw new InvalidArgumentError('every user needs an id');
    serviceContext.users.save(request.user);
    createdCount++;
  }
  return { createdCount };
};
