/**
 * The `--json` shapes, version 2, of `grpcforge logs`, `stats`, `status` and `keys`, and the answers of the
 * dashboard's JSON API (`/api/v1/…`), which are made of the same pieces. One declaration for the CLI's producers
 * (`src/cli/output/store-json.ts`), the dashboard's API and its browser pages: a field renamed or dropped on one side
 * fails the type check of the others.
 *
 * Conventions of every shape: camelCase keys; a gRPC status as `statusCode` (its number) and `status` (its name,
 * `NOT_FOUND`, or the number as text for a code without a name); times as ISO 8601 UTC with milliseconds
 * (`2025-01-02T13:04:05.678Z`); durations in ms, sizes in bytes; lists as arrays, never JSON inside a string. Fields
 * may be added, never renamed or removed (that is a new version).
 *
 * Type-only: this module has no values, so a browser page may import it and nothing of it reaches the page.
 */

import type { DefenceCountsJson } from './defence-counters.js';
import type { ErrorDetailsJson } from './describe-error-details.js';

/** The version every `--json` shape and every API answer carries as `version`. */
export type StoreJsonVersion = 2;

/** An ISO 8601 time in UTC with milliseconds, `2025-01-02T13:04:05.678Z`. */
export type IsoTime = string;

/** How a call streamed (`unknown`: a call the server had no method for). */
export type CallKindJson = 'unary' | 'serverStreaming' | 'clientStreaming' | 'bidiStreaming' | 'unknown';

/** One stored call (`grpcforge logs --json`, a line of each; the requests pages; an event of the live tail). */
export interface RequestLogJson {
  /** The store's row id: larger is later stored (the live tail and paging go by it). */
  readonly id: number;
  /** The call's UUIDv7 (its `x-request-id`). */
  readonly requestId: string;
  /** When the server received the call. */
  readonly startedAt: IsoTime;
  /**
   * Fully-qualified proto service, `auth.v1.AuthService`; for a call to a method the server does not serve (kind
   * `unknown`), the served service of its path or `_unknown`.
   */
  readonly service: string;
  /** The method's name, `Login`; `_unknown` for a method the server does not serve. */
  readonly method: string;
  readonly kind: CallKindJson;
  /** gRPC status code, 0 (OK) to 16. */
  readonly statusCode: number;
  /** Its name, `OK`, `NOT_FOUND`. */
  readonly status: string;
  /** From receiving the call to sending its status, in ms (fractions kept). */
  readonly durationMs: number;
  /** Who called, as the auth middleware named them; null when unauthenticated. */
  readonly principal: string | null;
  /** The id of the API key used, when one was. */
  readonly apiKeyId: string | null;
  /** The client's address, `HOST:PORT`, when known. */
  readonly peer: string | null;
  /** Bytes of all request messages, encoded. */
  readonly requestBytes: number;
  /** Bytes of all response messages, encoded. */
  readonly responseBytes: number;
  /** Number of request messages. */
  readonly requestMessages: number;
  /** Number of response messages. */
  readonly responseMessages: number;
  /** The status message of a failed call; null on OK. */
  readonly errorMessage: string | null;
  /** The W3C trace id (32 hex digits) when the call was traced; null otherwise. */
  readonly traceId: string | null;
  /**
   * The `:path` the client sent, for a call to a method the server does not serve (at most 256 bytes of UTF-8); null
   * otherwise. Added in version 2 (shapes gain fields without a new version).
   */
  readonly rawPath: string | null;
  /**
   * The reason of the error's `errorInfo` detail (a declared error reason, `USER_NOT_FOUND`; at most 64 bytes of
   * UTF-8); null when the call did not fail with one, and for calls stored before it was recorded. Added in version 2.
   */
  readonly errorReason: string | null;
  /**
   * The field path of the error's first `badRequest` violation (`user.email`, validation's; at most 256 bytes of
   * UTF-8); null when the error had none. Added in version 2.
   */
  readonly violationField: string | null;
}

/** How many calls ended with one status. */
export interface StatusCountJson {
  /** gRPC status code. */
  readonly statusCode: number;
  /** Its name, `OK`. */
  readonly status: string;
  /** Number of calls. */
  readonly calls: number;
}

