import type {
  ApiKeyRecord,
  CallStats,
  ErrorReasonCount,
  LogStore,
  MethodCallStats,
  RequestLog,
  TimelineBucket,
} from '@grpcforge/runtime';
import { parseStatusCode } from '@grpcforge/runtime';
import { DAY_MS, MINUTE_MS } from '@grpcforge/runtime/vocabulary';
import { selectInstances, type ListedInstance } from '@grpcforge/runtime/admin';
import type {
  ApiKeyJson,
  ApiKeysJson,
  CallStatsJson,
  CreatedApiKeyJson,
  ErrorReasonCountJson,
  ErrorsByReasonJson,
  InstanceJson,
  InstancesJson,
  IsoTime,
  MapEdgeJson,
  MapJson,
  MapNodeJson,
  MethodStatsJson,
  MethodsJson,
  OverviewJson,
  RequestJson,
  RequestLogJson,
  RequestsJson,
  RevokedApiKeyJson,
  StoreJsonVersion,
  TimelineBucketJson,
  TimelineJson,
} from '@grpcforge/runtime/vocabulary';
import { DASHBOARD_WINDOWS, isDashboardWindow, type DashboardWindow } from './windows.js';
import type { DashboardWorkspace } from './workspace.js';

/**
 * The JSON API of the dashboard (`/api/v1/…`): plain functions over the log store's query API, no SQL and no HTTP.
 * The shapes are the CLI's `--json` shapes (version 2), handed in by the CLI so that both print the same fields.
 */

/** The `--json` v2 formatters of the CLI (`cli/output/store-json.ts`), passed in: the dashboard layer cannot import the CLI. */
export interface DashboardShapes {
  readonly version: StoreJsonVersion;
  readonly isoTime: { (ms: number): IsoTime; (ms: number | null): IsoTime | null };
  readonly callStats: (stats: CallStats) => CallStatsJson;
  readonly methodStats: (stats: MethodCallStats) => MethodStatsJson;
  readonly timelineBucket: (bucket: TimelineBucket) => TimelineBucketJson;
  readonly requestLog: (log: RequestLog) => RequestLogJson;
  /** `stats --json`'s shape of one group of `errorsByReason`. */
  readonly errorReasonCount: (group: ErrorReasonCount) => ErrorReasonCountJson;
  readonly instance: (instance: ListedInstance, now: number) => InstanceJson;
  /** `keys list --json`'s shape of one key (never the key itself). */
  readonly apiKey: (record: ApiKeyRecord, now: number) => ApiKeyJson;
}

/**
 * The JSON body of a POST (`{}` when empty). The content type and size are checked before, by the app's middleware.
 * @throws DashboardRequestError 400 when it is not JSON.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  try {
    return text === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    throw new DashboardRequestError(400, 'body: not valid JSON');
  }
}

/** A request the API refuses: its HTTP status and a message naming the parameter. */
export class DashboardRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'DashboardRequestError';
  }
}

/**
 * The rows one `/api/v1/requests` page looks at, at most (by row id, newest first): a filter that matches nothing
 * answers in tens of ms instead of walking a 10M-row table for seconds (bench/dashboard.ts --sparse).
 */
export const REQUESTS_SCAN_ROWS = 100_000;

/** The totals of a window without calls. */
const emptyStats: CallStats = {
  calls: 0,
  ok: 0,
  errors: 0,
  successRate: 1,
  avgMs: 0,
  minMs: 0,
  maxMs: 0,
  p50Ms: 0,
  p95Ms: 0,
  p99Ms: 0,
  requestBytes: 0,
  responseBytes: 0,
  byStatus: [],
  exact: false,
};

export { DASHBOARD_WINDOWS, isDashboardWindow, type DashboardWindow } from './windows.js';

/** Query parameters of one request (`c.req.query()`). */
export type ApiQuery = Readonly<Record<string, string | undefined>>;

/** What the handlers need: the store, the shapes, the default window, the workspace and a clock. */
export interface DashboardApiOptions {
  readonly store: LogStore;
  readonly shapes: DashboardShapes;
  readonly defaultWindow: DashboardWindow;
  readonly workspace: DashboardWorkspace;
  readonly now?: () => number;
}

