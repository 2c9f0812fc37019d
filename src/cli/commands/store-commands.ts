import type { Command } from 'commander';
import type { LogStore } from '../../runtime/index.js';
import { parseStatusCode } from '../../runtime/errors.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { errorMessage, UserError } from '../../util/errors.js';
import { loadConfigFor } from '../context.js';
import { parseWholeNumber } from '../flags.js';
import { err, out, printJson } from '../output/print.js';
import {
  STORE_JSON_VERSION,
  apiKeyJson,
  apiKeyState,
  callStatsJson,
  describeDropped,
  droppedJson,
  instanceJson,
  isoTime,
  methodStatsJson,
  requestLogJson,
  statusName,
  timelineBucketJson,
} from '../output/store-json.js';
import { formatTable } from '../output/table.js';

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

/** `grpcforge keys create|list|revoke`. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage API keys (x-api-key metadata): shown once, stored as a hash');
  keys
    .command('create')
    .description('create an API key and print it once')
    .requiredOption('--name <name>', 'unique name; it is the principal of calls made with the key')
    .option('--roles <roles>', 'comma-separated roles, for example admin,reader')
    .option('--expires-in <duration>', 'lifetime such as 30d, 12h (default: never expires)')
    .option('--json', 'print { version, key, id, name, roles, expiresAt } as JSON')
    .addHelpText('after', '\nExample:\n  $ grpcforge keys create --name ci-bot --roles deployer --expires-in 90d')
    .action(async (flags: { name: string; roles?: string; expiresIn?: string; json?: boolean }, command: Command) => {
      const roles = (flags.roles ?? '')
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean);
      const expiresAt = flags.expiresIn ? Date.now() + parseDuration(flags.expiresIn, '--expires-in') : undefined;
      await withStore(command, async (store) => {
        const { key, record } = await store.apiKeys
          .create({ name: flags.name, roles, ...(expiresAt !== undefined ? { expiresAt } : {}) })
          .catch((error: unknown) => {
            throw new UserError('key-exists', errorMessage(error));
          });
        if (flags.json) {
          printJson({
            version: STORE_JSON_VERSION,
            key,
            id: record.id,
            name: record.name,
            roles: record.roles,
            expiresAt: isoTime(record.expiresAt),
          });
          return;
        }
        out(key);
        err(
          `created API key "${record.name}" (id ${record.id}${roles.length ? `, roles ${roles.join(', ')}` : ''}${expiresAt ? `, expires ${iso(expiresAt)}` : ''})`,
        );
        err('this is the only time the key is shown: store it now; send it as `x-api-key` metadata');
      });
    });
  keys
    .command('list')
    .description('list API keys (never the keys themselves)')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ grpcforge keys list\n  $ grpcforge keys list --json')
    .action(async (flags: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const records = await store.apiKeys.list();
        const now = Date.now();
        if (flags.json) return printJson({ version: STORE_JSON_VERSION, keys: records.map((record) => apiKeyJson(record, now)) });
        for (const line of formatTable(
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
        )) {
          out(line);
        }
      });
    });
  keys
    .command('revoke')
    .argument('<id-or-name>', 'the key to revoke')
    .description('revoke an API key; servers refuse it within their cache time (5 s)')
    .addHelpText('after', '\nExample:\n  $ grpcforge keys revoke ci-bot')
    .action(async (idOrName: string, _flags: object, command: Command) => {
      await withStore(command, async (store) => {
        if (!(await store.apiKeys.revoke(idOrName))) throw new UserError('unknown-key', `no active API key "${idOrName}"`);
        out(`revoked ${idOrName}`);
      });
    });
}

interface LogsFlags {
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

/** `grpcforge logs`. */
export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('stored calls, the last to finish first; every column of one call with --request-id')
    .option('--service <name>', 'fully-qualified service, for example auth.v1.AuthService')
    .option('--method <name>', 'method name, for example Login')
    .option('--code <status>', 'only calls that ended with this status (name or number)')
    .option('--errors', 'only calls that did not end OK')
    .option('--principal <principal>', 'only calls of this caller, for example apikey:ci-bot')
    .option('--since <duration>', 'only calls of the last 15m, 1h, 7d, ...')
    .option('--slower-than <ms>', 'only calls that took at least this many ms')
    .option('--before <id>', 'the next page: calls older than this row id (printed as nextBefore)')
    .option('--request-id <id>', 'one call by its request id, every stored column')
    .option('--limit <n>', 'at most this many calls (default: 50)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ grpcforge logs --since 1h --errors\n  $ grpcforge logs --service auth.v1.AuthService --code UNAUTHENTICATED --json\n  $ grpcforge logs --request-id 019a7c52-…',
    )
    .action(async (flags: LogsFlags, command: Command) => {
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
          if (flags.json) return printJson({ version: STORE_JSON_VERSION, log: requestLogJson(log) });
          for (const [key, value] of Object.entries(requestLogJson(log))) out(`${key.padEnd(17)} ${String(value ?? '-')}`);
          return;
        }
        const logs = await store.logs.list(query);
        const nextBefore = logs.length === limit ? (logs.at(-1)?.id ?? null) : null;
        if (flags.json) return printJson({ version: STORE_JSON_VERSION, logs: logs.map(requestLogJson), nextBefore });
        for (const line of formatTable(
          ['TIME', 'METHOD', 'STATUS', 'MS', 'PRINCIPAL', 'PEER', 'REQUEST ID', 'ERROR'],
          logs.map((log) => [
            iso(log.startedAt),
            `${log.service}/${log.method}`,
            statusName(log.statusCode),
            log.durationMs,
            log.principal ?? '-',
            log.peer ?? '-',
            log.requestId,
            log.errorMessage ?? '',
          ]),
        )) {
          out(line);
        }
        if (nextBefore !== null) err(`more: grpcforge logs --before ${nextBefore} (with the same filters)`);
      });
    });
}

