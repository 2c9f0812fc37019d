/**
 * `@grpcforge/runtime`: what handlers, a service's own modules and its tests import. It depends on nice-grpc and
 * grpc-js only, never on the generator, so a service in production loads none of the CLI. Generated code imports
 * `@grpcforge/runtime/codegen-v1` instead (a versioned contract, see `codegen-v1.ts`).
 * @packageDocumentation
 */
export { ClientError, Metadata, ServerError, Status } from 'nice-grpc';
export type { CallContext, CallOptions, ServerMiddleware } from 'nice-grpc';

// Answering with a status.
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
export type { DomainErrorOptions } from './errors.js';
export { RichClientError, RichServerError, isRichClientError } from './error-details/rich-errors.js';
export { createErrorDetailsClientMiddleware } from './error-details/client-middleware.js';
export { decodeStatusDetails, encodeStatusDetails } from './error-details/status-details.js';
export type { DecodedStatus } from './error-details/status-details.js';
export type {
  ErrorDetails,
  ErrorInfoDetail,
  FieldViolationDetail,
  HelpLinkDetail,
  PreconditionViolationDetail,
  QuotaViolationDetail,
  ResourceInfoDetail,
} from './vocabulary/error-details.js';

// Handlers and their context.
export type { HandlerContext, HandlerContextExtension } from './server/context.js';
export { PRINCIPAL_KINDS, describePrincipal, requirePrincipal, requireRole } from './auth/principal.js';
export type { Principal, PrincipalContext, PrincipalKind } from './auth/principal.js';
export { authFailure, defineAuthenticator } from './auth/authenticator.js';
export type { AuthCredential, Authenticator, AuthenticatorOutcome } from './auth/authenticator.js';
export { AUTH_MESSAGES, createAuthRefusalLog } from './auth/refusals.js';
export type { AuthFailure, AuthRefusal, AuthRefusalLogOptions, AuthRefusalReason } from './auth/refusals.js';
export { MAX_PRINCIPAL_ID_LENGTH } from './auth/principal-text.js';
export type { AuthThrottleOptions } from './auth/auth-throttle.js';
export { defineAuthHooks, defineLoggingHooks } from './server/service-hooks.js';
export { defineMiddleware } from './server/service-middleware.js';
export type { ServiceMiddlewareContext, ServiceMiddlewareList } from './server/service-middleware.js';
export type { AuthHooks, LoggingHooks } from './server/service-hooks.js';
export type { AuthHookCall } from './server/service-hooks.js';

// Clients of other services.
export { closeServiceClient, createServiceClient } from './client/create-client.js';
export type {
  ClientCallOptions,
  ClientCredentialsOptions,
  ClientRetryOptions,
  ClientTlsOptions,
  ServiceClientOptions,
} from './client/create-client.js';
export { fromEnv, fromEnvTemplate } from './client/env.js';
export type { EnvValue } from './client/env.js';

// Tests: stubs of consumed services, scenarios, handler contexts.
export { startStub } from './stub/start-stub.js';
export type {
  AnyStubCall,
  RunningStub,
  StubCall,
  StubCallCount,
  StubMethod,
  StubOptions,
  StubRequest,
} from './stub/start-stub.js';
export { createScenarioHandlers } from './stub/scenario.js';
export type { FieldMatcher, Scenario, ScenarioOptions, ScenarioOutcome, ScenarioRule } from './stub/scenario.js';
export type { ScenarioError, ScenarioErrorDetails } from './stub/scenario-error.js';
export { DEFAULT_SERVER_LIMITS } from './vocabulary/server-limits.js';
export type { KeepaliveEnforcement, ResolvedServerLimits, ServerLimits, StreamResetBudget } from './vocabulary/server-limits.js';
export { createHandlerContext } from './testing/handler-context.js';
export type { HandlerContextOptions, TestHandlerContext } from './testing/handler-context.js';

// The manifest of a built service (`grpcforge build` writes it as dist/grpcforge.service.json).
export { SERVICE_MANIFEST_FILE, SERVICE_MANIFEST_VERSION } from './host/service-manifest.js';
export type {
  ManifestAuthSettings,
  ManifestJwtSettings,
  ManifestListen,
  ManifestLogStoreSettings,
  ManifestServerSettings,
  ManifestTelemetrySettings,
  ManifestTlsSettings,
  ServiceManifest,
} from './host/service-manifest.js';