/** The totals of a set of calls (`grpcforge stats --json`; the overview, methods, timeline and map). */
export interface CallStatsJson {
  /** Number of calls. */
  readonly calls: number;
  /** Calls that ended OK. */
  readonly ok: number;
  /** Calls that ended with any other status. */
  readonly errors: number;
  /** `ok / calls`, from 0 to 1 (1 when there was no call). */
  readonly successRate: number;
  /** Mean duration, in ms. */
  readonly avgMs: number;
  /** Shortest duration, in ms. */
  readonly minMs: number;
  /** Longest duration, in ms. */
  readonly maxMs: number;
  /** Median duration, in ms. */
  readonly p50Ms: number;
  /** 95th percentile of the durations, in ms. */
  readonly p95Ms: number;
  /** 99th percentile of the durations, in ms. */
  readonly p99Ms: number;
  /** `exact`: from every call; `sketch`: merged from per-minute rollups (within about 1%). */
  readonly percentiles: 'exact' | 'sketch';
  /** Bytes of the request messages, summed. */
  readonly requestBytes: number;
  /** Bytes of the response messages, summed. */
  readonly responseBytes: number;
  /** Calls per status, by code. */
  readonly byStatus: readonly StatusCountJson[];
}

/**
 * The totals of one method (`grpcforge stats --by method --json`; the methods page). Calls to methods the server does
 * not serve are one entry per served service (`method` `_unknown`) and one `_unknown/_unknown`.
 */
export interface MethodStatsJson extends CallStatsJson {
  /** Fully-qualified proto service, or `_unknown`. */
  readonly service: string;
  /** The method's name, or `_unknown`. */
  readonly method: string;
}

/** The totals of one proto service (the overview's table). */
export interface ServiceStatsJson extends CallStatsJson {
  /** Fully-qualified proto service. */
  readonly service: string;
}

/** The totals of one time bucket (`grpcforge stats --timeline --json`; the timeline page). */
export interface TimelineBucketJson extends CallStatsJson {
  /** The bucket's first instant; it lasts the answer's `bucketMs`. */
  readonly start: IsoTime;
}

/**
 * Why a server dropped log rows (its counters as of its last heartbeat). A type, not an interface, so that it reads
 * as a record of counts (`Object.entries`): a reason may be added.
 */
export type DroppedByJson = {
  /** Rows dropped because the writer's queue was full. */
  readonly queueFull: number;
  /** Rows dropped after a write failed past its retries. */
  readonly writeError: number;
  /** Rows dropped because the store was closed or unreachable. */
  readonly storeGone: number;
};

/** The state of a server instance: `unresponsive` is `serving` with a heartbeat older than 30 s. */
export type InstanceStateJson = 'serving' | 'stopping' | 'stopped' | 'unresponsive';

/** One `grpcforge serve` process (`grpcforge status --json`; the instances page). */
export interface InstanceJson {
  /** The instance's id. */
  readonly id: string;
  /** The service of `grpcforge.yaml`, `auth`. */
  readonly service: string;
  readonly state: InstanceStateJson;
  /** `HOST:PORT` it listens on. */
  readonly address: string;
  /** Its process id. */
  readonly pid: number;
  /** The machine's host name. */
  readonly host: string;
  readonly startedAt: IsoTime;
  readonly lastHeartbeatAt: IsoTime;
  /** Time from the last heartbeat to when the answer was made, in ms. */
  readonly heartbeatAgeMs: number;
  /** Fully-qualified proto services it serves. */
  readonly services: readonly string[];
  /** Calls it handed to its log writer. */
  readonly callsRecorded: number;
  /** Rows its writer stored. */
  readonly rowsWritten: number;
  /** Rows its writer dropped, all reasons. */
  readonly rowsDropped: number;
  readonly droppedBy: DroppedByJson;
  /**
   * What its defences refused, closed or counted instead of storing a row each, running totals since it started, as
   * of its last heartbeat (every counter, zeros included; see `DEFENCE_COUNTERS`). Added in shape version 2.
   */
  readonly defences: DefenceCountsJson;
  /** Earlier runs on the same service, host and address folded into this one (`grpcforge dev` restarts). */
  readonly restarts: number;
}

/** The state of an API key at the time of the answer. */
export type ApiKeyStateJson = 'active' | 'revoked' | 'expired';

