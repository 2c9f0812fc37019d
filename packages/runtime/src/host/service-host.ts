import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { readServerModule, type GeneratedServerModule, type ResolvedServerModule } from './generated-module.js';
import type { RunningServer, startServer as startServerFunction } from '../server/start-server.js';
import type { LogStore } from '../logstore/create-log-store.js';
import type { InstanceRegistration } from '../logstore/instances.js';
import { redactLogStoreUrl } from '../logstore/dialect-registry.js';
import type { LogWriterCounters } from '../logstore/log-writer.js';
import { describeDropped } from '../logstore/writer-protocol.js';
import type { DefenceCountsJson } from '../vocabulary/defence-counters.js';
import { describeDefenceCounts } from '../vocabulary/describe-defence-counts.js';
import type { RunningStub } from '../stub/start-stub.js';
import { setClientFileBase } from '../client/file-base.js';
import { MissingPackageError } from '../optional-packages.js';
import { ValidationRulesError, describeRuleProblem } from '../validation/validation-rules-error.js';
import { ServiceHostError, messageOf } from './host-error.js';
import { validationScopeOf } from '../validation/validation-scope.js';
import {
  buildServiceAuthOptions,
  buildServiceCredentials,
  buildServiceTelemetryOptions,
  openServiceLogStore,
} from './host-options.js';
import type { ManifestLogStoreSettings, ServiceManifest } from './service-manifest.js';

/**
 * The module `generate` writes for a service that serves something (`src/gen/server/index.ts`, built to
 * `dist/gen/server/index.js`): {@link GeneratedServerModule}, under the name the host has always used.
 */
export type ServerEntry = GeneratedServerModule;

/** What a caller changes over the manifest (`grpcforge serve`'s flags, `GRPCFORGE_LISTEN`, `GRPCFORGE_LOG_STORE_URL`). */
export interface ServiceHostOverrides {
  /** Interface to bind instead of the manifest's. */
  readonly host?: string;
  /** Port to bind instead of the manifest's (0: any free port). */
  readonly port?: number;
  /** `false` runs without the log store even when the manifest enables it (`--no-log-store`). */
  readonly logStore?: boolean;
  /** Store URL instead of the manifest's; may hold `${VAR}` references. */
  readonly logStoreUrl?: string;
  /** Drain time instead of the manifest's, in ms. */
  readonly shutdownTimeoutMs?: number;
}

/** What the process does on a signal, and how it ends. */
export interface HostProcessOptions {
  /**
   * Stop on SIGTERM, SIGINT and SIGHUP (then exit 0); a second signal while stopping exits 1 at once.
   * @defaultValue false (the caller calls `stop`)
   */
  readonly signals?: boolean;
  /** Status lines (the serving line, the drain, the store's counters), without a newline. @defaultValue none */
  readonly status?: (line: string) => void;
  /** Ends the process after a signal or {@link HostLifecycle.stopAndExit}. @defaultValue process.exit */
  readonly exit?: (code: number) => void;
}

/** Options of {@link startServiceHost}. */
export interface ServiceHostOptions extends HostProcessOptions {
  /** What to serve and how (a built service's `grpcforge.service.json`, or `toServiceManifest` for `serve`). */
  readonly manifest: ServiceManifest;
  /** The loaded server module of the service (checked with `readServerModule`). */
  readonly entry: ServerEntry;
  /**
   * Absolute path of the workspace root: the manifest's relative paths (TLS files, the JWT public key, a `sqlite:`
   * store) and the TLS files of the service's clients resolve against it, whatever the current folder.
   */
  readonly baseDir: string;
  /** Where `${VAR}` references and variable names are read. @defaultValue process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** What the command line or the environment changes for this start (listen address, store, drain bound). */
  readonly overrides?: ServiceHostOverrides;
  /**
   * The store, already opening ({@link openServiceHostStore} with the same manifest, base folder, environment and
   * overrides): a caller that still has to load the server module starts it first, so that the writer thread starts
   * meanwhile. The host awaits it where it would have opened it, and closes it when the start fails before.
   * @defaultValue the host opens it itself
   */
  readonly store?: Promise<LogStore | undefined>;
}

