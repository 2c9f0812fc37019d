import type { Command } from 'commander';
import { parseStatusCode, type LogStore, type RequestLog } from '@grpcforge/runtime';
import { selectInstances } from '@grpcforge/runtime/admin';
import { UNKNOWN_BUCKET, UNKNOWN_BUCKET_NOTE } from '@grpcforge/runtime/vocabulary';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { UserError } from '../../util/errors.js';
import { loadConfigFor } from '../context.js';
import { parseWholeNumber } from '../flags.js';
import { colourOut, err, out, printJson, styleOut } from '../output/print.js';
import { paintColumn, statusStyle, type Style } from '../output/colour.js';
import {
  STORE_JSON_VERSION,
  apiKeyJson,
  apiKeyState,
  callStatsJson,
  describeDropped,
  droppedJson,
  errorReasonCountJson,
  instanceJson,
  isoTime,
  methodStatsJson,
  requestLogJson,
  statusName,
  timelineBucketJson,
} from '../output/store-json.js';
import { formatTable } from '../output/table.js';
import { describeDefenceCounts } from '@grpcforge/runtime/vocabulary';
import type {
  ApiKeysJson,
  CreatedApiKeyJson,
  RequestJson,
  RequestsJson,
  StatsJson,
  StatusJson,
} from '@grpcforge/runtime/vocabulary';
import { escapeText } from '../output/escape.js';

/** `1 call`, `2 calls`. */
const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** Opens the store of the workspace `grpcforge.yaml` names, runs `use`, and closes it. */
async function withStore<T>(command: Command, use: (store: LogStore) => Promise<T>): Promise<T> {
  const config = await loadConfigFor(command);
  const { openLogStore } = await import('../runtime-options.js');
  // Reads, and the CLI's own rare writes (keys), go through this thread's connection: no writer thread.
  const store = await openLogStore(config, { writer: false });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** A time for tables: ISO 8601 to the second, `-` for none. */
const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** `ABORTED` or `10` → 10. @throws UserError listing the names. */
function parseStatus(value: string): number {
  const status = parseStatusCode(value);
  if (status !== undefined) return status;
  throw new UserError('bad-flag', `--code: "${value}" is not a gRPC status (expected a name like NOT_FOUND or a number 0-16)`);
}

/** The flags of `grpcforge keys create`. */
export interface KeysCreateFlags {
  readonly name: string;
  readonly roles?: string;
  readonly expiresIn?: string;
  readonly json?: boolean;
}

/** The flags of `grpcforge logs`. */
export interface LogsFlags {
  service?: string;
  method?: string;
  code?: string;
  errors?: boolean;
  principal?: string;
  since?: string;
  slowerThan?: string;
  before?: string;
  requestId?: string;
  limit?: string;
  json?: boolean;
}

/** The flags of `grpcforge stats`. */
export interface StatsFlags {
  readonly since?: string;
  readonly service?: string;
  readonly bucket?: string;
  readonly exact?: boolean;
  readonly json?: boolean;
}

/** Colours of the STATE column of `keys list` (plain when stdout gets no colour). */
const KEY_STATE_STYLES: Partial<Record<string, Style>> = { active: 'green', expired: 'yellow', revoked: 'red' };

/** Colours of the STATUS column of `status`. */
const INSTANCE_STATE_STYLES: Partial<Record<string, Style>> = {
  serving: 'green',
  stopping: 'yellow',
  unresponsive: 'red',
  stopped: 'dim',
};

/** Prints a table on stdout; `column` is coloured by its cells' text when stdout gets colour. */
function printTable(
  columns: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  column: { readonly index: number; readonly styleOf: (cell: string) => Style | undefined },
): void {
  const cells = rows.map((row) => String(row[column.index] ?? ''));
  for (const line of paintColumn(formatTable(columns, rows), columns, column.index, cells, column.styleOf, colourOut()))
    out(line);
}

/** The REASON of errors whose details named none (no `errorInfo`: a plain status, or a validation error). */
const NO_REASON = '(no reason)';

/** `12.34`: a latency for tables. */
const ms = (value: number) => value.toFixed(2);

/** `grpcforge keys create`: creates a key and prints it once. */
export async function runKeysCreate(flags: KeysCreateFlags, command: Command): Promise<void> {
  const roles = (flags.roles ?? '')
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);
  const lifetimeMs = flags.expiresIn === undefined ? undefined : parseDuration(flags.expiresIn, '--expires-in');
  if (lifetimeMs !== undefined && lifetimeMs <= 0) {
    throw new UserError(
      'bad-flag',
      `--expires-in: "${flags.expiresIn ?? ''}" would create a key that is already expired (expected a positive duration such as 30d or 12h; leave the flag out for a key that never expires)`,
    );
  }
  const expiresAt = lifetimeMs === undefined ? undefined : Date.now() + lifetimeMs;
  await withStore(command, async (store) => {
    const created = await store.apiKeys.create({ name: flags.name, roles, ...(expiresAt !== undefined ? { expiresAt } : {}) });
    if (created.kind === 'invalid-name') throw new UserError('bad-flag', created.message);
    if (created.kind === 'duplicate-name') throw new UserError('key-exists', created.message);
    const { key, record } = created;
    if (flags.json) {
      printJson({
        version: STORE_JSON_VERSION,
        key,
        id: record.id,
        name: record.name,
        roles: record.roles,
        expiresAt: isoTime(record.expiresAt),
      } satisfies CreatedApiKeyJson);
      return;
    }
    out(key);
    err(
      `created API key "${escapeText(record.name)}" (id ${record.id}${roles.length ? `, roles ${roles.join(', ')}` : ''}${expiresAt ? `, expires ${iso(expiresAt)}` : ''})`,
    );
    err('this is the only time the key is shown: store it now; send it as `x-api-key` metadata');
  });
}