/** One API key, never the key itself (`grpcforge keys list --json`; the keys page). */
export interface ApiKeyJson {
  /** The key's id. */
  readonly id: string;
  /** Its unique name. */
  readonly name: string;
  /** The key's first characters, to recognise it. */
  readonly prefix: string;
  /** The roles it grants. */
  readonly roles: readonly string[];
  readonly state: ApiKeyStateJson;
  readonly createdAt: IsoTime;
  /** null: it never expires. */
  readonly expiresAt: IsoTime | null;
  /** null: not revoked. */
  readonly revokedAt: IsoTime | null;
  /** null: never used. */
  readonly lastUsedAt: IsoTime | null;
  /** Calls made with it. */
  readonly requestCount: number;
}

/** What every answer of the dashboard's API starts with. */
export interface VersionedJson {
  readonly version: StoreJsonVersion;
}

/** What the answers over a window of time share (overview, methods, timeline, map). */
export interface WindowedJson extends VersionedJson {
  /** The window's name, `1h`. */
  readonly window: string;
  /** The window's start, rounded down to a whole minute. */
  readonly since: IsoTime;
}

/** `GET /api/v1/overview`: the window's totals, and per proto service. */
export interface OverviewJson extends WindowedJson {
  readonly totals: CallStatsJson;
  readonly services: readonly ServiceStatsJson[];
}

/** `GET /api/v1/methods`: per method, busiest first. */
export interface MethodsJson extends WindowedJson {
  readonly methods: readonly MethodStatsJson[];
}

/** `GET /api/v1/timeline`: only the buckets with calls, oldest first. */
export interface TimelineJson extends WindowedJson {
  /** Each bucket's length, in ms. */
  readonly bucketMs: number;
  readonly timeline: readonly TimelineBucketJson[];
}

/** A node of the service map: a service of `grpcforge.yaml`, or a consumed proto service no one in it serves. */
export interface MapNodeJson extends CallStatsJson {
  /** The service's name in `grpcforge.yaml`; for an external node, the proto service. */
  readonly name: string;
  /** Fully-qualified proto services it serves. */
  readonly serves: readonly string[];
  /** `HOST:PORT` of its `listen:`; null for none, and for external nodes. */
  readonly listen: string | null;
  /** Not a service of this workspace. */
  readonly external: boolean;
}

/** An edge of the service map: one `consumes:` entry, with the calls its provider recorded for that proto service. */
export interface MapEdgeJson extends CallStatsJson {
  /** The consuming node's name. */
  readonly from: string;
  /** The providing node's name. */
  readonly to: string;
  /** The fully-qualified proto service consumed. */
  readonly service: string;
}

/** `GET /api/v1/map`: the service map. */
export interface MapJson extends WindowedJson {
  /** From `since` to when the answer was made, in ms (for rates). */
  readonly windowMs: number;
  readonly nodes: readonly MapNodeJson[];
  readonly edges: readonly MapEdgeJson[];
}

/** `GET /api/v1/requests` and `grpcforge logs --json`: stored calls, the last to finish first. */
export interface RequestsJson extends VersionedJson {
  readonly logs: readonly RequestLogJson[];
  /** The `before` of the next page (a row id); null on the last page. */
  readonly nextBefore: number | null;
}

/** `GET /api/v1/requests/:requestId` and `grpcforge logs --request-id ID --json`: one stored call. */
export interface RequestJson extends VersionedJson {
  readonly log: RequestLogJson;
}

/** `grpcforge status --json`: the instances, restarts folded (the running ones, or every one with `--all`). */
export interface StatusJson extends VersionedJson {
  readonly instances: readonly InstanceJson[];
}

/** `GET /api/v1/instances`: as `grpcforge status --json`, and how many it left out. */
export interface InstancesJson extends StatusJson {
  /** Instances left out (stopped ones, without `all=true`). */
  readonly hidden: number;
}

/** Log rows the servers of a window dropped, as of their last heartbeats. */
export interface DroppedJson {
  /** All reasons, summed. */
  readonly rows: number;
  readonly droppedBy: DroppedByJson;
}

