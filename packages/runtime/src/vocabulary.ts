/**
 * `@grpcforge/runtime/vocabulary`: the words every layer of grpcforge shares — the CLI's config resolution, the
 * generator, the dashboard and its browser pages, and the runtime itself. A leaf: its modules (under `vocabulary/`)
 * import nothing but each other, no package and no Node built-in, so anything may import it, a browser page
 * included, and a value is defined once instead of being copied between layers and kept equal by tests.
 * @packageDocumentation
 */
export {};
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