/** `12.34`: a latency for tables. */
const ms = (value: number) => value.toFixed(2);

/** `grpcforge stats`. */
export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('calls, success rate, p50/p95/p99 latency, per method, timeline and recent errors, from per-minute rollups')
    .option('--since <duration>', 'window to cover, counted in whole minutes (default: 24h)')
    .option('--service <name>', 'only this fully-qualified service')
    .option('--bucket <duration>', 'timeline bucket size, a whole number of minutes (default: 1h)')
    .option('--exact', 'compute the totals’ percentiles exactly from the raw rows of the window (slower on big stores)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Percentiles come from mergeable latency sketches (DDSketch) kept per minute, service, method and status code:
each is within 1% of the exact value, at any number of calls. --exact reads the window's rows instead.

Examples:
  $ grpcforge stats
  $ grpcforge stats --since 7d --bucket 1d --service auth.v1.AuthService --json`,
    )
    .action(
      async (flags: { since?: string; service?: string; bucket?: string; exact?: boolean; json?: boolean }, command: Command) => {
        const windowMs = parseDuration(flags.since ?? '24h', '--since');
        const bucketMs = parseDuration(flags.bucket ?? '1h', '--bucket');
        if (bucketMs % 60_000 !== 0) {
          throw new UserError(
            'bad-flag',
            `--bucket: ${flags.bucket ?? ''} is not a whole number of minutes (for example 5m, 1h, 1d)`,
          );
        }
        const window = { since: Date.now() - windowMs, ...(flags.service ? { service: flags.service } : {}) };
        await withStore(command, async (store) => {
          const [totals, methods, timeline, recentErrors, instances] = [
            flags.exact ? await store.statistics.exactSummary(window) : await store.statistics.summary(window),
            await store.statistics.methods(window),
            await store.statistics.timeline(window, bucketMs),
            await store.logs.list({ ...window, errorsOnly: true, limit: 10 }),
            await store.instances.list(1000),
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
            });
          }
          out(
            `calls in the last ${formatDuration(windowMs)}: ${totals.calls}, success ${(totals.successRate * 100).toFixed(2)}%`,
          );
          out(
            `latency ms: avg ${ms(totals.avgMs)}  p50 ${ms(totals.p50Ms)}  p95 ${ms(totals.p95Ms)}  p99 ${ms(totals.p99Ms)}  max ${ms(totals.maxMs)}` +
              (totals.exact ? '  (exact)' : '  (percentiles within 1%; --exact for exact)'),
          );
          if (dropped.rows > 0) {
            out(`not recorded: ${dropped.rows} calls (${describeDropped(dropped.droppedBy)})`);
          }
          if (methods.length > 0) {
            out('');
            for (const line of formatTable(
              ['METHOD', 'CALLS', 'ERRORS', 'P50 MS', 'P95 MS', 'P99 MS', 'MAX MS'],
              methods.map((m) => [
                `${m.service}/${m.method}`,
                m.calls,
                m.errors,
                ms(m.p50Ms),
                ms(m.p95Ms),
                ms(m.p99Ms),
                ms(m.maxMs),
              ]),
            ))
              out(line);
          }
          if (timeline.length > 0) {
            out('');
            for (const line of formatTable(
              ['FROM', 'CALLS', 'ERRORS', 'P95 MS'],
              timeline.map((bucket) => [iso(bucket.start), bucket.calls, bucket.errors, ms(bucket.p95Ms)]),
            ))
              out(line);
          }
          if (recentErrors.length > 0) {
            out('');
            out('recent errors:');
            for (const log of recentErrors)
              out(
                `  ${iso(log.startedAt)}  ${log.service}/${log.method}  ${statusName(log.statusCode)}  ${log.errorMessage ?? ''}`,
              );
          }
        });
      },
    );
}

/** `grpcforge status`. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('server instances recorded by `grpcforge serve`: address, pid, uptime, heartbeat age, calls not recorded')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nAn instance still marked serving whose heartbeat (every 10 s) is older than 30 s shows as unresponsive.\n\nExample:\n  $ grpcforge status',
    )
    .action(async (flags: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const instances = await store.instances.list();
        const now = Date.now();
        if (flags.json) {
          return printJson({ version: STORE_JSON_VERSION, instances: instances.map((instance) => instanceJson(instance, now)) });
        }
        for (const line of formatTable(
          ['SERVICE', 'STATUS', 'ADDRESS', 'PID', 'HOST', 'UPTIME', 'HEARTBEAT', 'CALLS', 'DROPPED'],
          instances.map((instance) => [
            instance.service,
            instance.state,
            instance.address,
            instance.pid,
            instance.host,
            instance.state === 'stopped' ? '-' : formatDuration(now - instance.startedAt),
            `${formatDuration(now - instance.lastHeartbeatAt)} ago`,
            instance.callsRecorded,
            instance.rowsDropped,
          ]),
        )) {
          out(line);
        }
      });
    });
}
