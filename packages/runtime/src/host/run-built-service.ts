import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setClientFileBase } from '../client/file-base.js';
import { ALLOW_GRPC_TRACE_ENV, grpcTracing, installGrpcLogger } from './grpc-logging.js';
import { ServiceHostError, messageOf } from './host-error.js';
import {
  openServiceHostStore,
  startServiceHost,
  type RunningServiceHost,
  type ServerEntry,
  type ServiceHostOverrides,
} from './service-host.js';
import { SERVICE_MANIFEST_VERSION, type ServiceManifest } from './service-manifest.js';
import { LISTEN_ENV, LOG_STORE_URL_ENV } from '../vocabulary/runtime-env.js';

// The names live in the shared vocabulary (deploy writes what the host reads); the runtime's entry point keeps them.
export { LISTEN_ENV, LOG_STORE_URL_ENV };

/** Options of {@link runBuiltService}. */
export interface RunBuiltServiceOptions {
  /** The manifest beside main.js: `new URL('./grpcforge.service.json', import.meta.url)` (a `file:` URL or a path). */
  readonly manifestUrl: URL | string;
  /** Loads the compiled server module: `() => import('./gen/server/index.js')`. */
  readonly loadEntry: () => Promise<ServerEntry>;
  /** Where `${VAR}`, `GRPCFORGE_LISTEN` and `GRPCFORGE_LOG_STORE_URL` are read. @defaultValue process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The `listening on` line. @defaultValue a line on stdout */
  readonly stdout?: (line: string) => void;
  /** Status lines and errors. @defaultValue lines on stderr */
  readonly stderr?: (line: string) => void;
  /** Ends the process (2 when it cannot start, 0 after a stop signal). @defaultValue process.exit */
  readonly exit?: (code: number) => void;
}

/**
 * Runs a built service (what `dist/main.js` calls): reads the manifest, resolves the workspace root from it, applies
 * `GRPCFORGE_LISTEN` and `GRPCFORGE_LOG_STORE_URL`, refuses grpc-js tracing (which prints credentials) unless
 * `GRPCFORGE_ALLOW_GRPC_TRACE=1` and masks credentials in grpc-js's lines, loads the server module, starts the
 * service host with signal handling (SIGTERM/SIGINT/SIGHUP drain and exit 0; a second signal exits 1), prints the
 * status lines of `grpcforge serve` on stderr and, once ready, `listening on HOST:PORT` on stdout.
 * When it cannot start (a bad manifest, an unset variable, a file it cannot read, a port in use) it prints
 * `grpcforge: MESSAGE` and hints on stderr and exits 2; never throws.
 * @returns the running host, or `undefined` when it could not start.
 */
export async function runBuiltService(options: RunBuiltServiceOptions): Promise<RunningServiceHost | undefined> {
  const env = options.env ?? process.env;
  const stdout = options.stdout ?? ((line: string) => process.stdout.write(`${line}\n`));
  const stderr = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  try {
    const tracing = grpcTracing(env);
    if (tracing && env[ALLOW_GRPC_TRACE_ENV] !== '1') {
      throw new ServiceHostError(
        'env-invalid',
        `${tracing} makes grpc-js print every request's metadata to stderr, API keys and bearer tokens included`,
        [`unset ${tracing.slice(0, tracing.indexOf('='))}, or set ${ALLOW_GRPC_TRACE_ENV}=1 (credential values are then masked)`],
      );
    }
    await installGrpcLogger(stderr);
    const manifestPath =
      options.manifestUrl instanceof URL || options.manifestUrl.startsWith('file:')
        ? fileURLToPath(options.manifestUrl)
        : resolve(options.manifestUrl);
    const manifest = await readServiceManifest(manifestPath);
    const baseDir = resolve(dirname(manifestPath), manifest.workspaceRoot);
    // Before the server module loads: its modules may create clients whose TLS paths are relative to the workspace.
    setClientFileBase(baseDir);
    const overrides: ServiceHostOverrides = {
      ...listenOverride(env[LISTEN_ENV]),
      ...(env[LOG_STORE_URL_ENV] ? { logStoreUrl: env[LOG_STORE_URL_ENV] } : {}),
    };
    // The store first: its writer thread starts (on its own thread) while this one loads the server module.
    const hostOptions = { manifest, baseDir, env, overrides, status: stderr };
    const store = openServiceHostStore(hostOptions);
    store.catch(() => undefined); // awaited by the host, or closed here
    let entry: ServerEntry;
    try {
      entry = await options.loadEntry();
    } catch (error) {
      await store.then((opened) => opened?.close()).catch(() => undefined);
      throw new ServiceHostError('handlers-failed', `cannot load the server code of "${manifest.name}": ${messageOf(error)}`, [
        'run `grpcforge build` again, and `npm ci --omit=dev` where the service runs',
      ]);
    }
    const host = await startServiceHost({ ...hostOptions, entry, store, signals: true, exit });
    stdout(`listening on ${host.address}`);
    return host;
  } catch (error) {
    // Whatever stopped the start, the process ends the same way: a message, not a stack from main.js's top level.
    const known =
      error instanceof ServiceHostError
        ? error
        : new ServiceHostError('start-failed', `the service did not start: ${messageOf(error)}`, [
            'this is likely a bug: please report it with this message',
          ]);
    stderr(`grpcforge: ${known.message}`);
    for (const hint of known.hints) stderr(`  ${hint}`);
    exit(2);
    return undefined;
  }
}