// Hosting a service: the lifecycle `grpcforge serve`, `serve --stub` and a built service's main.js share.
export { runBuiltService, readServiceManifest, LISTEN_ENV, LOG_STORE_URL_ENV } from './host/run-built-service.js';
export type { RunBuiltServiceOptions } from './host/run-built-service.js';
export { openServiceHostStore, startServiceHost, startStubHost } from './host/service-host.js';
export type {
  HostLifecycle,
  HostProcessOptions,
  RunningServiceHost,
  RunningStubHost,
  ServerEntry,
  ServiceHostOptions,
  ServiceHostOverrides,
  StubHostOptions,
} from './host/service-host.js';
export { readServerModule } from './host/generated-module.js';
export type { GeneratedServerModule, GeneratedStubModule, ResolvedServerModule } from './host/generated-module.js';
export { ServiceHostError } from './host/host-error.js';
export type { ServiceHostErrorCode } from './host/host-error.js';
export { ALLOW_GRPC_TRACE_ENV, grpcTracing, installGrpcLogger, maskCredentials } from './host/grpc-logging.js';
export { setClientFileBase } from './client/file-base.js';
export { buildServiceTelemetryOptions, openServiceLogStore } from './host/host-options.js';
export type { HostEnvironment, OpenServiceLogStoreOptions } from './host/host-options.js';

// Running a server by hand (grpcforge serve does this from grpcforge.yaml).
export { startServer } from './server/start-server.js';
export type { RunningServer, ServerBaseOptions, ServerOptions, ServiceContextOption } from './server/start-server.js';
export { defineService } from './server/service-registration.js';
export { isTsProtoDefinition, readServiceDefinition } from './server/service-definition.js';
export type { DefinitionMethod, DefinitionShape } from './server/service-definition.js';
export type { ServiceRegistration } from './server/service-registration.js';
export type { ApiKeyVerifier, AuthContext, AuthOptions } from './middleware/auth.js';
export type { AuthPolicy, MethodRule } from './auth/policy.js';
export type { ErrorMappingOptions } from './middleware/error-mapping.js';

// Telemetry: OpenTelemetry export (the SDK loads only when a server starts with `telemetry`).
export { traceIdOfCall } from './telemetry/trace-id.js';
export type {
  OtlpExportOptions,
  OtlpProtocol,
  PrometheusOptions,
  RunningTelemetry,
  TelemetryOptions,
} from './telemetry/options.js';

// The request-log store, for a team's own reports.
export { createLogStore } from './logstore/create-log-store.js';
export type { ApiKeyStore, InstanceStore, LogStore, LogStoreOptions } from './logstore/create-log-store.js';
export { registerLogStoreDialect } from './logstore/dialect-registry.js';
export { requestLogRowsOf } from './logstore/row-batch.js';
export type {
  LogStoreCapabilities,
  LogStoreConnectOptions,
  LogStoreDialect,
  LogStoreRowWriter,
  LogStoreWriteConnection,
  OpenedLogStore,
} from './logstore/dialect.js';
export type { DialectColumnTypes } from './logstore/migrations/column-types.js';
export type { CallRollupTable, LogStoreDatabase } from './logstore/database.js';
export type { RowBatch } from './logstore/row-batch.js';
export type { RollupDelta } from './logstore/rollups.js';
export type { CallKind, CallRecord } from './logstore/call-record.js';
export type { ApiKeyRecord, ApiKeyRejection, CreateApiKeyOptions, CreateApiKeyResult } from './logstore/api-keys.js';
export type { LogPageQuery, LogQuery, RequestLog, RequestLogPage, RequestLogs } from './logstore/request-logs.js';
export type {
  CallStats,
  LogStatistics,
  MethodCallStats,
  ServiceCallStats,
  StatsBreakdown,
  StatsWindow,
  StatusCount,
  TimelineBucket,
} from './logstore/statistics.js';
export type { ErrorReasonCount, ErrorsByReasonWindow } from './logstore/statistics.js';
export type { InstanceRegistration, InstanceState, ServerInstance } from './logstore/instances.js';
export { UNRESPONSIVE_AFTER_MS } from './logstore/instances.js';
export type { LogWriterCounters } from './logstore/log-writer.js';
export type { DropReason, DroppedBy } from './logstore/writer-protocol.js';
export { describeDropped, totalDropped } from './logstore/writer-protocol.js';
export { LATENCY_RELATIVE_ACCURACY } from './logstore/latency-sketch.js';

// Optional peer dependencies (pg, the OpenTelemetry SDK): a feature that is on without its package fails at start.
export { MissingPackageError, OPTIONAL_FEATURE_PACKAGES, optionalPackagesOf } from './optional-packages.js';
export { optionalFeaturesOf } from './host/manifest-features.js';
export type { OptionalFeature } from './optional-packages.js';

// For tools that call services or check statuses as a service would (the CLI's `call`, `logs --code`).
export { parseStatusCode } from './errors.js';
export { createTlsChannelCredentials } from './client/tls-credentials.js';
export { createJwtVerifier } from './auth/jwt.js';
export type { JwtOptions, JwtResult, JwtVerifier } from './auth/jwt.js';

// Request validation against the contract's buf.validate rules (protovalidate): the start-time compile check.
export { checkValidationRules } from './validation/check-validation-rules.js';
export { ValidationRulesError, describeRuleProblem } from './validation/validation-rules-error.js';
export type { ValidationRuleProblem } from './validation/validation-rules-error.js';
export type { ValidationOptions } from './validation/method-validators.js';
