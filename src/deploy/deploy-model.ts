import { posix, resolve } from 'node:path';
import type { ResolvedConfig, ResolvedService } from '../config/resolved.js';
import { pathInside, toPosix } from '../util/fs.js';
import { parseEnvReferences, replaceEnvReferences, wholeEnvReference } from '@grpcforge/runtime/vocabulary';

/** Where the workspace lives in every image (`WORKDIR`). */
export const APP_DIR = '/app';

/** Extra time on top of `server.shutdownTimeoutMs` before a container is killed: flushing the store and closing. */
export const STOP_MARGIN_MS = 5000;

/** Options every deploy target shares. */
export interface DeployOptions {
  /** Folder the artefacts are written to, workspace-relative POSIX form, for example `deploy`. */
  readonly outDir: string;
  /** Tag of the `node` base image, for example `22-bookworm-slim`. */
  readonly nodeImage: string;
  /** Prefix of every image name, for example `registry.example.com/platform/`; `''` for none. */
  readonly imagePrefix: string;
  /** Kubernetes namespace; `undefined` leaves it to `kubectl apply -n` and uses short DNS names. */
  readonly namespace?: string | undefined;
}

/** The log store as a deployment sees it. */
export type DeployStore =
  /** Off, `sqlite::memory:`, or a URL from a variable whose kind is unknown: nothing to provide. */
  | { readonly kind: 'none' }
  /** A SQLite file: `dir` is the absolute folder of the file inside the image. */
  | { readonly kind: 'sqlite'; readonly dir: string; readonly file: string }
  /** PostgreSQL: the user and database of the URL, and the variable holding the password. */
  | {
      readonly kind: 'postgres';
      readonly user: string;
      readonly database: string;
      readonly host: string;
      readonly passwordEnv: string;
      /** Variables the URL reads (`${VAR}`): credentials, kept in secrets. */
      readonly urlVariables: readonly string[];
    };

/** A consumer's target variable set to a provider's address. */
export interface DeployTarget {
  /** The variable the generated client reads, for example `AUTH_ADDR`. */
  readonly variable: string;
  /** The workspace service that serves it. */
  readonly provider: string;
}

/** One grpcforge service that serves something: an image, a Compose service, a Deployment. */
export interface DeployService {
  readonly name: string;
  /** Service folder, workspace-relative POSIX form (`services/auth`). */
  readonly dir: string;
  readonly port: number;
  /** The consumers' target variables to point at providers. */
  readonly targets: readonly DeployTarget[];
  /** Workspace services it calls (for `depends_on`), sorted. */
  readonly providers: readonly string[];
  /** Variables holding secrets this service reads (JWT secret, store credentials, client credentials), sorted. */
  readonly secrets: readonly string[];
  /** Its TLS files inside the image (`${SERVICE}` replaced), when tls is on. */
  readonly tls: { readonly ca: string | undefined; readonly cert: string; readonly key: string } | undefined;
}

/**
 * A key file a container reads but the image does not hold (TLS certificates and keys, the JWT public key): Compose
 * mounts it from the workspace, Kubernetes from the Secret `grpcforge-files`.
 */
export interface DeployFile {
  /** What reads it, for the messages: `tls` or `auth.jwt.publicKey`. */
  readonly use: 'tls' | 'auth.jwt.publicKey';
  /** The service whose file it is (`${SERVICE}` expanded); `undefined` when every service reads it. */
  readonly service: string | undefined;
  /** Where it is on the host: workspace-relative POSIX path, or absolute when outside the workspace. */
  readonly source: string;
  /** Absolute POSIX path inside the container. */
  readonly target: string;
  /** Path inside the Secret volume: `target` relative to {@link APP_DIR} (or to `/` outside it). */
  readonly relativeTarget: string;
  /** Key of the file in the Kubernetes Secret: `relativeTarget` with `/` turned into `-`. */
  readonly key: string;
}

/** What every planner reads: the resolved config turned into deployment facts, with the warnings found. */
export interface DeployModel {
  readonly services: readonly DeployService[];
  readonly store: DeployStore;
  /** Drain time plus {@link STOP_MARGIN_MS}, in whole seconds. */
  readonly stopGraceSeconds: number;
  readonly health: boolean;
  /** TLS is on: every service reads its {@link DeployService.tls} files. */
  readonly tls: boolean;
  /** The key files to mount (TLS, JWT public key), sorted by target. */
  readonly files: readonly DeployFile[];
  /** The configured OTLP endpoint, when telemetry exports over OTLP. */
  readonly otlp: { readonly endpoint: string } | undefined;
  /** Things a deployment cannot fix, lower-case, one line each. */
  readonly warnings: readonly string[];
}

/**
 * Path of a workspace file inside the image: below {@link APP_DIR} when inside the workspace, else as written. A
 * relative path is relative to the workspace root (as the runtime reads it), never to the current folder.
 */