/** `grpcforge stats --json`. */
export interface StatsJson extends VersionedJson {
  /** The window's start (`--since` back from now). */
  readonly since: IsoTime;
  readonly totals: CallStatsJson;
  /** Per method, busiest first. */
  readonly methods: readonly MethodStatsJson[];
  /** Buckets of `--bucket` with calls, oldest first. */
  readonly timeline: readonly TimelineBucketJson[];
  /** The last 10 failed calls, newest first. */
  readonly recentErrors: readonly RequestLogJson[];
  readonly dropped: DroppedJson;
  /** The window's failed calls per method, status and error reason, the largest group first (at most 100). */
  readonly errorsByReason: readonly ErrorReasonCountJson[];
}

/** `GET /api/v1/keys`, as `grpcforge keys list --json`, newest first. */
export interface ApiKeysJson extends VersionedJson {
  readonly keys: readonly ApiKeyJson[];
}

/** `POST /api/v1/keys`, as `grpcforge keys create --json`: the only time the key itself is shown. */
export interface CreatedApiKeyJson extends VersionedJson {
  /** The key, to give to the client. */
  readonly key: string;
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  /** null: it never expires. */
  readonly expiresAt: IsoTime | null;
}

/** `POST /api/v1/keys/:id/revoke`: the key as it is now. */
export interface RevokedApiKeyJson extends VersionedJson {
  readonly key: ApiKeyJson;
}

/** The body of `POST /api/v1/keys`. */
export interface CreateApiKeyRequestJson {
  /** A unique name, at most 100 printable characters. */
  readonly name: string;
  /** Role names (letters, digits, `_ . : -`). */
  readonly roles?: readonly string[];
  /** Days until it expires, 1 to 3650; absent or null: never. */
  readonly expiresInDays?: number | null;
}

/** How an RPC streams. */
export type MethodKindJson = 'unary' | 'serverStreaming' | 'clientStreaming' | 'bidiStreaming';

/** One RPC of a catalog service. */
export interface CatalogMethod {
  /** `Login`. */
  readonly name: string;
  /** `auth.v1.AuthService/Login`, as `grpcforge call` and the explorer take it. */
  readonly method: string;
  /** The gRPC path, `/auth.v1.AuthService/Login`. */
  readonly path: string;
  readonly kind: MethodKindJson;
  /** Its leading comment; empty when none. */
  readonly comment: string;
  readonly deprecated: boolean;
  readonly idempotency: 'unknown' | 'noSideEffects' | 'idempotent';
  /** Fully-qualified request message name. */
  readonly inputType: string;
  /** Fully-qualified response message name. */
  readonly outputType: string;
  /** Proto-JSON template of the request: every field with a placeholder of its type. */
  readonly requestTemplate: unknown;
  /** Proto-JSON template of the response. */
  readonly responseTemplate: unknown;
}

/** One proto service of the workspace: served by a service of `grpcforge.yaml`, or consumed by one. */
export interface CatalogService {
  /** Fully-qualified name, `auth.v1.AuthService`. */
  readonly service: string;
  /** The .proto file that declares it, relative to the contract root. */
  readonly file: string;
  /** Its leading comment; empty when none. */
  readonly comment: string;
  readonly deprecated: boolean;
  /** Names (in `grpcforge.yaml`) of the services that serve it, sorted. */
  readonly servedBy: readonly string[];
  /** Names of the services that consume it, sorted. */
  readonly consumedBy: readonly string[];
  /** In declaration order. */
  readonly methods: readonly CatalogMethod[];
}

/** `GET /api/v1/catalog`: the proto services of the workspace. */
export interface CatalogJson extends VersionedJson {
  readonly services: readonly CatalogService[];
}

/** An address the explorer may call. */
export interface ExplorerTarget {
  /** `HOST:PORT`. */
  readonly target: string;
  /** `instance`: a serving `grpcforge serve` registered in the store; `listen`: the `listen:` of `grpcforge.yaml`. */
  readonly from: 'instance' | 'listen';
  /** The service of `grpcforge.yaml`, `auth`. */
  readonly service: string;
  /** Fully-qualified services it serves. */
  readonly services: readonly string[];
  /** The instance's id, for `instance` targets. */
  readonly instanceId?: string;
}

/** `GET /api/v1/explorer/targets`: serving instances first (newest first), then `listen:` addresses. */
export interface ExplorerTargetsJson extends VersionedJson {
  readonly targets: readonly ExplorerTarget[];
}

