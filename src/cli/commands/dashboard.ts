import type { Command } from 'commander';
import { DASHBOARD_WINDOWS, isDashboardWindow } from '../../dashboard/api.js';
import { UserError, errorMessage } from '../../util/errors.js';
import { loadConfigFor } from '../context.js';
import { parseWholeNumber } from '../flags.js';
import { err, out } from '../output/print.js';

interface DashboardFlags {
  host?: string;
  port?: string;
  since?: string;
}

// api.ts loads no hono (only the runtime's errors, which the store commands load anyway): its window list is the one.
const WINDOWS = Object.keys(DASHBOARD_WINDOWS);

/** `grpcforge dashboard`. */
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(
      'web pages and a JSON API (/api/v1/…) over the log store: overview, methods, requests, live tail, instances, API keys',
    )
    .option('--host <address>', 'address to bind (default: 127.0.0.1)')
    .option('--port <n>', 'port to listen on; 0 picks a free one (default: 0)')
    .option('--since <window>', `window the page shows first: ${WINDOWS.join(', ')} (default: 24h)`)
    .addHelpText(
      'after',
      `
Prints one line, dashboard on http://HOST:PORT/#token=TOKEN: open it in a browser. Every API request needs
Authorization: Bearer TOKEN (the pages take it from the address; the live tail, /api/v1/tail, also takes
?token=TOKEN); the token changes at every start. The dashboard only reads the log store (it creates and migrates
it, as every command does, when it is missing or older), except for API keys: its keys page creates and revokes
them, as grpcforge keys does (POST /api/v1/keys, POST /api/v1/keys/ID/revoke, Content-Type: application/json).
SIGINT or SIGTERM stops the server.

Examples:
  $ grpcforge dashboard
  $ grpcforge dashboard --port 8080 --since 1h
  $ curl -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8080/api/v1/overview?window=1h"`,
    )
    .action(async (flags: DashboardFlags, command: Command) => {
      const port = parseWholeNumber(flags.port, '--port', 0);
      if (port > 65_535)
        throw new UserError('bad-flag', `--port: expected a whole number from 0 to 65535, got "${String(port)}"`);
      const host = flags.host ?? '127.0.0.1';
      const since = flags.since ?? '24h';
      if (!isDashboardWindow(since)) {
        throw new UserError('bad-flag', `--since: "${since}" is not a dashboard window (expected one of ${WINDOWS.join(', ')})`);
      }
      const config = await loadConfigFor(command);
      const { openLogStore } = await import('../runtime-options.js');
      const store = await openLogStore(config, { writer: false });
      try {
        const [{ startDashboard }, shapes] = await Promise.all([
          import('../../dashboard/server.js'),
          import('../output/store-json.js'),
        ]);
        const dashboard = await startDashboard({
          store,
          host,
          port,
          defaultWindow: since,
          shapes: {
            version: shapes.STORE_JSON_VERSION,
            isoTime: shapes.isoTime,
            callStats: shapes.callStatsJson,
            methodStats: shapes.methodStatsJson,
            timelineBucket: shapes.timelineBucketJson,
            requestLog: shapes.requestLogJson,
            instance: shapes.instanceJson,
            apiKey: shapes.apiKeyJson,
          },
        }).catch((error: unknown) => {
          const code = (error as { code?: unknown }).code;
          if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
            throw new UserError('listen-failed', `cannot listen on ${host}:${String(port)}: ${errorMessage(error)}`);
          }
          throw error;
        });
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
          out(`dashboard on ${dashboard.url}`);
        });
        err(`dashboard: ${signal}: stopping`);
        await dashboard.close();
      } finally {
        await store.close();
      }
    });
}
