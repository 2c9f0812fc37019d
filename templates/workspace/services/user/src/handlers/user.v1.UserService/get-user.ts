import { ServerError, Status } from 'grpcforge/runtime';
import type { UserServiceHandlers } from '../../gen/server/user.v1.UserService.js';
import { authenticate } from '../../authenticate.js';
import { findUser } from '../../users.js';

/** GetUser returns one user by id. */
export const getUser: UserServiceHandlers['getUser'] = async (request, context) => {
  const subject = await authenticate(context);
  const user = findUser(request.id);
  if (!user) throw new ServerError(Status.NOT_FOUND, `user "${request.id}" not found`);
  return { user, requestedBy: subject };
};
