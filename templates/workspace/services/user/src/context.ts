import { createAuthServiceClient } from './gen/clients/auth.v1.AuthService.js';
import { createUserDirectory, type UserDirectory } from './users.js';

/**
 * What every handler of the `user` service shares, as `context.serviceContext`: created once per process by
 * `grpcforge serve`, and by the tests with a stub of auth. This file is yours: grpcforge created it once and never
 * overwrites it.
 */
export interface ServiceContext {
  /** Client of `auth.v1.AuthService` (settings: grpcforge.yaml `services.user.consumes`). */
  readonly authService: ReturnType<typeof createAuthServiceClient>;
  /** The users this service keeps. */
  readonly users: UserDirectory;
}

/**
 * Creates the service context. `grpcforge serve` calls it once before it listens; a test passes what it replaces,
 * for example a stub's client: `createServiceContext({ authService: stub.client })`.
 */
export function createServiceContext(overrides: Partial<ServiceContext> = {}): ServiceContext {
  return {
    authService: overrides.authService ?? createAuthServiceClient(),
    users: overrides.users ?? createUserDirectory(),
  };
}