/** The handlers of `/api/v1/…`, each returning the JSON body. @throws DashboardRequestError for a bad parameter. */
export function createDashboardApi({ store, shapes, defaultWindow, workspace, now = Date.now }: DashboardApiOptions) {
  const windowOf = (query: ApiQuery) => {
    const window = query.window ?? defaultWindow;
    if (!isDashboardWindow(window)) {
      throw new DashboardRequestError(
        400,
        `window: "${window}" is not a window (expected one of ${Object.keys(DASHBOARD_WINDOWS).join(', ')})`,
      );
    }
    // Whole minutes, as the rollups are.
    const since = Math.floor((now() - DASHBOARD_WINDOWS[window].windowMs) / MINUTE_MS) * MINUTE_MS;
    return { window, since, bucketMs: DASHBOARD_WINDOWS[window].bucketMs };
  };

  return {
    /** `{ version, window, since, totals, services: [{ service, ...totals }] }`. */
    async overview(query: ApiQuery): Promise<OverviewJson> {
      const { window, since } = windowOf(query);
      const { totals, services } = await store.statistics.breakdown({ since });
      return {
        version: shapes.version,
        window,
        since: shapes.isoTime(since),
        totals: shapes.callStats(totals),
        services: services.map(({ service, ...stats }) => ({ service, ...shapes.callStats(stats) })),
      };
    },

    /**
     * The service map: `{ version, window, since, windowMs, nodes, edges }`. A node is a service of
     * `grpcforge.yaml` (`{ name, serves, listen, external: false, ...totals }`, the calls to the proto services it
     * serves), or a consumed proto service no workspace service serves (`external: true`, named by it). An edge
     * (`{ from, to, service, ...totals }`) is one `consumes:` entry, with the calls the provider recorded for that
     * proto service, from every caller (the server side does not know which client called).
     */
    async map(query: ApiQuery): Promise<MapJson> {
      const { window, since } = windowOf(query);
      const groups = Object.fromEntries(workspace.services.map((service) => [service.name, service.serves]));
      const { services, groups: byNode } = await store.statistics.breakdown({ since }, groups);
      const statsOf = (service: string) => services.find((entry) => entry.service === service);
      const providerOf = (service: string) =>
        workspace.services.find((candidate) => candidate.serves.includes(service))?.name ?? service;
      const nodes = workspace.services.map((service): MapNodeJson => ({
        name: service.name,
        serves: service.serves,
        listen: service.listen ?? null,
        external: false,
        ...shapes.callStats(byNode[service.name] ?? emptyStats),
      }));
      const external = [
        ...new Set(workspace.services.flatMap((service) => service.consumes).filter((fq) => providerOf(fq) === fq)),
      ].sort();
      for (const service of external) {
        nodes.push({
          name: service,
          serves: [service],
          listen: null,
          external: true,
          ...shapes.callStats(statsOf(service) ?? emptyStats),
        });
      }
      const edges = workspace.services.flatMap((consumer) =>
        consumer.consumes.map((service): MapEdgeJson => ({
          from: consumer.name,
          to: providerOf(service),
          service,
          ...shapes.callStats(statsOf(service) ?? emptyStats),
        })),
      );
      return {
        version: shapes.version,
        window,
        since: shapes.isoTime(since),
        windowMs: now() - since,
        nodes,
        edges,
      };
    },

    /** `{ version, window, since, methods: [{ service, method, ...totals }] }`, busiest first. */
    async methods(query: ApiQuery): Promise<MethodsJson> {
      const { window, since } = windowOf(query);
      const methods = await store.statistics.methods({ since });
      return { version: shapes.version, window, since: shapes.isoTime(since), methods: methods.map(shapes.methodStats) };
    },

    /**
     * `{ version, window, since, errorsByReason: [{ service, method, code, status, reason, count }] }`: the window's
     * failed calls by method, status and error reason, largest first; one method's with `service` and `method`.
     */
    async errors(query: ApiQuery): Promise<ErrorsByReasonJson> {
      const { window, since } = windowOf(query);
      const groups = await store.statistics.errorsByReason({
        since,
        ...(query.service ? { service: query.service } : {}),
        ...(query.method ? { method: query.method } : {}),
      });
      return {
        version: shapes.version,
        window,
        since: shapes.isoTime(since),
        errorsByReason: groups.map(shapes.errorReasonCount),
      };
    },

    /** `{ version, window, since, bucketMs, timeline: [{ start, ...totals }] }`: only buckets with calls. */
    async timeline(query: ApiQuery): Promise<TimelineJson> {
      const { window, since, bucketMs } = windowOf(query);
      const timeline = await store.statistics.timeline({ since }, bucketMs);
      return {
        version: shapes.version,
        window,
        since: shapes.isoTime(since),
        bucketMs,
        timeline: timeline.map(shapes.timelineBucket),
      };
    },

    /**
     * `{ version, logs, nextBefore }`: the last to finish first, filtered by service, method, code, `errorsOnly`,
     * principal, `minDurationMs` and `since` (a window name, counted back from now, or an ISO 8601 time). A page
     * looks at {@link REQUESTS_SCAN_ROWS} rows at most: when a filter matches few of them, it holds fewer than
     * `limit` calls and `nextBefore` goes on from where it stopped (null only when no older row is left).
     */
    async requests(query: ApiQuery): Promise<RequestsJson> {
      const limit = wholeNumber(query, 'limit', 50, 1, 500);
      const before = wholeNumber(query, 'before', undefined, 1);
      const code = query.code === undefined || query.code === '' ? undefined : parseStatusCode(query.code);
      if (query.code && code === undefined) {
        throw new DashboardRequestError(
          400,
          `code: "${query.code}" is not a gRPC status (expected a name like NOT_FOUND or a number 0-16)`,
        );
      }
      const errorsOnly = flag(query, 'errorsOnly');
      const minDurationMs = milliseconds(query, 'minDurationMs');
      const since = sinceOf(query, now());
      const { logs, nextBefore } = await store.logs.page({
        ...(query.service ? { service: query.service } : {}),
        ...(query.method ? { method: query.method } : {}),
        ...(code !== undefined ? { statusCode: code } : {}),
        ...(errorsOnly ? { errorsOnly } : {}),
        ...(query.principal ? { principal: query.principal } : {}),
        ...(minDurationMs !== undefined ? { minDurationMs } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(before !== undefined ? { beforeId: before } : {}),
        limit,
        scanRows: REQUESTS_SCAN_ROWS,
      });
      return { version: shapes.version, logs: logs.map(shapes.requestLog), nextBefore };
    },

    /** `{ version, log }`. @throws DashboardRequestError 404 when no stored call has the id. */
    async request(requestId: string): Promise<RequestJson> {
      const log = await store.logs.get(requestId);
      if (!log) throw new DashboardRequestError(404, `no stored call has request id "${requestId}"`);
      return { version: shapes.version, log: shapes.requestLog(log) };
    },

    /**
     * `{ version, instances, hidden }`: as `grpcforge status --json` (restarts folded; the running instances, or every
     * one with `all=true`), and how many it left out.
     * @throws DashboardRequestError 400 for an `all` that is not true or false.
     */
    async instances(query: ApiQuery): Promise<InstancesJson> {
      const at = now();
      const { instances, hidden } = selectInstances(await store.instances.list(1000), flag(query, 'all'), at);
      return { version: shapes.version, instances: instances.map((instance) => shapes.instance(instance, at)), hidden };
    },

    /** `{ version, keys }`, as `grpcforge keys list --json`, newest first (never the keys themselves). */
    async keys(): Promise<ApiKeysJson> {
      const records = await store.apiKeys.list();
      const at = now();
      return { version: shapes.version, keys: records.map((record) => shapes.apiKey(record, at)) };
    },

    /**
     * Creates a key from `{ name, roles?, expiresInDays? }`, as `grpcforge keys create --json`:
     * `{ version, key, id, name, roles, expiresAt }`, the only time the key is shown.
     * @throws DashboardRequestError 400 for a bad body, 409 when a key has the name.
     */
    async createKey(body: unknown): Promise<CreatedApiKeyJson> {
      const { name, roles, expiresInDays } = keyRequest(body);
      const at = now();
      const created = await store.apiKeys.create({
        name,
        roles,
        now: at,
        ...(expiresInDays !== undefined ? { expiresAt: at + expiresInDays * DAY_MS } : {}),
      });
      if (created.kind === 'duplicate-name') throw new DashboardRequestError(409, created.message);
      if (created.kind === 'invalid-name') throw new DashboardRequestError(400, created.message);
      const { key, record } = created;
      return {
        version: shapes.version,
        key,
        id: record.id,
        name: record.name,
        roles: record.roles,
        expiresAt: shapes.isoTime(record.expiresAt),
      };
    },

    /** Revokes the active key with this id (not a name). @throws DashboardRequestError 404 when there is none. */
    async revokeKey(id: string): Promise<RevokedApiKeyJson> {
      const record = (await store.apiKeys.list()).find((candidate) => candidate.id === id);
      if (!record || record.revokedAt !== null || !(await store.apiKeys.revoke(record.id))) {
        throw new DashboardRequestError(404, `no active API key has id "${id}"`);
      }
      const revoked = (await store.apiKeys.list()).find((candidate) => candidate.id === id) ?? record;
      return { version: shapes.version, key: shapes.apiKey(revoked, now()) };
    },
  };
}

/** Key names: what `grpcforge keys create --name` takes, printable, at most this long. */
const MAX_KEY_NAME = 100;

/** The body of `POST /api/v1/keys`, checked. @throws DashboardRequestError 400 naming the bad field. */
function keyRequest(body: unknown): { name: string; roles: string[]; expiresInDays?: number } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DashboardRequestError(400, 'body: expected a JSON object { name, roles?, expiresInDays? }');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((field) => !['name', 'roles', 'expiresInDays'].includes(field));
  if (unknown.length > 0) {
    throw new DashboardRequestError(400, `body: unknown field ${unknown.map((field) => `"${field}"`).join(', ')}`);
  }
  const { name, roles = [], expiresInDays } = fields;
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_KEY_NAME || /[\p{Cc}]/u.test(name)) {
    throw new DashboardRequestError(400, `name: expected a non-empty string of at most ${MAX_KEY_NAME} characters`);
  }
  if (
    !Array.isArray(roles) ||
    !roles.every((role): role is string => typeof role === 'string' && /^[\w.:-]{1,100}$/.test(role))
  ) {
    throw new DashboardRequestError(400, 'roles: expected an array of role names (letters, digits, _ . : -)');
  }
  if (
    expiresInDays !== undefined &&
    expiresInDays !== null &&
    (typeof expiresInDays !== 'number' || !Number.isInteger(expiresInDays) || expiresInDays < 1 || expiresInDays > 3650)
  ) {
    throw new DashboardRequestError(400, 'expiresInDays: expected a whole number of days from 1 to 3650, or null');
  }
  return {
    name: name.trim(),
    roles: [...new Set(roles)],
    ...(typeof expiresInDays === 'number' ? { expiresInDays } : {}),
  };
}

