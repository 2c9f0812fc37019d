/**
 * `grpcforge/runtime`: what generated code and handlers import. It depends on nice-grpc and grpc-js only, never on
 * the generator, so a service in production loads none of the CLI.
 */
export { ClientError, Metadata, ServerError, Status } from 'nice-grpc';
export type { CallContext, CallOptions, ServerMiddleware } from 'nice-grpc';

export {
  AlreadyExistsError,
  DomainError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnavailableError,
} from './errors.js';
export { startServer } from './server/start-server.js';
export type { RunningServer, ServerOptions } from './server/start-server.js';
export { defineService } from './server/service-registration.js';
export type { ServiceRegistration } from './server/service-registration.js';
export type { HandlerContext, HandlerContextExtension } from './server/context.js';
export { defineHooks } from './server/service-hooks.js';
export type { ServiceHooks } from './server/service-hooks.js';
export { createReflectionServices } from './server/reflection.js';

export { createErrorMappingMiddleware, INTERNAL_ERROR_MESSAGE } from './middleware/error-mapping.js';
export type { ErrorMappingOptions } from './middleware/error-mapping.js';

export { closeServiceClient, createServiceClient } from './client/create-client.js';
export type {
  ClientCallOptions,
  ClientCredentialsOptions,
  ClientRetryOptions,
  ClientTlsOptions,
  ServiceClientOptions,
} from './client/create-client.js';
export { expandTarget } from './client/target.js';

export { startStub } from './stub/start-stub.js';
export type { RunningStub, StubCall, StubOptions } from './stub/start-stub.js';
export { createScenarioHandlers } from './stub/scenario.js';
export type { FieldMatcher, Scenario, ScenarioOutcome, ScenarioRule } from './stub/scenario.js';

export { decodeBase64 } from './server/decode-base64.js';
export { createPipeline } from './server/pipeline.js';
export type { PipelineOptions } from './server/pipeline.js';

export { createAuthMiddleware } from './middleware/auth.js';
export type { ApiKeyVerifier, AuthContext, AuthOptions } from './middleware/auth.js';
export { createRequestLoggerMiddleware } from './middleware/request-logger.js';
export type { LoggedCall, MessageSizer, RequestLoggerOptions } from './middleware/request-logger.js';
export { describePrincipal, requirePrincipal, requireRole, UNAUTHENTICATED_MESSAGE } from './auth/principal.js';
export type { Principal } from './auth/principal.js';
export { resolveMethodRule } from './auth/policy.js';
export type { AuthPolicy, MethodRule } from './auth/policy.js';
export { createJwtVerifier } from './auth/jwt.js';
export { PEER_IDENTITY_HEADER, certificateIdentity, createPeerIdentityInterceptor } from './auth/mtls.js';
export type { JwtOptions, JwtResult, JwtVerifier } from './auth/jwt.js';

export { createLogStore, sqlitePathOf } from './logstore/create-log-store.js';
export type { LogStore, LogStoreOptions, RequestLogRecord } from './logstore/create-log-store.js';
export type { ApiKeyRecord, ApiKeyRejection, CreateApiKeyOptions } from './logstore/api-keys.js';
export type { LogFilter, LogStats, MethodStats, RequestLog, TimelineBucket } from './logstore/queries.js';
export type { ServerInstance } from './logstore/instances.js';
export type { LogStoreDatabase } from './logstore/database.js';
