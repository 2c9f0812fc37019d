import type { Command } from 'commander';
import type { KeysCreateFlags, LogsFlags, StatsFlags } from './run-store-commands.js';

// The commands over the log store. Only their names, flags and help live here; each action loads
// ./run-store-commands.js (the store, kysely and better-sqlite3) when it runs.

/** `grpcforge keys create|list|revoke`. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage API keys (x-api-key metadata): shown once, stored as a hash');
  keys
    .command('create')
    .description('create an API key and print it once')
    .requiredOption('--name <name>', 'unique name; it is the principal of calls made with the key')
    .option('--roles <roles>', 'comma-separated roles, for example admin,reader')
    .option('--expires-in <duration>', 'lifetime such as 30d, 12h; must be more than 0 (default: never expires)')
    .option('--json', 'print { version, key, id, name, roles, expiresAt } as JSON')
    .addHelpText('after', '\nExample:\n  $ grpcforge keys create --name ci-bot --roles deployer --expires-in 90d')
    .action(async (flags: KeysCreateFlags, command: Command) =>
      (await import('./run-store-commands.js')).runKeysCreate(flags, command),
    );
  keys
    .command('list')
    .description('list API keys (never the keys themselves)')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ grpcforge keys list\n  $ grpcforge keys list --json')
    .action(async (flags: { json?: boolean }, command: Command) =>
      (await import('./run-store-commands.js')).runKeysList(flags, command),
    );
  keys
    .command('revoke')
    .argument('<id-or-name>', 'the key to revoke')
    .description('revoke an API key; servers refuse it within their cache time (5 s)')
    .addHelpText('after', '\nExample:\n  $ grpcforge keys revoke ci-bot')
    .action(async (idOrName: string, _flags: object, command: Command) =>
      (await import('./run-store-commands.js')).runKeysRevoke(idOrName, command),
    );
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
    .action(async (flags: LogsFlags, command: Command) => (await import('./run-store-commands.js')).runLogs(flags, command));
}

/** `grpcforge stats`. */
export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('calls, success rate, p50/p95/p99 latency, per method, timeline, errors by reason and recent errors')
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
    .action(async (flags: StatsFlags, command: Command) => (await import('./run-store-commands.js')).runStats(flags, command));
}

/** `grpcforge status`. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'the running server instances recorded by `grpcforge serve`: address, pid, uptime, heartbeat age, restarts, calls not recorded',
    )
    .option('--json', 'print as JSON')
    .option('--all', 'also the stopped instances (and those unresponsive for more than a day)')
    .addHelpText(
      'after',
      `
Lists the instances that run: serving, stopping, or unresponsive (still marked serving, but without a heartbeat
for 30 s; one is sent every 10 s) for up to a day after their last heartbeat. How many stopped ones it leaves out
is said on stderr; --all lists them. An instance that is not running and has a newer instance of the same service on the
same host and address is an earlier run of it (grpcforge dev restarts a service on its address at every change):
it is folded into the newest, whose RESTARTS column counts the earlier runs (with --all too).

Examples:
  $ grpcforge status
  $ grpcforge status --all --json`,
    )
    .action(async (flags: { json?: boolean; all?: boolean }, command: Command) =>
      (await import('./run-store-commands.js')).runStatus(flags, command),
    );
}
