import { ClientError, ServerError, Status, defineAuthHooks } from '@grpcforge/runtime';
import type { ServiceContext } from '../context.js';

/**
 * Auth adjustments of the `user` service. This file is yours: grpcforge created it once and never overwrites it.
 *
 * Callers of user send the session token auth's Login issued, as `authorization: Bearer <token>`. It is not a JWT, so
 * auth's own checks do not know it: `resolvePrincipal` asks auth.v1.AuthService/ValidateToken whose it is. The policy
 * in grpcforge.yaml (default: authenticated) then refuses calls without a caller, with UNAUTHENTICATED.
 */
export const authHooks = defineAuthHooks<ServiceContext>({
  resolvePrincipal: async ({ metadata, serviceContext, signal }) => {
    const token = /^Bearer\s+(.+)$/i.exec(metadata.get('authorization') ?? '')?.[1];
    if (!token) return undefined;
    try {
      const result = await serviceContext.authService.validateToken({ token }, { signal });
      return result.valid ? { id: result.subject, kind: 'custom', roles: result.roles } : undefined;
    } catch (error) {
      // auth refusing the token means no caller; anything else means auth cannot answer right now.
      if (error instanceof ClientError && error.code === Status.UNAUTHENTICATED) return undefined;
      throw new ServerError(Status.UNAVAILABLE, 'auth.v1.AuthService is not available');
    }
  },
});