/** A running host: its listener, its store and instance row, and how it stops. */
export interface HostLifecycle {
  /** `host:port` it listens on (the real port when 0 was asked). */
  readonly address: string;
  /** The store it records into; `undefined` without one. */
  readonly store: LogStore | undefined;
  /** The id of its row in the store's instance table (registered only with a store). */
  readonly instanceId: string;
  /**
   * Stops once (later calls return the same promise): with `reason`, prints `REASON: draining in-flight calls (up to
   * N ms)`; the instance turns `stopping`; in-flight calls drain up to the shutdown timeout (then are cancelled); the
   * store is flushed; the instance turns `stopped`; the store closes; prints the store's counters and the outcome.
   * @returns `'drained'` when every call finished in time, `'forced'` when some were cancelled.
   */
  stop(reason?: string): Promise<'drained' | 'forced'>;
  /** {@link stop}, then exit 0 (1 when stopping failed); called again while stopping, prints `REASON again: exiting now` and exits 1. */
  stopAndExit(reason: string): void;
}

/** A running service host. */
export interface RunningServiceHost extends HostLifecycle {
  /** The running nice-grpc server (its address, `shutdown`, telemetry). */
  readonly server: RunningServer;
  /** The drain time its stop uses, in ms. */
  readonly shutdownTimeoutMs: number;
}

/** How often a running instance refreshes its row, in ms. */
const HEARTBEAT_MS = 10_000;
/** How long the `stopping` mark of the instance row may hold up the drain, in ms. */
const STOPPING_MARK_MS = 1_000;

/** Waits for `promise` to settle, at most `ms`; its outcome, value or error, is ignored. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Starts a service the way `grpcforge serve` and a built service's `main.js` do: expands `${VAR}` references from
 * `env`, builds the server credentials, auth (API keys through the log store, a JWT verifier) and telemetry options,
 * creates the service context, opens the log store (with its writer), listens, registers the instance row and keeps
 * it fresh with a heartbeat, and prints the serving line. Relative client TLS paths of the process resolve against
 * `baseDir` from then on. Does not print `listening on`: the caller does, once it is ready for signals.
 * @throws ServiceHostError `tls-config`, `jwt-config`, `telemetry-config`, `log-store-failed`, `not-generated`,
 *   `service-context-failed`, `missing-package`, `port-in-use`, `listen-failed` or `start-failed`; an open store is
 *   closed first.
 */
export async function startServiceHost(options: ServiceHostOptions): Promise<RunningServiceHost> {
  const { manifest, baseDir, overrides = {} } = options;
  const env = options.env ?? process.env;
  const status = options.status ?? (() => {});
  const host = overrides.host ?? manifest.listen.host;
  const port = overrides.port ?? manifest.listen.port;
  const shutdownTimeoutMs = overrides.shutdownTimeoutMs ?? manifest.server.shutdownTimeoutMs;
  const where = { baseDir, env };
  const logStore = logStoreSettingsOf(manifest, overrides);
  let prepared;
  try {
    const entry = readServerModule(options.entry, manifest.name);
    // Before the service context: it may create clients whose TLS paths are relative to the workspace.
    setClientFileBase(baseDir);
    const credentials = await buildServiceCredentials(manifest.tls, manifest.name, where);
    const serviceContext = await createServiceContextOf(manifest.name, entry);
    const telemetry = buildServiceTelemetryOptions(manifest.telemetry, env);
    prepared = { entry, credentials, serviceContext, telemetry };
  } catch (error) {
    // A store the caller started opening is not handed over: closed here, whatever its outcome.
    await options.store?.then((store) => store?.close()).catch(() => undefined);
    throw error;
  }
  const { entry, credentials, serviceContext, telemetry } = prepared;
  // The store's writer thread answers 150–400 ms after it was started, on its own thread, while this one would wait:
  // the modules the server loads meanwhile are then ready when it starts.
  const serverModules = prefetchServerModules(manifest, entry);
  // Awaited below unless the store fails first: its failure must not then end the process as unhandled.
  serverModules.catch(() => undefined);
  const store = await (options.store ?? openHostStore(logStore, overrides.logStore, baseDir, env, status));
  // An open store holds a writer thread (and a pool): closed on every error from here to listening, or the process
  // would print the error and never exit.
  const closeOnError = async (error: unknown): Promise<never> => {
    await store?.close();
    throw error;
  };
  const auth = await buildServiceAuthOptions(manifest.auth, store, where).catch(closeOnError);
  const { startServer } = await serverModules;
  const server = await startServer({
    services: entry.services,
    host,
    port,
    descriptorSet: entry.descriptorSet,
    health: manifest.server.health,
    reflection: manifest.server.reflection,
    limits: manifest.server.limits,
    ...(manifest.server.validation ? { validation: manifest.server.validation } : {}),
    ...(manifest.server.errors ? { errors: manifest.server.errors } : {}),
    serviceContext,
    auth,
    ...(entry.authHooks ? { authHooks: entry.authHooks } : {}),
    ...(store ? { recordCall: store.logs.record } : {}),
    ...(entry.loggingHooks ? { loggingHooks: entry.loggingHooks } : {}),
    middleware: entry.middleware,
    ...(credentials ? { credentials } : {}),
    ...(telemetry ? { telemetry } : {}),
  }).catch((error: unknown) => closeOnError(startError(error, host, port)));
  const lifecycle = await hostLifecycle(
    {
      address: server.address,
      store,
      registration: { service: manifest.name, services: manifest.serves },
      drainingFor: shutdownTimeoutMs,
      close: async () => {
        const outcome = await server.shutdown(shutdownTimeoutMs);
        // Every call has finished or been cancelled, so every row is queued: flush them all.
        await store?.flush();
        return outcome;
      },
      defenceCounts: () => server.defenceCounts(),
      closed: (outcome, counters) => {
        if (counters) status(`log store: ${describeCounters(counters)}`);
        // Only when a defence acted: a quiet stop stays as short as it was.
        const defences = describeDefenceCounts(server.defenceCounts());
        if (defences) status(`defences: ${defences}`);
        status(outcome === 'drained' ? 'stopped: every call finished' : 'stopped: calls still running were cancelled');
      },
    },
    options,
  );
  const rpcs = entry.services.reduce((count, registration) => count + rpcCount(registration.definition), 0);
  const { server: settings, auth: authSettings } = manifest;
  status(
    `serving ${manifest.serves.join(', ')} (${rpcs} RPC${rpcs === 1 ? '' : 's'})` +
      `${settings.health ? ', health' : ''}${settings.reflection ? ', reflection' : ''}` +
      (credentials ? (manifest.tls?.requireClientCert ? ', mTLS' : ', TLS') : ', plaintext') +
      `, auth default ${authSettings.default}` +
      (store ? `, log store ${redactLogStoreUrl(logStore.url)}` : ', no log store'),
  );
  if (server.telemetry?.prometheusAddress) status(`metrics on http://${server.telemetry.prometheusAddress}/metrics`);
  return { ...lifecycle, server, shutdownTimeoutMs };
}