function wholeNumber(query: ApiQuery, name: string, fallback: number, min: number, max?: number): number;
function wholeNumber(query: ApiQuery, name: string, fallback: undefined, min: number, max?: number): number | undefined;
function wholeNumber(query: ApiQuery, name: string, fallback: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER) {
  const value = query[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new DashboardRequestError(400, `${name}: expected a whole number from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

/** `true`/`1` or `false`/`0` (empty: false). */
function flag(query: ApiQuery, name: string): boolean {
  const value = query[name];
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new DashboardRequestError(400, `${name}: expected true or false, got "${value}"`);
}

/** A duration in ms (a number ≥ 0, fractions allowed), or undefined when absent. */
function milliseconds(query: ApiQuery, name: string): number | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(number)) {
    throw new DashboardRequestError(400, `${name}: expected a number of milliseconds (0 or more), got "${value}"`);
  }
  return number;
}

/** `since`: a window name counted back from now (`1h`), or an ISO 8601 time; undefined when absent. */
function sinceOf(query: ApiQuery, now: number): number | undefined {
  const value = query.since;
  if (value === undefined || value === '') return undefined;
  if (isDashboardWindow(value)) return now - DASHBOARD_WINDOWS[value].windowMs;
  const time = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new DashboardRequestError(
      400,
      `since: "${value}" is neither a window (${Object.keys(DASHBOARD_WINDOWS).join(', ')}) nor an ISO 8601 time`,
    );
  }
  return time;
}
