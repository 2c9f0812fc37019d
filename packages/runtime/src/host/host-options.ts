import type { X509Certificate as X509CertificateClass } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { ServerCredentials } from '@grpc/grpc-js';
import { OTLP_PROTOCOLS } from '../vocabulary/otlp.js';
import { OTLP_ENDPOINT_ENV } from '../vocabulary/runtime-env.js';
import { EnvReferenceError, expandEnvReferences, type EnvironmentValues } from '../vocabulary/env-references.js';
import type { LogStore } from '../logstore/create-log-store.js';
import type { AuthOptions } from '../middleware/auth.js';
import type { OtlpProtocol, TelemetryOptions } from '../telemetry/options.js';
import { ServiceHostError, messageOf, type ServiceHostErrorCode } from './host-error.js';
import type {
  ManifestAuthSettings,
  ManifestLogStoreSettings,
  ManifestTelemetrySettings,
  ManifestTlsSettings,
} from './service-manifest.js';

/**
 * Where a service's settings meet the runtime: the manifest's plain data becomes the option objects of
 * `startServer` and `createLogStore`, with `${VAR}` references expanded from the environment and relative paths
 * resolved against the workspace root.
 */

/** Where relative paths resolve and where variables are read. */
export interface HostEnvironment {
  /** Absolute path of the workspace root: relative paths of the settings resolve against it. */
  readonly baseDir: string;
  /** The environment `${VAR}` references and variable names are read from. @defaultValue process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** Options of {@link openServiceLogStore}. */
export interface OpenServiceLogStoreOptions extends HostEnvironment {
  /** Start the writer thread and check the store can be written (a server); readers leave it off. */
  readonly writer?: boolean;
  /** Replaces `settings.url` (`GRPCFORGE_LOG_STORE_URL`); may hold `${VAR}` references too. */
  readonly url?: string;
  /** Migration progress lines, without a prefix. */
  readonly onMigrationProgress?: (message: string) => void;
}

/**
 * Opens a log store from its settings (creating and migrating it when needed): `${VAR}` references in the URL are
 * expanded, a relative `sqlite:` path resolves against the workspace root. Messages name the URL as written, without
 * a password.
 * @throws ServiceHostError `log-store-failed` when a variable is unset, the URL is empty once expanded, or the store
 *   cannot be opened, migrated or (with the writer) written.
 */
export async function openServiceLogStore(
  settings: ManifestLogStoreSettings,
  options: OpenServiceLogStoreOptions,
): Promise<LogStore> {
  const [{ createLogStore }, { redactLogStoreUrl }] = await Promise.all([
    import('../logstore/create-log-store.js'),
    import('../logstore/dialect-registry.js'),
  ]);
  const written = options.url ?? settings.url;
  // As its engine redacts it: a registered engine's URL may hold a password where no URL parser looks.
  const named = redactLogStoreUrl(written);
  const url = expandSetting(written, options.env ?? process.env, 'log-store-failed', `logStore.url ${named}`);
  if (!url) throw new ServiceHostError('log-store-failed', `logStore.url ${named} is empty once expanded from the environment`);
  try {
    return await createLogStore({
      url: storeUrlIn(url, options.baseDir),
      writer: options.writer ?? false,
      postgres: settings.postgres,
      ...(options.onMigrationProgress ? { onMigrationProgress: options.onMigrationProgress } : {}),
      ...(settings.retentionMs !== undefined ? { retentionMs: settings.retentionMs } : {}),
    });
  } catch (error) {
    throw new ServiceHostError('log-store-failed', `cannot open the log store ${named}: ${messageOf(error)}`);
  }
}

/** A `sqlite:` URL whose relative path resolves against `baseDir`; other URLs unchanged. */
function storeUrlIn(url: string, baseDir: string): string {
  if (!url.startsWith('sqlite:')) return url;
  const path = url.slice('sqlite:'.length);
  if (path === ':memory:' || path.startsWith('//') || isAbsolute(path)) return url;
  return `sqlite:${resolve(baseDir, path)}`;
}

/**
 * The auth options of a server: the policy, API keys through the log store (when there is one), a JWT verifier from
 * its key source (the secret's variable, or the public key file relative to the workspace root), client certificates.
 * @throws ServiceHostError `jwt-config` when the secret variable is unset, the public key cannot be read, or the
 *   verifier refuses the settings.
 */
export async function buildServiceAuthOptions(
  auth: ManifestAuthSettings,
  store: LogStore | undefined,
  options: HostEnvironment,
): Promise<AuthOptions> {
  let jwt: AuthOptions['jwt'];
  if (auth.jwt) {
    const { createJwtVerifier } = await import('../auth/jwt.js');
    const settings = auth.jwt;
    let secret: string | undefined;
    let publicKey: string | undefined;
    if (settings.secretEnv) {
      secret = (options.env ?? process.env)[settings.secretEnv];
      if (!secret) {
        throw new ServiceHostError('jwt-config', `auth.jwt.secretEnv: environment variable ${settings.secretEnv} is not set`);
      }
    }
    if (settings.publicKey) {
      const path = resolve(options.baseDir, settings.publicKey);
      publicKey = await readFile(path, 'utf8').catch((error: unknown) => {
        throw new ServiceHostError('jwt-config', `auth.jwt.publicKey: cannot read ${path}: ${messageOf(error)}`);
      });
    }
    try {
      jwt = await createJwtVerifier({
        ...(secret !== undefined ? { secret } : {}),
        ...(publicKey !== undefined ? { publicKey } : {}),
        ...(settings.jwksUrl !== undefined ? { jwksUrl: settings.jwksUrl } : {}),
        ...(settings.issuer !== undefined ? { issuer: settings.issuer } : {}),
        ...(settings.audience !== undefined ? { audience: settings.audience } : {}),
        ...(settings.algorithms !== undefined ? { algorithms: settings.algorithms } : {}),
        clockToleranceSec: settings.clockToleranceSec,
        rolesClaim: settings.rolesClaim,
      });
    } catch (error) {
      throw new ServiceHostError('jwt-config', `auth.jwt: ${messageOf(error)}`);
    }
  }
  return {
    policy: { default: auth.default, methods: auth.methods },
    ...(auth.apiKeys && store
      ? {
          apiKeys: {
            verify: (key: string) => store.apiKeys.verify(key),
            countUse: (id: string, at: number) => store.apiKeys.countUse(id, at),
          },
        }
      : {}),
    ...(jwt ? { jwt } : {}),
    ...(auth.mtls ? { mtls: { roles: auth.mtls.roles, allowCommonName: auth.mtls.allowCommonName } } : {}),
    ...(auth.throttle === undefined ? {} : { throttle: auth.throttle }),
  };
}

/**
 * Server credentials from the TLS settings (files relative to the workspace root), checked at start: the key matches
 * the certificate, a CA is given when client certificates are required, the CA file holds PEM CA certificates.
 * @param serviceName for messages.
 * @returns `undefined` for plaintext.
 * @throws ServiceHostError `tls-config` naming the file and what was expected.
 */
export async function buildServiceCredentials(
  tls: ManifestTlsSettings | undefined,
  serviceName: string,
  options: HostEnvironment,
): Promise<ServerCredentials | undefined> {
  if (!tls) return undefined;
  const [{ ServerCredentials }, { X509Certificate, createPrivateKey }] = await Promise.all([
    import('@grpc/grpc-js'),
    import('node:crypto'),
  ]);
  const read = async (key: string, path: string) => {
    const file = resolve(options.baseDir, path);
    return readFile(file).catch((error: unknown) => {
      throw new ServiceHostError('tls-config', `tls.${key}: cannot read ${file}: ${messageOf(error)}`, [
        'paths are relative to grpcforge.yaml; ${SERVICE} is replaced by the service name',
      ]);
    });
  };
  if (tls.requireClientCert && !tls.ca) {
    throw new ServiceHostError(
      'tls-config',
      'tls.requireClientCert needs tls.ca: refusing to start without a CA to verify clients',
    );
  }
  const cert = await read('cert', tls.cert);
  const key = await read('key', tls.key);
  const ca = tls.ca ? await read('ca', tls.ca) : null;
  if (ca && tls.ca) checkCaFile(ca, resolve(options.baseDir, tls.ca), X509Certificate);
  try {
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
      throw new ServiceHostError('tls-config', `tls.key does not match tls.cert for service "${serviceName}"`);
    }
  } catch (error) {
    if (error instanceof ServiceHostError) throw error;
    throw new ServiceHostError('tls-config', `tls: cannot parse the certificate or key of "${serviceName}": ${messageOf(error)}`);
  }
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], tls.requireClientCert);
}

