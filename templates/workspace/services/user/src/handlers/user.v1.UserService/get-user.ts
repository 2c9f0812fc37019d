import { NotFoundError, requirePrincipal } from '@grpcforge/runtime';
import type { UserServiceHandlers } from '../../gen/server/user.v1.UserService.js';

/** GetUser returns one user by id. */
export const getUser: UserServiceHandlers['getUser'] = async (request, context) => {
  const user = context.serviceContext.users.find(request.id);
  if (!user) throw new NotFoundError(`user "${request.id}" not found`);
  return { user, requestedBy: requirePrincipal(context).id };
};
