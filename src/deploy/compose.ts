import { posix } from 'node:path';
import { Scalar, stringify } from 'yaml';
import { APP_DIR, filesOf, type DeployModel, type DeployOptions } from './deploy-model.js';
import { healthProbeCommand } from './dockerfile.js';
import { LOG_STORE_URL_ENV, OTLP_ENDPOINT_ENV } from './runtime-env.js';

/** Name of the PostgreSQL service and of its volume in compose.yaml. */
export const COMPOSE_POSTGRES = 'postgres';
/** Name of the volume that holds the SQLite store, shared by every service. */
export const COMPOSE_STORE_VOLUME = 'grpcforge-store';
/** Official PostgreSQL image of the Compose file. */
export const POSTGRES_IMAGE = 'postgres:17';

/** A secret read from the host environment or the `.env` file beside compose.yaml: Compose refuses to start without it. */
function fromHost(variable: string): string {
  return `\${${variable}:?set ${variable} in the environment or in .env beside compose.yaml}`;
}

/** A string YAML prints in double quotes. */
function quoted(value: string): Scalar {
  const scalar = new Scalar(value);
  scalar.type = Scalar.QUOTE_DOUBLE;
  return scalar;
}

/** A literal value: Compose would expand `$` in it. */
function literal(value: string): string {
  return value.replaceAll('$', '$$$$');
}

/**
 * The read-only bind mounts of a service's key files: the folder of a file below the workspace root (so a renewed
 * certificate shows), the file itself at the root or outside the workspace (a folder there would hide the image's).
 */
function fileMounts(model: DeployModel, service: string, context: string): string[] {
  const mounts = filesOf(model, service).map((file) => {
    if (file.source === file.target) return `${file.source}:${file.target}:ro`; // outside the workspace
    const dir = posix.dirname(file.source);
    return dir === '.'
      ? `${posix.join(context, file.source)}:${file.target}:ro`
      : `${posix.join(context, dir)}:${posix.join(APP_DIR, dir)}:ro`;
  });
  return [...new Set(mounts)];
}

/**
 * compose.yaml (without the header): one service per serving grpcforge service, built from its Dockerfile, with the
 * consumers' target variables pointing at the providers' Compose names, health checks, `depends_on` healthy
 * providers, a stop grace period above the drain time, and the store: a PostgreSQL service or a shared SQLite volume.
 */
export function renderCompose(model: DeployModel, options: DeployOptions, dockerfilePath: (service: string) => string): string {
  const context = posix.relative(options.outDir, '.') || '.';
  const services: Record<string, unknown> = {};
  const postgres = model.store.kind === 'postgres' ? model.store : undefined;
  for (const service of model.services) {
    const environment: Record<string, string> = {};
    for (const target of model.services.find((entry) => entry.name === service.name)?.targets ?? []) {
      const provider = model.services.find((entry) => entry.name === target.provider);
      environment[target.variable] = `dns:///${target.provider}:${provider?.port ?? 0}`;
    }
    if (postgres) {
      environment[LOG_STORE_URL_ENV] = literal(`postgres://${postgres.user}@${COMPOSE_POSTGRES}:5432/${postgres.database}`);
      environment.PGPASSWORD = fromHost(postgres.passwordEnv);
    }
    // The host's variable wins, so `OTEL_EXPORTER_OTLP_ENDPOINT=... docker compose up` points at another collector.
    if (model.otlp) environment[OTLP_ENDPOINT_ENV] = `\${${OTLP_ENDPOINT_ENV}:-${literal(model.otlp.endpoint)}}`;
    for (const secret of service.secrets)
      if (!(postgres && secret === postgres.passwordEnv)) environment[secret] = fromHost(secret);
    const dependsOn: Record<string, { condition: string }> = {};
    if (postgres) dependsOn[COMPOSE_POSTGRES] = { condition: 'service_healthy' };
    for (const provider of service.providers) {
      dependsOn[provider] = { condition: model.health ? 'service_healthy' : 'service_started' };
    }
    const volumes = [
      ...(model.store.kind === 'sqlite' ? [`${COMPOSE_STORE_VOLUME}:${model.store.dir}`] : []),
      ...fileMounts(model, service.name, context),
    ];
    services[service.name] = {
      build: { context, dockerfile: dockerfilePath(service.name) },
      image: `${options.imagePrefix}${service.name}:latest`,
      ...(Object.keys(environment).length > 0 ? { environment } : {}),
      // Quoted: YAML 1.1 readers take small HOST:CONTAINER pairs for base-60 numbers.
      ports: [quoted(`${service.port}:${service.port}`)],
      ...(model.health
        ? {
            healthcheck: {
              test: ['CMD', ...healthProbeCommand(service)],
              interval: '10s',
              timeout: '5s',
              retries: 3,
              start_period: '10s',
            },
          }
        : {}),
      ...(Object.keys(dependsOn).length > 0 ? { depends_on: dependsOn } : {}),
      stop_signal: 'SIGTERM',
      stop_grace_period: `${model.stopGraceSeconds}s`,
      ...(volumes.length > 0 ? { volumes } : {}),
      restart: 'unless-stopped',
    };
  }
  if (postgres) {
    services[COMPOSE_POSTGRES] = {
      image: POSTGRES_IMAGE,
      environment: {
        POSTGRES_USER: literal(postgres.user),
        POSTGRES_DB: literal(postgres.database),
        POSTGRES_PASSWORD: fromHost(postgres.passwordEnv),
      },
      healthcheck: {
        test: ['CMD-SHELL', `pg_isready -U ${literal(postgres.user)} -d ${literal(postgres.database)}`],
        interval: '5s',
        timeout: '5s',
        retries: 10,
      },
      volumes: [`${COMPOSE_POSTGRES}-data:/var/lib/postgresql/data`],
      restart: 'unless-stopped',
    };
  }
  const volumes =
    model.store.kind === 'sqlite' ? { [COMPOSE_STORE_VOLUME]: {} } : postgres ? { [`${COMPOSE_POSTGRES}-data`]: {} } : undefined;
  return stringify({ services, ...(volumes ? { volumes } : {}) }, { lineWidth: 0 });
}