export function pathInImage(config: ResolvedConfig, path: string): string {
  const absolutePath = resolve(config.workspaceDir, path);
  const inside = pathInside(config.workspaceDir, absolutePath);
  return inside === undefined ? toPosix(absolutePath) : posix.join(APP_DIR, inside);
}

/** The files a service's container reads: its own and the shared ones. */
export function filesOf(model: DeployModel, service: string): DeployFile[] {
  return model.files.filter((file) => file.service === undefined || file.service === service);
}

/**
 * The key files of the config: a TLS file whose path names the service (`${SERVICE}`, replaced by config resolution)
 * once per serving service, one every service shares once.
 */
function keyFiles(config: ResolvedConfig, services: readonly ResolvedService[]): DeployFile[] {
  const files = new Map<string, DeployFile>();
  const add = (use: DeployFile['use'], path: string, service: string | undefined) => {
    const target = pathInImage(config, path);
    const inside = target.startsWith(`${APP_DIR}/`);
    const relativeTarget = inside ? target.slice(APP_DIR.length + 1) : target.replace(/^\/+/, '');
    const source = inside ? relativeTarget : target;
    files.set(`${service ?? ''} ${target}`, {
      use,
      service,
      source,
      target,
      relativeTarget,
      key: relativeTarget.replaceAll('/', '-'),
    });
  };
  for (const service of services) {
    const own = service.tls;
    const written = config.tls;
    if (!own || !written) continue;
    for (const [path, pattern] of [
      [own.ca, written.ca],
      [own.cert, written.cert],
      [own.key, written.key],
    ] as const) {
      if (path !== undefined) add('tls', path, path === pattern ? undefined : service.name);
    }
  }
  if (config.auth.jwt?.publicKey !== undefined) add('auth.jwt.publicKey', config.auth.jwt.publicKey, undefined);
  return [...files.values()].sort((a, b) => a.target.localeCompare(b.target) || (a.service ?? '').localeCompare(b.service ?? ''));
}

/**
 * Turns the resolved config into what the deploy planners need, with the warnings about what a deployment cannot
 * change (a target fixed at generate time, a key file to mount). Pure: reads no file and no environment.
 */
export function resolveDeployModel(config: ResolvedConfig, target: 'compose' | 'kubernetes'): DeployModel {
  const warnings: string[] = [];
  const serving = config.services.filter((service) => service.serves.length > 0 && service.listen !== undefined);
  for (const service of config.services) {
    if (!serving.includes(service)) {
      warnings.push(`service "${service.name}" serves nothing: no image or ${target} service is written for it`);
    }
  }
  const store = resolveStore(config, warnings, target);
  const shared = new Set<string>();
  if (config.auth.jwt?.secretEnv) shared.add(config.auth.jwt.secretEnv);
  if (store.kind === 'postgres') {
    shared.add(store.passwordEnv);
    if (target === 'kubernetes') for (const name of store.urlVariables) shared.add(name);
  }
  for (const value of Object.values(config.telemetry?.otlp?.headers ?? {})) {
    for (const reference of parseEnvReferences(value)) shared.add(reference.name);
  }
  const services = serving.map((service): DeployService => {
    const targets = consumerTargets(service, serving, warnings);
    const secrets = new Set(shared);
    for (const consume of service.consumes) {
      if (consume.credentials?.apiKeyEnv) secrets.add(consume.credentials.apiKeyEnv);
      if (consume.credentials?.bearerTokenEnv) secrets.add(consume.credentials.bearerTokenEnv);
    }
    return {
      name: service.name,
      dir: service.dirRelative,
      port: service.listen?.port ?? 0,
      targets,
      providers: [...new Set(targets.map((entry) => entry.provider))].sort(),
      secrets: [...secrets].sort(),
      tls: service.tls && {
        ca: service.tls.ca === undefined ? undefined : pathInImage(config, service.tls.ca),
        cert: pathInImage(config, service.tls.cert),
        key: pathInImage(config, service.tls.key),
      },
    };
  });
  const tls = config.tls !== undefined;
  const files = keyFiles(config, serving);
  warnings.push(...fileWarnings(files, target));
  if (tls) {
    warnings.push(
      `tls is on: each certificate must name its ${target === 'compose' ? 'Compose service' : 'Kubernetes Service'} (SAN) ` +
        'and 127.0.0.1 for the health probe',
    );
  }
  const otlp = config.telemetry?.otlp ? { endpoint: config.telemetry.otlp.endpoint } : undefined;
  if (otlp && /^https?:\/\/(localhost|127\.|\[::1\])/.test(otlp.endpoint)) {
    warnings.push(
      `telemetry.otlp.endpoint "${otlp.endpoint}" is the container itself: point it at the collector ` +
        (target === 'compose'
          ? '(for example http://otel-collector:4318), or set OTEL_EXPORTER_OTLP_ENDPOINT where docker compose runs'
          : '(for example http://otel-collector:4318), or change OTEL_EXPORTER_OTLP_ENDPOINT of the ConfigMaps with an overlay'),
    );
  }
  for (const service of services) {
    if (service.port === 0) {
      warnings.push(`services.${service.name}.listen has port 0: a container needs a fixed port (50051 is used)`);
    }
  }
  return {
    services: services.map((service) => (service.port === 0 ? { ...service, port: 50051 } : service)),
    store,
    stopGraceSeconds: Math.ceil((config.server.shutdownTimeoutMs + STOP_MARGIN_MS) / 1000),
    health: config.server.health,
    tls,
    files,
    otlp,
    warnings,
  };
}

