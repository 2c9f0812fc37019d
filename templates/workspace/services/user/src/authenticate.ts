import { ClientError, ServerError, Status, type HandlerContext } from 'grpcforge/runtime';
import { createAuthServiceClient } from './gen/clients/auth.v1.AuthService.js';

let authClient: ReturnType<typeof createAuthServiceClient> | undefined;

/**
 * Resolves the caller from the `authorization: Bearer <token>` metadata by asking auth.v1.AuthService.
 * The client is created on first use, so AUTH_ADDR is read then (tests point it at a stub).
 * @returns the subject the token belongs to.
 * @throws ServerError UNAUTHENTICATED without a valid token, UNAVAILABLE when auth cannot be reached.
 */
export async function authenticate(context: HandlerContext): Promise<string> {
  const token = (context.metadata.get('authorization') ?? '').replace(/^Bearer\s+/i, '');
  if (!token) throw new ServerError(Status.UNAUTHENTICATED, 'missing bearer token');
  authClient ??= createAuthServiceClient();
  try {
    const result = await authClient.validateToken({ token }, { signal: context.signal });
    if (!result.valid) throw new ServerError(Status.UNAUTHENTICATED, 'invalid or expired token');
    return result.subject;
  } catch (error) {
    if (error instanceof ClientError) {
      // auth refusing the token is the caller's problem; anything else means auth cannot answer.
      if (error.code === Status.UNAUTHENTICATED) throw new ServerError(Status.UNAUTHENTICATED, 'invalid or expired token');
      throw new ServerError(Status.UNAVAILABLE, `auth.v1.AuthService is not available (${Status[error.code]})`);
    }
    throw error;
  }
}
