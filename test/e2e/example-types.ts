// Shapes of the example workspace's generated modules, for the e2e tests that import them at run time.
import type { TsProtoServiceDefinition } from 'nice-grpc';
import type { CallOptions, ClientCallOptions as Deadline } from '../../packages/runtime/src/index.ts';

type ClientCallOptions = CallOptions & Deadline;

/** The part of ts-proto's `AuthServiceClient` the tests use. */
export interface AuthClient {
  login(
    request: { username: string; password: string },
    options?: ClientCallOptions,
  ): Promise<{ token: string; expireTime?: Date }>;
  listSessions(request: object, options?: ClientCallOptions): AsyncIterable<{ session?: { subject: string } }>;
}

/** `services/user/src/gen/clients/auth.v1.AuthService.ts`. */
export interface AuthClientModule {
  /** A module's exported function: no `this`, so the tests destructure it. */
  createAuthServiceClient: (options?: { target?: string }) => AuthClient;
}

/** The part of ts-proto's `UserServiceClient` the tests use. */
export interface UserClient {
  getUser(request: { id: string }, options?: ClientCallOptions): Promise<{ user?: { displayName: string }; requestedBy: string }>;
  listUsers(request: object, options?: ClientCallOptions): AsyncIterable<{ user?: { id: string } }>;
  importUsers(requests: AsyncIterable<{ user: object }>, options?: ClientCallOptions): Promise<{ createdCount: number }>;
  syncUsers(
    requests: AsyncIterable<{ id: string }>,
    options?: ClientCallOptions,
  ): AsyncIterable<{ found: boolean; user?: { displayName: string } }>;
}

/** `services/user/src/gen/pb/user/v1/user.ts` (only the definition is used). */
export interface UserPbModule {
  UserServiceDefinition: TsProtoServiceDefinition;
}