/** The body of `POST /api/v1/explorer/call`. */
export interface ExplorerCallRequestJson {
  /** `HOST:PORT`, one of the targets. */
  readonly target: string;
  /** `pkg.Service/Method`. */
  readonly method: string;
  /** Request messages: an array, or text (one JSON value, a JSON array, or JSON lines). */
  readonly requests?: string | readonly unknown[];
  /** Metadata names and their values. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Sent as `x-api-key` for this call only. */
  readonly apiKey?: string;
  /** Sent as `authorization: Bearer …` for this call only. */
  readonly bearerToken?: string;
  /** The call's deadline, in ms (1 to 60000); absent: 10000. */
  readonly deadlineMs?: number;
}

/** What an explorer call answered. */
export interface ExplorerCallAnswer {
  /** gRPC status code name, `OK`, `UNAUTHENTICATED`, … */
  readonly status: string;
  /** gRPC status code. */
  readonly statusCode: number;
  /** The status message; empty on OK. */
  readonly message: string;
  /** Response headers (binary ones base64), each name with its values. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** Response trailers, as `headers`. */
  readonly trailers: Readonly<Record<string, readonly string[]>>;
  /** From sending the first request to the status, in ms (reflection not counted). */
  readonly durationMs: number;
  /** Responses in proto JSON, in order. */
  readonly responses: readonly unknown[];
  /** The responses were cut at one of the limits; `status` is then CANCELLED. */
  readonly truncated: boolean;
  /** Where the method's descriptors came from: `reflection`, or `contracts` when the server has no reflection. */
  readonly descriptors: 'reflection' | 'contracts';
  /** The error's details, decoded from `grpc-status-details-bin` (google.rpc.Status); absent when it sent none. */
  readonly details?: ErrorDetailsJson;
  /** `details` as lines for people, what `grpcforge call` prints under the status (`describeErrorDetails`). */
  readonly detailsText?: readonly string[];
  /** Why `grpc-status-details-bin` could not be decoded, when it was sent but is not a google.rpc.Status. */
  readonly detailsProblem?: string;
}

/** The same call as commands, credentials as environment variables (`$GRPCFORGE_API_KEY`), never their values. */
export interface ExplorerCommandsJson {
  /** A `grpcforge call …` command line. */
  readonly grpcforge: string;
  /** A `buf curl …` command line. */
  readonly bufCurl: string;
}

/** `POST /api/v1/explorer/call`: the call's outcome (a gRPC error too) and the equivalent commands. */
export interface ExplorerCallJson extends VersionedJson, ExplorerCallAnswer {
  /** The target called. */
  readonly target: string;
  /** `pkg.Service/Method` called. */
  readonly method: string;
  readonly commands: ExplorerCommandsJson;
}

/** Any refused API request (4xx, 5xx). */
export interface ApiErrorJson {
  /** Lower-case, naming the parameter or field at fault. */
  readonly error: string;
}

/**
 * What every dashboard page carries for its modules, as JSON in `<script type="application/json"
 * id="dashboard-config">` (the pages run no inline script).
 */
export interface DashboardPageConfigJson {
  /** The name of the CSRF cookie this dashboard sets (it carries the bound port: cookies are shared across ports). */
  readonly csrfCookie: string;
  /** Each window's length by name (`1h`), in ms. */
  readonly windowMs: Readonly<Record<string, number>>;
}

/**
 * How many failed calls of one method ended with one status and one error reason (`grpcforge stats --json`'s
 * `errorsByReason`; the methods page's "errors by reason"). Only calls that did not end OK are counted.
 */
export interface ErrorReasonCountJson {
  /** Fully-qualified proto service, or `_unknown`. */
  readonly service: string;
  /** The method's name, or `_unknown`. */
  readonly method: string;
  /** gRPC status code, 1 to 16. */
  readonly statusCode: number;
  /** Its name, `NOT_FOUND`. */
  readonly status: string;
  /** The reason of the errors' `errorInfo` detail, `USER_NOT_FOUND`; null for the errors that carried none. */
  readonly reason: string | null;
  /** Number of calls. */
  readonly calls: number;
}

/** `GET /api/v1/errors`: the window's failed calls by method, status and reason (one method's with `service` and `method`). */
export interface ErrorsByReasonJson extends WindowedJson {
  /** The largest group first, at most 100. */
  readonly errorsByReason: readonly ErrorReasonCountJson[];
}
