import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { ServiceRegistration } from '../../runtime/index.js';
import { UserError, errorMessage } from '../../util/errors.js';
import { requireService, type GlobalOptions } from '../context.js';
import { err, out } from '../output/print.js';

interface ServeFlags {
  readonly host?: string;
  readonly port?: string;
  readonly shutdownTimeout?: string;
  /** commander's --no-log-store. */
  readonly logStore: boolean;
}

/** The module `generate` writes for a service that serves something. */
interface ServerEntry {
  readonly services: readonly ServiceRegistration[];
  readonly descriptorSet: Uint8Array;
}

/** `grpcforge serve <service>`: runs a service's handlers on nice-grpc with health and reflection. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .argument('<service>', 'name of the service in grpcforge.yaml')
    .description('run a service: its handlers on nice-grpc, with gRPC health, server reflection and graceful shutdown')
    .option('--host <host>', 'interface to bind (default: the host of services.<name>.listen)')
    .option('-p, --port <port>', 'port to bind; 0 takes a free one (default: the port of services.<name>.listen)')
    .option('--shutdown-timeout <ms>', 'drain time for in-flight calls on SIGTERM/SIGINT, in ms (default: server.shutdownTimeoutMs)')
    .option('--no-log-store', 'do not record calls (API keys are then not accepted either)')
    .addHelpText(
      'after',
      `
The pipeline, outermost first: request logger -> auth -> error mapping -> handler. Auth follows grpcforge.yaml's
auth section (default: authenticated; health and reflection are public); every call is recorded in the log store
(logStore.url), which also holds API keys and this server instance's heartbeat.
Handlers are found by convention in src/handlers/<service>/<rpc>.ts (TypeScript is loaded with tsx); run
\`grpcforge generate\` first. The bound address is printed as "listening on HOST:PORT".
A handler error that is not a ServerError reaches the client as INTERNAL with a generic message; the error and the
method path go to stderr. SIGTERM or SIGINT stops accepting calls, drains in-flight ones, then cancels the rest.

Examples:
  $ grpcforge serve auth
  $ grpcforge serve user --port 0
  $ AUTH_ADDR=127.0.0.1:6000 grpcforge serve user`,
    )
    .action(async (name: string, flags: ServeFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const { findConfigFile, loadConfigOrThrow } = await import('../../config/load.js');
      const config = await loadConfigOrThrow(globals.config ?? findConfigFile(process.cwd()));
      const service = requireService(config, name);
      if (service.serves.length === 0 || !service.listen) {
        throw new UserError('nothing-to-serve', `service "${name}" serves nothing`, ['add services under services.' + name + '.serves']);
      }
      const entryPath = join(service.dir, 'src/gen/server/index.ts');
      if (!existsSync(entryPath)) {
        throw new UserError('not-generated', `service "${name}" has no generated server code`, ['run `grpcforge generate` first']);
      }
      const port = parseNumber(flags.port, '--port', service.listen.port);
      const shutdownTimeoutMs = parseNumber(flags.shutdownTimeout, '--shutdown-timeout', config.server.shutdownTimeoutMs);

      const { register } = await import('tsx/esm/api');
      register();
      let entry: ServerEntry;
      try {
        entry = (await import(pathToFileURL(entryPath).href)) as ServerEntry;
      } catch (error) {
        const hints = ['check the files under ' + join(service.dirRelative, 'src/handlers') + ' (run `npx tsc` for type errors)'];
        // Generated code is ESM; without "type": "module" Node loads .ts files as CommonJS.
        if (/require\(\)|ERR_REQUIRE_ESM|Cannot use import statement/.test(errorMessage(error))) {
          hints.unshift('the workspace package.json needs "type": "module" (grpcforge init writes it)');
        }
        throw new UserError('handlers-failed', `cannot load the handlers of "${name}": ${errorMessage(error)}`, hints);
      }
      const { startServer } = await import('../../runtime/index.js');
      const { buildAuthOptions, buildServerCredentials, openLogStore } = await import('../runtime-options.js');
      const credentials = await buildServerCredentials(config, name);
      const store = config.logStore.enabled && flags.logStore ? await openLogStore(config) : undefined;
      const auth = await buildAuthOptions(config.auth, store);
      const server = await startServer({
        services: entry.services,
        host: flags.host ?? service.listen.host,
        port,
        descriptorSet: entry.descriptorSet,
        health: config.server.health,
        reflection: config.server.reflection,
        auth,
        ...(store ? { recordCall: store.record } : {}),
        ...(credentials ? { credentials } : {}),
      }).catch(async (error: unknown) => {
        await store?.close();
        throw new UserError('listen-failed', `cannot listen on ${flags.host ?? service.listen?.host}:${port}: ${errorMessage(error)}`);
      });
      const instanceId = randomUUID();
      let heartbeat: NodeJS.Timeout | undefined;
      if (store) {
        const now = Date.now();
        await store.registerInstance({
          id: instanceId,
          service: name,
          address: server.address,
          pid: process.pid,
          host: hostname(),
          status: 'serving',
          started_at: now,
          last_heartbeat_at: now,
          services: JSON.stringify(service.serves),
        });
        heartbeat = setInterval(() => void store.heartbeatInstance(instanceId, Date.now()).catch(() => {}), 10_000);
        heartbeat.unref();
      }
      const rpcs = entry.services.reduce((count, registration) => count + rpcCount(registration.definition), 0);
      err(
        `serving ${service.serves.join(', ')} (${rpcs} RPC${rpcs === 1 ? '' : 's'})` +
          `${config.server.health ? ', health' : ''}${config.server.reflection ? ', reflection' : ''}` +
          `${credentials ? (config.tls?.requireClientCert ? ', mTLS' : ', TLS') : ', plaintext'}` +
          `, auth default ${config.auth.default}${store ? `, log store ${config.logStore.url}` : ', no log store'}`,
      );
      out(`listening on ${server.address}`);

      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          err(`${signal} again: exiting now`);
          process.exit(1);
        }
        stopping = true;
        err(`${signal}: draining in-flight calls (up to ${shutdownTimeoutMs} ms)`);
        void (async () => {
          if (store) await store.heartbeatInstance(instanceId, Date.now(), 'stopping').catch(() => {});
          const outcome = await server.shutdown(shutdownTimeoutMs);
          if (heartbeat) clearInterval(heartbeat);
          if (store) {
            // Every call has finished or been cancelled, so every row is queued: flush them all.
            await store.heartbeatInstance(instanceId, Date.now(), 'stopped').catch(() => {});
            await store.close();
            const counters = store.counters();
            err(`log store: ${counters.written} calls written${counters.dropped ? `, ${counters.dropped} dropped (queue full)` : ''}`);
          }
          err(outcome === 'drained' ? 'stopped: every call finished' : 'stopped: calls still running were cancelled');
          process.exit(0);
        })();
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}

function rpcCount(definition: object): number {
  const methods = (definition as { methods?: object }).methods;
  return Object.keys(methods ?? definition).length;
}

function parseNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new UserError('bad-flag', `${flag}: expected a whole number ≥ 0, got "${value}"`);
  return number;
}