/** Options of {@link startStubHost}. */
export interface StubHostOptions extends HostProcessOptions {
  /** The name its instance row gets, for example `auth` or `auth.v1.AuthService` (shown as `NAME (stub)`). */
  readonly name: string;
  /** Starts the stub (`startStub(definition, handlers, options)`). */
  readonly start: () => Promise<RunningStub>;
  /** Fully-qualified name of the stubbed service, for the instance row. */
  readonly fullName: string;
  /** Log store for the instance row (the stub's calls are not recorded); absent or disabled: none. */
  readonly logStore?: ManifestLogStoreSettings;
  /** Absolute path of the workspace root, for a relative `sqlite:` store. */
  readonly baseDir: string;
  /** Where `${VAR}` references are read. @defaultValue process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** A running stub host. */
export interface RunningStubHost extends HostLifecycle {
  readonly stub: RunningStub;
}

/**
 * Hosts a stub like a server (`grpcforge serve --stub`): registers it in the log store (so `status` lists it), keeps
 * its row fresh, and on stop prints `stub: N calls received`, closes it and marks the row `stopped`.
 * @throws ServiceHostError `log-store-failed` when the store cannot be opened (the stub is closed first).
 */
export async function startStubHost(options: StubHostOptions): Promise<RunningStubHost> {
  const status = options.status ?? (() => {});
  const env = options.env ?? process.env;
  const stub = await options.start();
  const store = options.logStore
    ? await openHostStore(options.logStore, true, options.baseDir, env, status).catch(async (error: unknown) => {
        await stub.close();
        throw error;
      })
    : undefined;
  const lifecycle = await hostLifecycle(
    {
      address: stub.address,
      store,
      registration: { service: `${options.name} (stub)`, services: [options.fullName] },
      close: async () => {
        status(`stub: ${stub.calls.length} call${stub.calls.length === 1 ? '' : 's'} received`);
        await stub.close();
        return 'drained';
      },
    },
    options,
  );
  return { ...lifecycle, stub };
}

/** What {@link hostLifecycle} hosts. */
interface Hosted {
  readonly address: string;
  readonly store: LogStore | undefined;
  readonly registration: Pick<InstanceRegistration, 'service' | 'services'>;
  /** Drain time to announce on a stop with a reason; absent: nothing announced. */
  readonly drainingFor?: number;
  /** Stops serving (and flushes what it recorded). */
  readonly close: () => Promise<'drained' | 'forced'>;
  /** The server's defence counters, stored with each heartbeat; a stub has none. */
  readonly defenceCounts?: () => DefenceCountsJson;
  /** After the store closed: report. */
  readonly closed?: (outcome: 'drained' | 'forced', counters: LogWriterCounters | undefined) => void;
}

/** Registers the instance, keeps it fresh, and stops in order: stopping → close → stopped → store closed. */
async function hostLifecycle(hosted: Hosted, options: HostProcessOptions): Promise<HostLifecycle> {
  const { store } = hosted;
  const status = options.status ?? (() => {});
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const instanceId = randomUUID();
  let heartbeat: NodeJS.Timeout | undefined;
  if (store) {
    try {
      await store.instances.register({
        id: instanceId,
        ...hosted.registration,
        address: hosted.address,
        pid: process.pid,
        host: hostname(),
        startedAt: Date.now(),
      });
    } catch (error) {
      await hosted.close();
      await store.close();
      throw new ServiceHostError('log-store-failed', `cannot register the instance in the log store: ${messageOf(error)}`);
    }
    heartbeat = setInterval(
      () => void store.instances.heartbeat(instanceId, undefined, hosted.defenceCounts?.()).catch(() => {}),
      HEARTBEAT_MS,
    );
    heartbeat.unref();
  }
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  const onSignal = (signal: NodeJS.Signals) => lifecycle.stopAndExit(signal);
  let stopped: Promise<'drained' | 'forced'> | undefined;
  const lifecycle: HostLifecycle = {
    address: hosted.address,
    store,
    instanceId,
    stop(reason) {
      stopped ??= (async () => {
        if (reason !== undefined && hosted.drainingFor !== undefined) {
          status(`${reason}: draining in-flight calls (up to ${hosted.drainingFor} ms)`);
        }
        // The `stopping` mark is best effort and bounded: a store that cannot be written (PostgreSQL down) must not
        // delay or skip the drain, nor eat the grace period the orchestrator gives.
        if (store)
          await settleWithin(store.instances.heartbeat(instanceId, 'stopping', hosted.defenceCounts?.()), STOPPING_MARK_MS);
        let outcome: 'drained' | 'forced';
        try {
          outcome = await hosted.close();
        } finally {
          if (heartbeat) clearInterval(heartbeat);
          if (store) {
            await store.instances
              .heartbeat(instanceId, 'stopped', hosted.defenceCounts?.())
              .catch((error: unknown) => status(`log store: cannot mark the instance stopped: ${messageOf(error)}`));
            // Every call has finished or been cancelled, so every row is queued: close flushes them, then closes.
            await store.close();
          }
          if (options.signals) for (const signal of signals) process.off(signal, onSignal);
        }
        hosted.closed?.(outcome, store?.counters());
        return outcome;
      })();
      return stopped;
    },
    stopAndExit(reason) {
      if (stopped) {
        status(`${reason} again: exiting now`);
        exit(1);
        return;
      }
      lifecycle.stop(reason).then(
        () => exit(0),
        (error: unknown) => {
          status(`stopping failed: ${messageOf(error)}`);
          exit(1);
        },
      );
    },
  };
  if (options.signals) for (const signal of signals) process.on(signal, onSignal);
  return lifecycle;
}

/** The store settings of a start: the manifest's, with the URL of the overrides. */
function logStoreSettingsOf(manifest: ServiceManifest, overrides: ServiceHostOverrides): ManifestLogStoreSettings {
  return overrides.logStoreUrl !== undefined ? { ...manifest.logStore, url: overrides.logStoreUrl } : manifest.logStore;
}

/**
 * Starts opening the store {@link startServiceHost} would open with the same options (none when the manifest or the
 * overrides turn it off), for its `store` option: the writer thread then starts while the caller loads the server
 * module.
 * @throws ServiceHostError `log-store-failed` (from the promise), as {@link startServiceHost} would.
 */
export function openServiceHostStore(
  options: Pick<ServiceHostOptions, 'manifest' | 'baseDir' | 'env' | 'overrides' | 'status'>,
): Promise<LogStore | undefined> {
  const { manifest, baseDir, overrides = {} } = options;
  const status = options.status ?? (() => {});
  return openHostStore(logStoreSettingsOf(manifest, overrides), overrides.logStore, baseDir, options.env ?? process.env, status);
}

/** The store of a host, when its settings enable it and the caller did not turn it off. */
async function openHostStore(
  settings: ManifestLogStoreSettings,
  enabled: boolean | undefined,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  status: (line: string) => void,
): Promise<LogStore | undefined> {
  if (!settings.enabled || enabled === false) return undefined;
  return openServiceLogStore(settings, {
    baseDir,
    env,
    writer: true,
    onMigrationProgress: (message) => status(`log store: ${message}`),
  });
}

/**
 * Starts loading what `startServer` imports for this service (the server module, the wire shapes of its requests,
 * reflection when served, protovalidate when the set holds `buf.validate` rules and requests or responses are
 * validated), so that the loading overlaps the store's start. Only the server module's promise is kept: a failed
 * optional import is reported by `startServer`'s own import of it, with its context.
 */
function prefetchServerModules(
  manifest: ServiceManifest,
  entry: ResolvedServerModule,
): Promise<{ readonly startServer: typeof startServerFunction }> {
  const ignore = () => undefined;
  void import('../server/request-wire-shapes.js').catch(ignore);
  if (manifest.server.reflection) void import('../server/reflection.js').catch(ignore);
  if (validationScopeOf(entry.descriptorSet, manifest.server.validation))
    void import('../validation/method-validators.js').catch(ignore);
  return import('../server/start-server.js');
}

/**
 * Creates the service context once, before the server listens.
 * @throws ServiceHostError `service-context-failed` with the error of the user's `createServiceContext`.
 */
async function createServiceContextOf(name: string, entry: ResolvedServerModule): Promise<unknown> {
  try {
    return await entry.createServiceContext();
  } catch (error) {
    throw new ServiceHostError('service-context-failed', `createServiceContext of "${name}" failed: ${messageOf(error)}`, [
      'see src/context.ts of the service',
    ]);
  }
}

/**
 * The error of a server that did not start: `missing-package` for an optional package that is not installed,
 * `port-in-use` for a port taken (the gRPC one, or the Prometheus one, named as such), `listen-failed` for another
 * failed bind, `telemetry-config` for a telemetry setting the SDK refused, else `start-failed`.
 */
function startError(error: unknown, host: string, port: number): ServiceHostError {
  if (error instanceof ServiceHostError) return error;
  if (error instanceof MissingPackageError) return new ServiceHostError('missing-package', error.message, [], { cause: error });
  const message = messageOf(error);
  // Node's `listen EADDRINUSE: address already in use 127.0.0.1:9464`; grpc-js's names the gRPC address (`…:50051]`).
  const busy = /EADDRINUSE[^\n]*?address already in use (\S+?)\]?(?:\s|$)/.exec(message)?.[1];
  if (busy !== undefined && Number(busy.slice(busy.lastIndexOf(':') + 1)) !== port) {
    return new ServiceHostError(
      'port-in-use',
      `cannot serve metrics on ${busy} (telemetry.prometheus): the port is already in use`,
      ['stop the process listening there, or choose another telemetry.prometheus address'],
    );
  }
  if (/EADDRINUSE/.test(message)) {
    return new ServiceHostError('port-in-use', `cannot listen on ${host}:${port}: the port is already in use`, [
      'stop the process listening there, or listen elsewhere (GRPCFORGE_LISTEN=host:port)',
    ]);
  }
  if (error instanceof ValidationRulesError) {
    return new ServiceHostError('start-failed', error.message, error.problems.map(describeRuleProblem), { cause: error });
  }
  if (/^OTLP /.test(message)) return new ServiceHostError('telemetry-config', `telemetry.otlp: ${message}`, [], { cause: error });
  if (/No address added|EACCES|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN/.test(message)) {
    return new ServiceHostError('listen-failed', `cannot listen on ${host}:${port}: ${message}`);
  }
  return new ServiceHostError('start-failed', `the server did not start: ${message}`, [], { cause: error });
}

function rpcCount(definition: object): number {
  const methods = (definition as { methods?: object }).methods;
  return Object.keys(methods ?? definition).length;
}

/** `1200 calls written, 3 dropped (queue full 3)`: what the store did with this process's calls. */
function describeCounters(counters: LogWriterCounters): string {
  return `${counters.written} call${counters.written === 1 ? '' : 's'} written${counters.dropped ? `, ${counters.dropped} dropped (${describeDropped(counters.droppedBy)})` : ''}`;
}