/** `GRPCFORGE_LISTEN=host:port` as overrides; nothing when unset or empty. */
function listenOverride(value: string | undefined): ServiceHostOverrides {
  if (!value) return {};
  const separator = value.lastIndexOf(':');
  const host = value.slice(0, Math.max(separator, 0)).replace(/^\[(.*)\]$/, '$1');
  const port = Number(value.slice(separator + 1));
  if (separator <= 0 || !host || !/^\d+$/.test(value.slice(separator + 1)) || port > 65535) {
    throw new ServiceHostError('env-invalid', `${LISTEN_ENV}: "${value}" is not HOST:PORT`, [
      'for example 0.0.0.0:50051 (every interface, in a container) or 127.0.0.1:0 (any free port)',
    ]);
  }
  return { host, port };
}

/**
 * Reads and checks a service manifest (`grpcforge.service.json`).
 * @throws ServiceHostError `manifest-invalid` naming the file and the first key that is missing or of the wrong type,
 *   or a version this runtime does not know.
 */
export async function readServiceManifest(path: string): Promise<ServiceManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ServiceHostError('manifest-invalid', `cannot read the service manifest ${path}: ${messageOf(error)}`, [
      'run `grpcforge build`: it writes dist/grpcforge.service.json beside dist/main.js',
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ServiceHostError('manifest-invalid', `the service manifest ${path} is not JSON: ${messageOf(error)}`, [
      'run `grpcforge build` again',
    ]);
  }
  const problem = manifestProblem(value);
  if (problem) {
    throw new ServiceHostError('manifest-invalid', `the service manifest ${path}: ${problem}`, ['run `grpcforge build` again']);
  }
  return value as ServiceManifest;
}

type Check = 'string' | 'number' | 'boolean' | 'object' | 'string[]';

/** Keys every manifest has, with their types (dotted paths). */
const REQUIRED: readonly (readonly [string, Check])[] = [
  ['name', 'string'],
  ['workspaceRoot', 'string'],
  ['serviceDir', 'string'],
  ['serves', 'string[]'],
  ['listen', 'object'],
  ['listen.host', 'string'],
  ['listen.port', 'number'],
  ['server', 'object'],
  ['server.health', 'boolean'],
  ['server.reflection', 'boolean'],
  ['server.limits', 'object'],
  ['server.limits.keepalive', 'object'],
  ['server.shutdownTimeoutMs', 'number'],
  ['auth', 'object'],
  ['auth.default', 'string'],
  ['auth.methods', 'object'],
  ['auth.apiKeys', 'boolean'],
  ['logStore', 'object'],
  ['logStore.enabled', 'boolean'],
  ['logStore.url', 'string'],
  ['logStore.postgres', 'object'],
  ['logStore.postgres.poolSize', 'number'],
  ['logStore.postgres.statementTimeoutMs', 'number'],
];

/** Keys checked only when their section is there. */
const OPTIONAL: readonly (readonly [string, Check])[] = [
  ['auth.jwt.clockToleranceSec', 'number'],
  ['auth.jwt.rolesClaim', 'string'],
  ['tls.cert', 'string'],
  ['tls.key', 'string'],
  ['tls.requireClientCert', 'boolean'],
  ['telemetry.serviceName', 'string'],
  ['telemetry.traces', 'boolean'],
  ['telemetry.metrics', 'boolean'],
  ['server.validation.requests', 'boolean'],
  ['server.validation.responses', 'boolean'],
  ['server.errors.debugInfo', 'boolean'],
];

/** The first thing wrong with a parsed manifest, or `undefined`. */
function manifestProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'expected a JSON object';
  if (value.version !== SERVICE_MANIFEST_VERSION) {
    return `version ${JSON.stringify(value.version)} is not one this runtime reads (expected ${SERVICE_MANIFEST_VERSION}): build with the grpcforge that matches @grpcforge/runtime`;
  }
  for (const [path, check] of REQUIRED) {
    const found = at(value, path);
    if (!matches(found, check))
      return `"${path}" ${found === undefined ? 'is missing' : 'has the wrong type'} (expected ${check})`;
  }
  for (const [path, check] of OPTIONAL) {
    const section = path.slice(0, path.lastIndexOf('.'));
    const found = at(value, path);
    if (at(value, section) !== undefined && !matches(found, check)) {
      return `"${path}" ${found === undefined ? 'is missing' : 'has the wrong type'} (expected ${check})`;
    }
  }
  const authDefault = at(value, 'auth.default');
  if (authDefault !== 'public' && authDefault !== 'authenticated') {
    return `"auth.default" is ${JSON.stringify(authDefault)} (expected "public" or "authenticated")`;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(value: Record<string, unknown>, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split('.')) current = isObject(current) ? current[key] : undefined;
  return current;
}

function matches(value: unknown, check: Check): boolean {
  if (check === 'object') return isObject(value);
  if (check === 'string[]') return Array.isArray(value) && value.every((item) => typeof item === 'string');
  if (check === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeof value === check;
}
