import { isIP } from 'node:net';
import type { Command } from 'commander';
import { DASHBOARD_WINDOWS, isDashboardWindow } from '../../dashboard/windows.js';
import { UserError, errorMessage } from '../../util/errors.js';
import { loadConfigFor } from '../context.js';
import { loadDashboardWorkspace } from '../dashboard-workspace.js';
import { parseWholeNumber } from '../flags.js';
import { err, out } from '../output/print.js';
import { stopWithParent } from '../stop-with-parent.js';

interface DashboardFlags {
  host?: string;
  port?: string;
  since?: string;
  open?: boolean;
  allowHost?: string[];
}

// windows.ts imports nothing: the window list of the API, without loading it for --help.
const WINDOWS = Object.keys(DASHBOARD_WINDOWS);

/** `grpcforge dashboard`. */
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(
      'web pages and a JSON API (/api/v1/…) over the log store: overview, methods, requests, live tail, instances, API keys, service catalog, API explorer',
    )
    .option('--host <address>', 'address to bind (default: 127.0.0.1)')
    .option('--port <n>', 'port to listen on; 0 picks a free one (default: 0)')
    .option('--since <window>', `window the page shows first: ${WINDOWS.join(', ')} (default: 24h)`)
    .option('--open', 'open the address in the default browser ($BROWSER, else xdg-open, open or start)')
    .option(
      '--allow-host <name>',
      'a name the Host header may use beside the bound address (behind a proxy or a DNS name); repeatable',
      (value: string, all: string[] | undefined) => [...(all ?? []), value],
    )
    .addHelpText(
      'after',
      `
Prints one line, dashboard on http://HOST:PORT/#token=TOKEN: open it in a browser (or pass --open). The page
trades the token for a session cookie (HttpOnly, SameSite=Strict); scripts and curl send Authorization: Bearer
TOKEN instead. The token changes at every start. A request whose Host header is not the bound address (or
localhost, on loopback) is refused with 403, against DNS rebinding: add names with --allow-host. The dashboard only reads the log store (it creates and migrates
it, as every command does, when it is missing or older), except for API keys: its keys page creates and revokes
them, as grpcforge keys does (POST /api/v1/keys, POST /api/v1/keys/ID/revoke, Content-Type: application/json).
SIGINT or SIGTERM stops the server; under npm (npx grpcforge dashboard), so does the end of npm.

Examples:
  $ grpcforge dashboard
  $ grpcforge dashboard --open
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
      for (const name of flags.allowHost ?? []) {
        if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name) && isIP(name) === 0) {
          throw new UserError(
            'bad-flag',
            `--allow-host: "${name}" is not a host name (expected a name like dash.internal, without port)`,
          );
        }
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
          workspace: await loadDashboardWorkspace(config, err),
          allowHosts: flags.allowHost ?? [],
          shapes: shapes.dashboardShapes(),
        }).catch((error: unknown) => {
          const code = (error as { code?: unknown }).code;
          if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
            throw new UserError('listen-failed', `cannot listen on ${host}:${String(port)}: ${errorMessage(error)}`);
          }
          throw error;
        });
        const reason = await new Promise<string>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
          // Under npx, a SIGTERM to npx may end npx and its shell only: the dashboard would keep its port.
          stopWithParent(resolve);
          out(`dashboard on ${dashboard.url}`);
          if (flags.open) void openInBrowser(dashboard.url);
        });
        err(`dashboard: ${reason}: stopping`);
        await dashboard.close();
      } finally {
        await store.close();
      }
    });
}

/** Opens the address with the `open` package; a failure is a note on stderr, the dashboard keeps running. */
async function openInBrowser(url: string): Promise<void> {
  try {
    const { default: open } = await import('open');
    const child = await open(url);
    child.once('error', (error) => err(`dashboard: --open: ${errorMessage(error)}; open the address above by hand`));
  } catch (error) {
    err(`dashboard: --open: ${errorMessage(error)}; open the address above by hand`);
  }
}
