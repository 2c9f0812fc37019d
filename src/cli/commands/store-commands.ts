import type { Command } from 'commander';
import { Status } from 'nice-grpc-common';
import type { LogStore } from '../../runtime/index.js';
import { parseStatusCode } from '../../runtime/errors.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { errorMessage, UserError } from '../../util/errors.js';
import { loadConfigFor } from '../context.js';
import { parseWholeNumber } from '../flags.js';
import { err, out, printJson } from '../output/print.js';
import { formatTable } from '../output/table.js';

/** Opens the store of the workspace `grpcforge.yaml` names, runs `use`, and closes it. */
async function withStore<T>(command: Command, use: (store: LogStore) => Promise<T>): Promise<T> {
  const config = await loadConfigFor(command);
  const { openLogStore } = await import('../runtime-options.js');
  const store = await openLogStore(config);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** 5 → `NOT_FOUND`; a code nice-grpc does not name stays a number. */
const statusName = (code: number): string => Status[code] ?? String(code);

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
    .option('--json', 'print { key, id, name, roles, expiresAt } as JSON')
    .addHelpText('after', '\nExample:\n  $ grpcforge keys create --name ci-bot --roles deployer --expires-in 90d')
    .action(async (flags: { name: string; roles?: string; expiresIn?: string; json?: boolean }, command: Command) => {
      const roles = (flags.roles ?? '')
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean);
      const expiresAt = flags.expiresIn ? Date.now() + parseDuration(flags.expiresIn, '--expires-in') : undefined;
      await withStore(command, async (store) => {
        const { key, record } = await store
          .createApiKey({ name: flags.name, roles, ...(expiresAt !== undefined ? { expiresAt } : {}) })
          .catch((error: unknown) => {
            throw new UserError('key-exists', errorMessage(error));
          });
        if (flags.json) {
          printJson({ key, id: record.id, name: record.name, roles: record.roles, expiresAt: record.expiresAt });
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
        const records = await store.listApiKeys();
        if (flags.json) return printJson({ version: 1, keys: records });
        const now = Date.now();
        const state = (record: (typeof records)[number]) =>
          record.revokedAt !== null ? 'revoked' : record.expiresAt !== null && record.expiresAt <= now ? 'expired' : 'active';
        for (const line of formatTable(
          ['ID', 'NAME', 'PREFIX', 'ROLES', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED', 'REQUESTS'],
          records.map((record) => [
            record.id,
            record.name,
            record.prefix,
            record.roles.join(',') || '-',
            state(record),
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
        if (!(await store.revokeApiKey(idOrName))) throw new UserError('unknown-key', `no active API key "${idOrName}"`);
        out(`revoked ${idOrName}`);
      });
    });
}

/** `grpcforge logs`. */
export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('recent calls from the log store, newest first')
    .option('--service <name>', 'fully-qualified service, for example auth.v1.AuthService')
    .option('--method <name>', 'method name, for example Login')
    .option('--code <status>', 'only calls that ended with this status (name or number)')
    .option('--errors', 'only calls that did not end OK')
    .option('--since <duration>', 'only calls of the last 15m, 1h, 7d, ...')
    .option('--limit <n>', 'at most this many calls (default: 50)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ grpcforge logs --since 1h --errors\n  $ grpcforge logs --service auth.v1.AuthService --code UNAUTHENTICATED --json',
    )
    .action(
      async (
        flags: {
          service?: string;
          method?: string;
          code?: string;
          errors?: boolean;
          since?: string;
          limit?: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        const limit = parseWholeNumber(flags.limit, '--limit', 50, 1);
        const filter = {
          ...(flags.service ? { service: flags.service } : {}),
          ...(flags.method ? { method: flags.method } : {}),
          ...(flags.code ? { statusCode: parseStatus(flags.code) } : {}),
          ...(flags.since ? { since: Date.now() - parseDuration(flags.since, '--since') } : {}),
          ...(flags.errors ? { errorsOnly: true } : {}),
          limit,
        };
        await withStore(command, async (store) => {
          const logs = await store.logs(filter);
          if (flags.json) return printJson({ version: 1, logs });
          for (const line of formatTable(
            ['TIME', 'METHOD', 'STATUS', 'MS', 'PRINCIPAL', 'PEER', 'ERROR'],
            logs.map((log) => [
              iso(log.started_at),
              `${log.service}/${log.method}`,
              statusName(log.status_code),
              log.duration_ms,
              log.principal ?? '-',
              log.peer ?? '-',
              log.error_message ?? '',
            ]),
          )) {
            out(line);
          }
        });
      },
    );
}

/** `grpcforge stats`. */
export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('totals, success rate, p50/p95/p99 latency (computed in SQL), per method, timeline and recent errors')
    .option('--since <duration>', 'window to cover (default: 24h)')
    .option('--service <name>', 'only this fully-qualified service')
    .option('--bucket <duration>', 'timeline bucket size (default: 1h)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ grpcforge stats\n  $ grpcforge stats --since 7d --bucket 1d --service auth.v1.AuthService --json',
    )
    .action(async (flags: { since?: string; service?: string; bucket?: string; json?: boolean }, command: Command) => {
      const windowMs = parseDuration(flags.since ?? '24h', '--since');
      const bucketMs = parseDuration(flags.bucket ?? '1h', '--bucket');
      const filter = { since: Date.now() - windowMs, ...(flags.service ? { service: flags.service } : {}) };
      await withStore(command, async (store) => {
        const [totals, methods, timeline, recentErrors] = [
          await store.stats(filter),
          await store.methodStats(filter),
          await store.timeline(bucketMs, filter),
          await store.logs({ ...filter, errorsOnly: true, limit: 10 }),
        ];
        if (flags.json) {
          return printJson({ version: 1, since: filter.since, totals, methods, timeline, recentErrors });
        }
        out(`calls in the last ${formatDuration(windowMs)}: ${totals.total}, success ${(totals.successRate * 100).toFixed(2)}%`);
        out(
          `latency ms: avg ${totals.avgMs.toFixed(2)}  p50 ${totals.p50Ms.toFixed(2)}  p95 ${totals.p95Ms.toFixed(2)}  p99 ${totals.p99Ms.toFixed(2)}`,
        );
        if (methods.length > 0) {
          out('');
          for (const line of formatTable(
            ['METHOD', 'CALLS', 'ERRORS', 'AVG MS', 'MAX MS'],
            methods.map((m) => [`${m.service}/${m.method}`, m.total, m.errors, m.avgMs, m.maxMs]),
          ))
            out(line);
        }
        if (timeline.length > 0) {
          out('');
          for (const line of formatTable(
            ['FROM', 'CALLS', 'ERRORS'],
            timeline.map((bucket) => [iso(bucket.start), bucket.total, bucket.errors]),
          ))
            out(line);
        }
        if (recentErrors.length > 0) {
          out('');
          out('recent errors:');
          for (const log of recentErrors)
            out(
              `  ${iso(log.started_at)}  ${log.service}/${log.method}  ${statusName(log.status_code)}  ${log.error_message ?? ''}`,
            );
        }
      });
    });
}

/** `grpcforge status`. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('server instances recorded by `grpcforge serve`: address, pid, uptime, heartbeat age')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nAn instance still marked serving whose heartbeat (every 10 s) is older than 30 s shows as unresponsive.\n\nExample:\n  $ grpcforge status',
    )
    .action(async (flags: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const instances = await store.listInstances();
        if (flags.json) return printJson({ version: 1, instances });
        const now = Date.now();
        for (const line of formatTable(
          ['SERVICE', 'STATUS', 'ADDRESS', 'PID', 'HOST', 'UPTIME', 'HEARTBEAT'],
          instances.map((instance) => [
            instance.service,
            instance.status === 'serving' && now - instance.last_heartbeat_at > 30_000 ? 'unresponsive' : instance.status,
            instance.address,
            instance.pid,
            instance.host,
            instance.status === 'stopped' ? '-' : formatDuration(now - instance.started_at),
            `${formatDuration(now - instance.last_heartbeat_at)} ago`,
          ]),
        )) {
          out(line);
        }
      });
    });
}
