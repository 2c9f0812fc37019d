import { join, relative } from 'node:path';
import type { ResolvedConfig, ResolvedTlsSettings } from '../config/resolved.js';
import type {
  ManifestJwtSettings,
  ManifestLogStoreSettings,
  ManifestTelemetrySettings,
  ManifestTlsSettings,
  ServiceManifest,
} from '@grpcforge/runtime';
import { UserError } from '../util/errors.js';
import { pathInside, toPosix } from '../util/fs.js';

/** Options of {@link toServiceManifest}. */
export interface ServiceManifestOptions {
  /** Absolute path of the folder the manifest will be written to; default `<service dir>/dist`. */
  readonly manifestDir?: string;
}

/**
 * The manifest of one service (what `grpcforge build` writes as `dist/grpcforge.service.json`), from the resolved
 * config: `${VAR}` references stay references, and the paths the config made absolute (TLS files, the JWT public key,
 * a `sqlite:` store) become relative to the workspace root again, with `${SERVICE}` replaced by the service name.
 * Paths outside the workspace stay absolute. Plain JSON data: `JSON.parse(JSON.stringify(manifest))` deep-equals it.
 * @throws UserError `unknown-service` when the workspace has no service `serviceName`, `nothing-to-serve` when it
 *   serves nothing.
 */
export function toServiceManifest(
  config: ResolvedConfig,
  serviceName: string,
  options: ServiceManifestOptions = {},
): ServiceManifest {
  const service = config.services.find((candidate) => candidate.name === serviceName);
  if (!service) {
    throw new UserError('unknown-service', `no service "${serviceName}" in grpcforge.yaml`, [
      `services: ${config.services.map((candidate) => candidate.name).join(', ') || '(none)'}`,
    ]);
  }
  if (service.serves.length === 0 || !service.listen) {
    throw new UserError('nothing-to-serve', `service "${serviceName}" serves nothing`, [
      `add services under services.${serviceName}.serves`,
    ]);
  }
  const root = config.workspaceDir;
  const manifestDir = options.manifestDir ?? join(service.dir, 'dist');
  const path = (absolute: string) => workspacePath(root, absolute);
  const { auth, logStore, server } = config;
  return {
    version: 1,
    name: service.name,
    workspaceRoot: toPosix(relative(manifestDir, root)) || '.',
    serviceDir: service.dirRelative || '.',
    serves: [...service.serves],
    listen: { host: service.listen.host, port: service.listen.port },
    server: {
      health: server.health,
      reflection: server.reflection,
      limits: { ...server.limits, keepalive: { ...server.limits.keepalive } },
      shutdownTimeoutMs: server.shutdownTimeoutMs,
      validation: { ...server.validation },
      errors: { ...server.errors },
    },
    auth: {
      default: auth.default,
      methods: Object.fromEntries(
        Object.entries(auth.methods).map(([method, rule]) => [
          method,
          typeof rule === 'string' ? rule : { roles: [...rule.roles] },
        ]),
      ),
      apiKeys: auth.apiKeys,
      throttle: auth.throttle,
      ...(auth.jwt ? { jwt: jwtOf(auth.jwt, path) } : {}),
      ...(auth.mtls
        ? {
            mtls: {
              roles: Object.fromEntries(Object.entries(auth.mtls.roles).map(([identity, roles]) => [identity, [...roles]])),
              allowCommonName: auth.mtls.allowCommonName,
            },
          }
        : {}),
    },
    ...(service.tls ? { tls: tlsOf(service.tls, path) } : {}),
    logStore: logStoreSettingsOf(logStore, root),
    ...(config.telemetry ? { telemetry: telemetrySettingsOf(config.telemetry, serviceName) } : {}),
  };
}

/** `absolute` relative to the workspace root (POSIX), or unchanged when it lies outside the workspace. */
function workspacePath(root: string, absolute: string): string {
  const inside = pathInside(root, absolute);
  return inside === undefined ? toPosix(absolute) : inside || '.';
}

/**
 * The `logStore` section as the runtime takes it: a `sqlite:` file relative to the workspace root `root` (absolute
 * when outside it), `${VAR}` references kept.
 */
export function logStoreSettingsOf(logStore: ResolvedConfig['logStore'], root: string): ManifestLogStoreSettings {
  return {
    enabled: logStore.enabled,
    url: storeUrlOf(logStore.url, root),
    postgres: { poolSize: logStore.postgres.poolSize, statementTimeoutMs: logStore.postgres.statementTimeoutMs },
    ...(logStore.retentionMs !== undefined ? { retentionMs: logStore.retentionMs } : {}),
  };
}

/** A `sqlite:` URL with its (absolute) file relative to the workspace root; other URLs unchanged. */
function storeUrlOf(url: string, root: string): string {
  if (!url.startsWith('sqlite:') || url === 'sqlite::memory:') return url;
  return `sqlite:${workspacePath(root, url.slice('sqlite:'.length))}`;
}

function jwtOf(jwt: NonNullable<ResolvedConfig['auth']['jwt']>, path: (absolute: string) => string): ManifestJwtSettings {
  return {
    ...(jwt.secretEnv !== undefined ? { secretEnv: jwt.secretEnv } : {}),
    ...(jwt.publicKey !== undefined ? { publicKey: path(jwt.publicKey) } : {}),
    ...(jwt.jwksUrl !== undefined ? { jwksUrl: jwt.jwksUrl } : {}),
    ...(jwt.issuer !== undefined ? { issuer: jwt.issuer } : {}),
    ...(jwt.audience !== undefined ? { audience: jwt.audience } : {}),
    ...(jwt.algorithms !== undefined ? { algorithms: [...jwt.algorithms] } : {}),
    clockToleranceSec: jwt.clockToleranceSec,
    rolesClaim: jwt.rolesClaim,
  };
}

function tlsOf(tls: ResolvedTlsSettings, path: (absolute: string) => string): ManifestTlsSettings {
  return {
    ...(tls.ca !== undefined ? { ca: path(tls.ca) } : {}),
    cert: path(tls.cert),
    key: path(tls.key),
    requireClientCert: tls.requireClientCert,
  };
}

/**
 * The telemetry settings of service `serviceName`: `service.name` defaults to the service name; the Prometheus address
 * is the service's own under `prometheus.services`, else the shared `prometheus.listen`; OTLP header values keep their
 * `${VAR}` references.
 */
export function telemetrySettingsOf(
  telemetry: NonNullable<ResolvedConfig['telemetry']>,
  serviceName: string,
): ManifestTelemetrySettings {
  const prometheus = telemetry.prometheus?.services[serviceName] ?? telemetry.prometheus?.listen;
  return {
    serviceName: telemetry.serviceName ?? serviceName,
    traces: telemetry.traces,
    metrics: telemetry.metrics,
    ...(telemetry.otlp
      ? {
          otlp: {
            endpoint: telemetry.otlp.endpoint,
            ...(telemetry.otlp.protocol !== undefined ? { protocol: telemetry.otlp.protocol } : {}),
            headers: { ...telemetry.otlp.headers },
            intervalMs: telemetry.otlp.intervalMs,
          },
        }
      : {}),
    ...(prometheus ? { prometheus: { host: prometheus.host, port: prometheus.port } } : {}),
  };
}