/** `grpcforge keys list`: the keys, never the keys themselves. */
export async function runKeysList(flags: { json?: boolean }, command: Command): Promise<void> {
  await withStore(command, async (store) => {
    const records = await store.apiKeys.list();
    const now = Date.now();
    if (flags.json)
      return printJson({
        version: STORE_JSON_VERSION,
        keys: records.map((record) => apiKeyJson(record, now)),
      } satisfies ApiKeysJson);
    printTable(
      ['ID', 'NAME', 'PREFIX', 'ROLES', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED', 'REQUESTS'],
      records.map((record) => [
        record.id,
        record.name,
        record.prefix,
        record.roles.join(',') || '-',
        apiKeyState(record, now),
        iso(record.createdAt),
        iso(record.expiresAt),
        iso(record.lastUsedAt),
        record.requestCount,
      ]),
      { index: 4, styleOf: (state) => KEY_STATE_STYLES[state] },
    );
  });
}

/** `grpcforge keys revoke <id-or-name>`. */
export async function runKeysRevoke(idOrName: string, command: Command): Promise<void> {
  await withStore(command, async (store) => {
    if (!(await store.apiKeys.revoke(idOrName))) throw new UserError('unknown-key', `no active API key "${idOrName}"`);
    out(`revoked ${idOrName}`);
  });
}

/**
 * The ERROR cell of `logs`: the message, then what its details said, `user 42 not found [reason USER_NOT_FOUND]`,
 * `invalid request: … [field username]`.
 */
function errorCell(log: RequestLog): string {
  const said = [
    ...(log.errorReason ? [`reason ${log.errorReason}`] : []),
    ...(log.violationField ? [`field ${log.violationField}`] : []),
  ];
  return `${log.errorMessage ?? ''}${said.length > 0 ? ` [${said.join(', ')}]` : ''}`.trim();
}

/** `grpcforge logs`: stored calls, or one call with `--request-id`. */
export async function runLogs(flags: LogsFlags, command: Command): Promise<void> {
  const limit = parseWholeNumber(flags.limit, '--limit', 50, 1);
  const query = {
    ...(flags.service ? { service: flags.service } : {}),
    ...(flags.method ? { method: flags.method } : {}),
    ...(flags.code ? { statusCode: parseStatus(flags.code) } : {}),
    ...(flags.principal ? { principal: flags.principal } : {}),
    ...(flags.since ? { since: Date.now() - parseDuration(flags.since, '--since') } : {}),
    ...(flags.slowerThan ? { minDurationMs: parseWholeNumber(flags.slowerThan, '--slower-than', 0) } : {}),
    ...(flags.before ? { beforeId: parseWholeNumber(flags.before, '--before', 0, 1) } : {}),
    ...(flags.errors ? { errorsOnly: true } : {}),
    limit,
  };
  await withStore(command, async (store) => {
    if (flags.requestId !== undefined) {
      const log = await store.logs.get(flags.requestId);
      if (!log) throw new UserError('unknown-request', `no stored call has request id "${flags.requestId}"`);
      if (flags.json) return printJson({ version: STORE_JSON_VERSION, log: requestLogJson(log) } satisfies RequestJson);
      for (const [key, value] of Object.entries(requestLogJson(log)))
        out(`${key.padEnd(17)} ${escapeText(String(value ?? '-'))}`);
      return;
    }
    const logs = await store.logs.list(query);
    const nextBefore = logs.length === limit ? (logs.at(-1)?.id ?? null) : null;
    if (flags.json)
      return printJson({ version: STORE_JSON_VERSION, logs: logs.map(requestLogJson), nextBefore } satisfies RequestsJson);
    printTable(
      ['TIME', 'METHOD', 'STATUS', 'MS', 'PRINCIPAL', 'PEER', 'REQUEST ID', 'ERROR'],
      logs.map((log) => [
        iso(log.startedAt),
        `${log.service}/${log.method}`,
        statusName(log.statusCode),
        log.durationMs,
        log.principal ?? '-',
        log.peer ?? '-',
        log.requestId,
        errorCell(log),
      ]),
      { index: 2, styleOf: statusStyle },
    );
    if (nextBefore !== null) err(`more: grpcforge logs --before ${nextBefore} (with the same filters)`);
  });
}

/** `grpcforge stats`: totals, per method, timeline and recent errors. */
export async function runStats(flags: StatsFlags, command: Command): Promise<void> {
  const windowMs = parseDuration(flags.since ?? '24h', '--since');
  const bucketMs = parseDuration(flags.bucket ?? '1h', '--bucket');
  if (bucketMs % 60_000 !== 0) {
    throw new UserError('bad-flag', `--bucket: ${flags.bucket ?? ''} is not a whole number of minutes (for example 5m, 1h, 1d)`);
  }
  const window = { since: Date.now() - windowMs, ...(flags.service ? { service: flags.service } : {}) };
  await withStore(command, async (store) => {
    // Totals and per-method figures from one read of the rollups; --exact reads the raw rows for the totals.
    const breakdown = await store.statistics.breakdown(window);
    const [totals, methods, timeline, recentErrors, instances, errorsByReason] = [
      flags.exact ? await store.statistics.exactSummary(window) : breakdown.totals,
      breakdown.methods,
      await store.statistics.timeline(window, bucketMs),
      await store.logs.list({ ...window, errorsOnly: true, limit: 10 }),
      await store.instances.list(1000),
      await store.statistics.errorsByReason(window),
    ];
    // Instances alive during the window (their counters are as of their last heartbeat).
    const dropped = droppedJson(instances.filter((instance) => instance.lastHeartbeatAt >= window.since));
    if (flags.json) {
      return printJson({
        version: STORE_JSON_VERSION,
        since: isoTime(window.since),
        totals: callStatsJson(totals),
        methods: methods.map(methodStatsJson),
        timeline: timeline.map(timelineBucketJson),
        recentErrors: recentErrors.map(requestLogJson),
        dropped,
        errorsByReason: errorsByReason.map(errorReasonCountJson),
      } satisfies StatsJson);
    }
    out(`calls in the last ${formatDuration(windowMs)}: ${totals.calls}, success ${(totals.successRate * 100).toFixed(2)}%`);
    out(
      `latency ms: avg ${ms(totals.avgMs)}  p50 ${ms(totals.p50Ms)}  p95 ${ms(totals.p95Ms)}  p99 ${ms(totals.p99Ms)}  max ${ms(totals.maxMs)}` +
        (totals.exact ? '  (exact)' : '  (percentiles within 1%; --exact for exact)'),
    );
    if (dropped.rows > 0) {
      out(`${styleOut('yellow', 'not recorded:')} ${plural(dropped.rows, 'call')} (${describeDropped(dropped.droppedBy)})`);
    }
    if (methods.length > 0) {
      out('');
      for (const line of formatTable(
        ['METHOD', 'CALLS', 'ERRORS', 'P50 MS', 'P95 MS', 'P99 MS', 'MAX MS'],
        methods.map((m) => [`${m.service}/${m.method}`, m.calls, m.errors, ms(m.p50Ms), ms(m.p95Ms), ms(m.p99Ms), ms(m.maxMs)]),
      ))
        out(line);
      if (methods.some((m) => m.method === UNKNOWN_BUCKET))
        out(`${UNKNOWN_BUCKET}: ${UNKNOWN_BUCKET_NOTE} (grpcforge logs --method ${UNKNOWN_BUCKET} --json: their paths)`);
    }
    if (timeline.length > 0) {
      out('');
      for (const line of formatTable(
        ['FROM', 'CALLS', 'ERRORS', 'P95 MS'],
        timeline.map((bucket) => [iso(bucket.start), bucket.calls, bucket.errors, ms(bucket.p95Ms)]),
      ))
        out(line);
    }
    if (errorsByReason.length > 0) {
      out('');
      out('errors by reason:');
      for (const line of formatTable(
        ['METHOD', 'STATUS', 'REASON', 'CALLS'],
        errorsByReason.map((group) => [
          `${group.service}/${group.method}`,
          statusName(group.statusCode),
          group.reason ?? NO_REASON,
          group.calls,
        ]),
      ))
        out(`  ${line}`);
    }
    if (recentErrors.length > 0) {
      out('');
      out('recent errors:');
      for (const log of recentErrors)
        out(
          `  ${iso(log.startedAt)}  ${escapeText(`${log.service}/${log.method}`)}  ${styleOut('red', statusName(log.statusCode))}  ${escapeText(log.errorMessage ?? '')}`,
        );
    }
  });
}

/** `grpcforge status`: the server instances `serve` recorded. */
export async function runStatus(flags: { json?: boolean; all?: boolean }, command: Command): Promise<void> {
  await withStore(command, async (store) => {
    const now = Date.now();
    const { instances, hidden } = selectInstances(
      // Many: a server started long ago is still among the newest 1000 after many restarts of others.
      await store.instances.list(1000),
      flags.all === true,
      now,
    );
    if (flags.json) {
      return printJson({
        version: STORE_JSON_VERSION,
        instances: instances.map((instance) => instanceJson(instance, now)),
      } satisfies StatusJson);
    }
    printTable(
      ['SERVICE', 'STATUS', 'ADDRESS', 'PID', 'HOST', 'UPTIME', 'HEARTBEAT', 'RESTARTS', 'CALLS', 'DROPPED'],
      instances.map((instance) => [
        instance.service,
        instance.state,
        instance.address,
        instance.pid,
        instance.host,
        instance.state === 'stopped' ? '-' : formatDuration(now - instance.startedAt),
        `${formatDuration(now - instance.lastHeartbeatAt)} ago`,
        instance.restarts,
        instance.callsRecorded,
        instance.rowsDropped,
      ]),
      { index: 1, styleOf: (state) => INSTANCE_STATE_STYLES[state] },
    );
    // Under the table, only for the instances whose defences acted: most never do, and seven zero columns would hide it.
    for (const instance of instances) {
      const defences = describeDefenceCounts(instance.defences);
      if (defences) out(`${escapeText(instance.service)} ${instance.address} defences: ${defences}`);
    }
    if (instances.length === 0) err(hidden > 0 ? 'no instance is running' : 'no instance has registered in this store');
    if (hidden > 0) err(`${plural(hidden, 'stopped instance')} not shown (--all lists them)`);
  });
}
