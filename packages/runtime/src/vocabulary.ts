/**
 * `@grpcforge/runtime/vocabulary`: the words every layer of grpcforge shares — the CLI's config resolution, the
 * generator, the dashboard and its browser pages, and the runtime itself. A leaf: its modules (under `vocabulary/`)
 * import nothing but each other, no package and no Node built-in, so anything may import it, a browser page
 * included, and a value is defined once instead of being copied between layers and kept equal by tests.
 * @packageDocumentation
 */
export { DEFENCE_COUNTERS, DEFENCE_COUNTER_NAMES, zeroDefenceCounts } from './vocabulary/defence-counters.js';
export type { DefenceCounterName, DefenceCountsJson } from './vocabulary/defence-counters.js';
export { defenceCounterWords, describeDefenceCounts } from './vocabulary/describe-defence-counts.js';
export {
  ERROR_DETAIL_KINDS,
  STATUS_DETAILS_TRAILER,
  hasErrorDetails,
  STATUS_DETAILS_MAX_BYTES,
} from './vocabulary/error-details.js';
export type {
  ErrorDetailKind,
  ErrorDetails,
  ErrorInfoDetail,
  FieldViolationDetail,
  HelpLinkDetail,
  PreconditionViolationDetail,
  QuotaViolationDetail,
  ResourceInfoDetail,
} from './vocabulary/error-details.js';
export { describeErrorDetails } from './vocabulary/describe-error-details.js';
export type { ErrorDetailsJson } from './vocabulary/describe-error-details.js';
export { VALIDATE_PROTO } from './vocabulary/validation.js';
export { DEFAULT_AUTH_THROTTLE } from './vocabulary/auth-throttle.js';
export type { AuthThrottleBucket, AuthThrottleSettings } from './vocabulary/auth-throttle.js';
export { BUILTIN_SERVICE_NAMES, HEALTH_SERVICE_NAME, REFLECTION_SERVICE_NAMES } from './vocabulary/builtin-services.js';
export {
  EnvReferenceError,
  SERVICE_REFERENCE,
  expandEnvReferences,
  parseEnvReferences,
  replaceEnvReferences,
  substituteService,
  wholeEnvReference,
} from './vocabulary/env-references.js';
export type { EnvReference, EnvironmentValues } from './vocabulary/env-references.js';
export { DEFAULT_SERVER_LIMITS } from './vocabulary/server-limits.js';
export type { KeepaliveEnforcement, ResolvedServerLimits, ServerLimits, StreamResetBudget } from './vocabulary/server-limits.js';
export { STORED_TEXT_MAX_BYTES, UNKNOWN_BUCKET, UNKNOWN_BUCKET_NOTE, truncateUtf8 } from './vocabulary/stored-calls.js';
export { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, WEEK_MS } from './vocabulary/time.js';
export type {
  ApiErrorJson,
  ApiKeyJson,
  ApiKeyStateJson,
  ApiKeysJson,
  CallKindJson,
  CallStatsJson,
  CatalogJson,
  CatalogMethod,
  CatalogService,
  CreateApiKeyRequestJson,
  CreatedApiKeyJson,
  DashboardPageConfigJson,
  DroppedByJson,
  DroppedJson,
  ExplorerCallAnswer,
  ExplorerCallJson,
  ExplorerCallRequestJson,
  ExplorerCommandsJson,
  ExplorerTarget,
  ExplorerTargetsJson,
  InstanceJson,
  InstanceStateJson,
  InstancesJson,
  IsoTime,
  MapEdgeJson,
  MapJson,
  MapNodeJson,
  MethodKindJson,
  MethodStatsJson,
  MethodsJson,
  OverviewJson,
  RequestJson,
  RequestLogJson,
  RequestsJson,
  RevokedApiKeyJson,
  ServiceStatsJson,
  StatsJson,
  StatusCountJson,
  StatusJson,
  StoreJsonVersion,
  TimelineBucketJson,
  TimelineJson,
  VersionedJson,
  WindowedJson,
} from './vocabulary/json-shapes.js';
export type { ErrorReasonCountJson, ErrorsByReasonJson } from './vocabulary/json-shapes.js';
export {
  GENERATED_SERVER_MODULE_EXPORTS,
  GENERATED_SERVER_MODULE_PATH,
  GENERATED_STUB_MODULE_EXPORTS,
  OPTIONAL_SERVER_MODULE_EXPORTS,
  SERVICE_MIDDLEWARE_PATH,
  generatedStubModulePath,
} from './vocabulary/generated-module.js';
export { OTLP_PROTOCOLS } from './vocabulary/otlp.js';
export type { OtlpProtocol } from './vocabulary/otlp.js';
export { LISTEN_ENV, LOG_STORE_URL_ENV, OTLP_ENDPOINT_ENV } from './vocabulary/runtime-env.js';