/**
 * Parses the CA file at start-up, so a wrong file refuses to start instead of refusing every client at the handshake:
 * it must hold one or more PEM `CERTIFICATE` blocks (RFC 7468 §5), each an X.509 certificate that is a CA
 * (basicConstraints cA, RFC 5280 §4.2.1.9). Text around the blocks (bundle comments) is allowed, as OpenSSL allows it.
 * @throws ServiceHostError `tls-config` naming the file and what was expected.
 */
function checkCaFile(pem: Buffer, file: string, X509Certificate: typeof X509CertificateClass): void {
  const text = pem.toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g) ?? [];
  const expected = 'expected one or more PEM certificates ("-----BEGIN CERTIFICATE-----" ... "-----END CERTIFICATE-----")';
  const hints = [
    'a DER file converts with: openssl x509 -inform der -in FILE -out FILE.pem',
    '`grpcforge certs init` writes certs/ca.pem',
  ];
  if (blocks.length === 0) {
    throw new ServiceHostError('tls-config', `tls.ca: ${file} is not a PEM certificate file: ${expected}`, hints);
  }
  blocks.forEach((block, index) => {
    let certificate: X509CertificateClass;
    try {
      certificate = new X509Certificate(block);
    } catch (error) {
      throw new ServiceHostError(
        'tls-config',
        `tls.ca: ${file}: certificate ${index + 1} does not parse (${messageOf(error)}): ${expected}`,
        hints,
      );
    }
    if (!certificate.ca) {
      throw new ServiceHostError(
        'tls-config',
        `tls.ca: ${file}: certificate ${index + 1} (${certificate.subject.replaceAll('\n', ', ')}) is not a CA certificate: expected basicConstraints CA:TRUE`,
      );
    }
  });
}