/** Compose mounts the key files from the host (Kubernetes names its Secret in its own notes). */
function fileWarnings(files: readonly DeployFile[], target: 'compose' | 'kubernetes'): string[] {
  if (files.length === 0 || target !== 'compose') return [];
  const uses = [...new Set(files.map((file) => file.use))].join(' and ');
  const sources = [...new Set(files.map((file) => file.source))].join(', ');
  return [`${uses}: compose.yaml mounts the key files read-only from the host (${sources}); the images hold none`];
}

function consumerTargets(service: ResolvedService, serving: readonly ResolvedService[], warnings: string[]): DeployTarget[] {
  const targets: DeployTarget[] = [];
  for (const consume of service.consumes) {
    const where = `services.${service.name}.consumes[${consume.index}]`;
    const provider = serving.find((candidate) => candidate.name === consume.provider);
    if (!provider) {
      warnings.push(`${where}: "${consume.service}" is served outside the workspace: set its target yourself`);
      continue;
    }
    const reference = wholeEnvReference(consume.target);
    if (reference) targets.push({ variable: reference.name, provider: provider.name });
    else if (parseEnvReferences(consume.target).length > 0) {
      warnings.push(
        `${where}: target "${consume.target}" mixes text and variables: set them yourself, or write target: \${VAR:-...}`,
      );
    } else {
      warnings.push(
        `${where}: target "${consume.target}" has no \${VAR}: it was fixed at generate time and cannot point at "${provider.name}" ` +
          `(write target: \${${provider.name.toUpperCase().replaceAll('-', '_')}_ADDR:-${consume.target}} and run grpcforge generate)`,
      );
    }
  }
  return targets;
}

function resolveStore(config: ResolvedConfig, warnings: string[], target: 'compose' | 'kubernetes'): DeployStore {
  if (!config.logStore.enabled) return { kind: 'none' };
  const whole = wholeEnvReference(config.logStore.url);
  const url = whole?.fallback ?? config.logStore.url;
  if (whole?.fallback === undefined && whole !== undefined) {
    warnings.push(`logStore.url is "${config.logStore.url}": set ${whole.name} in the environment of every service`);
    return { kind: 'none' };
  }
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === ':memory:') return { kind: 'none' };
    const file = pathInImage(config, path);
    if (target === 'kubernetes') {
      warnings.push(
        'logStore.url is SQLite: each pod keeps its own store file (lost with the pod, not shared by replicas); use postgres:// on Kubernetes',
      );
    }
    return { kind: 'sqlite', dir: posix.dirname(file), file };
  }
  return parsePostgresUrl(url, warnings, target);
}

/** Splits `postgres://user:password@host:port/database?options`, where each part may hold `${VAR}` references. */
function parsePostgresUrl(url: string, warnings: string[], target: 'compose' | 'kubernetes'): DeployStore {
  const references: string[] = [];
  // References may hold ':' and '/', so they are set aside while the URL is split.
  const masked = replaceEnvReferences(url, (reference) => `\u{E000}${references.push(reference.text) - 1}\u{E001}`);
  const unmask = (text: string) => text.replace(/\u{E000}(\d+)\u{E001}/gu, (_, index: string) => references[Number(index)] ?? '');
  const match = /^postgres(?:ql)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]*)\/?([^?]*)/.exec(masked);
  const literal = (text: string | undefined, fallback: string) => {
    const value = unmask(text ?? '');
    const reference = wholeEnvReference(value);
    return value === '' ? fallback : reference ? (reference.fallback ?? fallback) : value;
  };
  const password = unmask(match?.[2] ?? '');
  const passwordReference = wholeEnvReference(password);
  if (password !== '' && !passwordReference) {
    warnings.push(
      'logStore.url holds a password: keep it in a variable (postgres://USER:${PGPASSWORD}@HOST/DB) or in PGPASSWORD',
    );
  }
  const host = literal(match?.[3], 'localhost');
  if (target === 'kubernetes' && /^(localhost|127\.|\[::1\])/.test(host)) {
    warnings.push(`logStore.url points at "${host}", the pod itself: give the database's address through the URL's variables`);
  }
  return {
    kind: 'postgres',
    user: literal(match?.[1], 'postgres'),
    database: literal(match?.[4], 'postgres'),
    host,
    passwordEnv: passwordReference?.name ?? 'PGPASSWORD',
    urlVariables: [...new Set(parseEnvReferences(url).map((reference) => reference.name))].sort(),
  };
}