/**
 * The OTLP protocol `OTEL_EXPORTER_OTLP_PROTOCOL` names, `http/json` when it is unset or empty.
 * @throws ServiceHostError `telemetry-config` for any other value.
 */
function otlpProtocolFromEnv(env: NodeJS.ProcessEnv): OtlpProtocol {
  const value = env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim();
  if (!value) return 'http/json';
  const protocol = OTLP_PROTOCOLS.find((known) => known === value);
  if (protocol) return protocol;
  throw new ServiceHostError(
    'telemetry-config',
    `OTEL_EXPORTER_OTLP_PROTOCOL: "${value}" is not an OTLP protocol: expected one of: ${OTLP_PROTOCOLS.join(', ')}`,
    ['fix or unset it, or set telemetry.otlp.protocol in grpcforge.yaml (which takes precedence)'],
  );
}

/** `OTEL_EXPORTER_OTLP_ENDPOINT` when set and not empty: an http or https URL, else a `telemetry-config` error. */
function otlpEndpointFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const value = env[OTLP_ENDPOINT_ENV]?.trim();
  if (!value) return undefined;
  const protocol = URL.canParse(value) ? new URL(value).protocol : '';
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ServiceHostError('telemetry-config', `OTEL_EXPORTER_OTLP_ENDPOINT: "${value}" is not an http or https URL`, [
      'for example http://otel-collector:4318 (OTLP over HTTP) or http://otel-collector:4317 (grpc)',
    ]);
  }
  return value;
}

/**
 * The telemetry options of a server from its settings: `${VAR}` / `${VAR:-default}` in OTLP header values are read
 * from the environment now (a header that expands to nothing is left out); the OTLP protocol is the settings',
 * else `OTEL_EXPORTER_OTLP_PROTOCOL` (the OpenTelemetry convention), else `http/json`. `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * when set, replaces the endpoint of the settings: where the collector is depends on where the service runs (a
 * Compose service or a Kubernetes Service name), so a deployment sets it, as `grpcforge deploy` does.
 * @returns `undefined` when telemetry is off.
 * @throws ServiceHostError `telemetry-config` when a header references an unset variable without a default,
 *   `OTEL_EXPORTER_OTLP_PROTOCOL` names no OTLP protocol, or `OTEL_EXPORTER_OTLP_ENDPOINT` is not an http(s) URL.
 */
export function buildServiceTelemetryOptions(
  telemetry: ManifestTelemetrySettings | undefined,
  env: NodeJS.ProcessEnv = process.env,
): TelemetryOptions | undefined {
  if (!telemetry) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(telemetry.otlp?.headers ?? {})) {
    const resolved = expandSetting(value, env, 'telemetry-config', `telemetry.otlp.headers.${name}`);
    if (resolved) headers[name] = resolved;
  }
  const { otlp, prometheus, ...rest } = telemetry;
  const endpoint = otlp ? (otlpEndpointFromEnv(env) ?? otlp.endpoint) : undefined;
  return {
    ...rest,
    ...(otlp && endpoint ? { otlp: { ...otlp, endpoint, protocol: otlp.protocol ?? otlpProtocolFromEnv(env), headers } } : {}),
    ...(prometheus ? { prometheus: { ...prometheus } } : {}),
  };
}

/**
 * A setting's value with its `${VAR}` references expanded from `env`; every problem is a {@link ServiceHostError}
 * with `code` whose message starts with `setting` (already redacted when the value may hold a password).
 * @throws ServiceHostError for a variable without a value or default, or a malformed reference.
 */
function expandSetting(value: string, env: EnvironmentValues, code: ServiceHostErrorCode, setting: string): string {
  try {
    return expandEnvReferences(
      value,
      env,
      (variable) =>
        new ServiceHostError(code, `${setting}: environment variable ${variable} is not set and has no default`, [
          'set it, or write ${' + variable + ':-default}',
        ]),
    );
  } catch (error) {
    // The setting's name is redacted; the malformed part, which may run on into a password, is not quoted.
    if (error instanceof EnvReferenceError) throw new ServiceHostError(code, `${setting}: ${error.redactedMessage}`);
    throw error;
  }
}
