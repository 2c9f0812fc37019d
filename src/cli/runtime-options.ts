import type { X509Certificate as X509CertificateClass } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ResolvedAuthSettings, ResolvedConfig } from '../config/resolved.js';
import { OTLP_PROTOCOLS } from '../config/schema.js';
import type { AuthOptions, LogStore, OtlpProtocol, TelemetryOptions } from '@grpcforge/runtime';
import { UserError, errorMessage } from '../util/errors.js';

/**
 * Where `grpcforge.yaml` meets the runtime: resolved settings become the runtime's plain option objects.
 */

/**
 * Opens the workspace's log store (creating and migrating it when needed). `writer: true` (serve) also starts the
 * writer thread and checks that the store can be written; commands that only read leave it off.
 * @throws UserError `log-store-failed` when it cannot be opened, migrated or (with the writer) written.
 */
export async function openLogStore(config: ResolvedConfig, { writer = false }: { writer?: boolean } = {}): Promise<LogStore> {
  const [{ createLogStore }, { resolveEnvValue, redactConnectionString }] = await Promise.all([
    import('@grpcforge/runtime'),
    import('@grpcforge/runtime/admin'),
  ]);
  // Messages name the URL as written (a ${VAR} stays a ${VAR}), without a password.
  const named = redactConnectionString(config.logStore.url);
  let url: string | undefined;
  try {
    url = resolveEnvValue({ template: config.logStore.url });
  } catch (error) {
    throw new UserError('log-store-failed', `logStore.url ${named}: ${errorMessage(error)}`);
  }
  if (!url) throw new UserError('log-store-failed', `logStore.url ${named} is empty once expanded from the environment`);
  try {
    return await createLogStore({
      url,
      writer,
      postgres: config.logStore.postgres,
      onMigrationProgress: (message) => process.stderr.write(`log store: ${message}\n`),
      ...(config.logStore.retentionMs !== undefined ? { retentionMs: config.logStore.retentionMs } : {}),
    });
  } catch (error) {
    throw new UserError('log-store-failed', `cannot open the log store ${named}: ${errorMessage(error)}`);
  }
}

/**
 * The auth options of a server: the policy, API keys through the log store, JWT from its key source.
 * @throws UserError `jwt-config` when the secret variable is unset or the public key cannot be read.
 */
export async function buildAuthOptions(auth: ResolvedAuthSettings, store: LogStore | undefined): Promise<AuthOptions> {
  const { createJwtVerifier } = await import('@grpcforge/runtime/admin');
  let jwt: AuthOptions['jwt'];
  if (auth.jwt) {
    const settings = auth.jwt;
    let secret: string | undefined;
    let publicKey: string | undefined;
    if (settings.secretEnv) {
      secret = process.env[settings.secretEnv];
      if (!secret) throw new UserError('jwt-config', `auth.jwt.secretEnv: environment variable ${settings.secretEnv} is not set`);
    }
    const publicKeyPath = settings.publicKey;
    if (publicKeyPath) {
      publicKey = await readFile(publicKeyPath, 'utf8').catch((error: unknown) => {
        throw new UserError('jwt-config', `auth.jwt.publicKey: cannot read ${publicKeyPath}: ${errorMessage(error)}`);
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
      throw new UserError('jwt-config', `auth.jwt: ${errorMessage(error)}`);
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
  };
}

/**
 * Server credentials from the `tls` section, with `${SERVICE}` replaced by the service name.
 * @returns `undefined` for plaintext.
 * @throws UserError `tls-config` when a file is missing, the key does not match the certificate, client
 * certificates are required without a CA, or the CA file is not PEM CA certificates (see {@link checkCaFile}).
 */
export async function buildServerCredentials(config: ResolvedConfig, serviceName: string) {
  const tls = config.tls;
  if (!tls) return undefined;
  const { ServerCredentials } = await import('@grpc/grpc-js');
  const { X509Certificate, createPrivateKey } = await import('node:crypto');
  const read = async (key: string, path: string) => {
    const file = path.replaceAll('${SERVICE}', serviceName);
    return readFile(file).catch((error: unknown) => {
      throw new UserError('tls-config', `tls.${key}: cannot read ${file}: ${errorMessage(error)}`, [
        'paths are relative to grpcforge.yaml; ${SERVICE} is replaced by the service name',
      ]);
    });
  };
  if (tls.requireClientCert && !tls.ca) {
    throw new UserError('tls-config', 'tls.requireClientCert needs tls.ca: refusing to start without a CA to verify clients');
  }
  const cert = await read('cert', tls.cert);
  const key = await read('key', tls.key);
  const ca = tls.ca ? await read('ca', tls.ca) : null;
  if (ca && tls.ca) checkCaFile(ca, tls.ca.replaceAll('${SERVICE}', serviceName), X509Certificate);
  try {
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
      throw new UserError('tls-config', `tls.key does not match tls.cert for service "${serviceName}"`);
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError('tls-config', `tls: cannot parse the certificate or key of "${serviceName}": ${errorMessage(error)}`);
  }
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], tls.requireClientCert);
}

/**
 * Parses the CA file at start-up, so a wrong file refuses to start instead of refusing every client at the handshake:
 * it must hold one or more PEM `CERTIFICATE` blocks (RFC 7468 §5), each an X.509 certificate that is a CA
 * (basicConstraints cA, RFC 5280 §4.2.1.9). Text around the blocks (bundle comments) is allowed, as OpenSSL allows it.
 * @throws UserError `tls-config` naming the file and what was expected.
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
    throw new UserError('tls-config', `tls.ca: ${file} is not a PEM certificate file: ${expected}`, hints);
  }
  blocks.forEach((block, index) => {
    let certificate: X509CertificateClass;
    try {
      certificate = new X509Certificate(block);
    } catch (error) {
      throw new UserError(
        'tls-config',
        `tls.ca: ${file}: certificate ${index + 1} does not parse (${errorMessage(error)}): ${expected}`,
        hints,
      );
    }
    if (!certificate.ca) {
      throw new UserError(
        'tls-config',
        `tls.ca: ${file}: certificate ${index + 1} (${certificate.subject.replaceAll('\n', ', ')}) is not a CA certificate: expected basicConstraints CA:TRUE`,
      );
    }
  });
}

/**
 * The OTLP protocol `OTEL_EXPORTER_OTLP_PROTOCOL` names, `http/json` when it is unset or empty.
 * @throws UserError `telemetry-config` for any other value.
 */
function otlpProtocolFromEnv(): OtlpProtocol {
  const value = process.env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim();
  if (!value) return 'http/json';
  const protocol = OTLP_PROTOCOLS.find((known) => known === value);
  if (protocol) return protocol;
  throw new UserError(
    'telemetry-config',
    `OTEL_EXPORTER_OTLP_PROTOCOL: "${value}" is not an OTLP protocol: expected one of: ${OTLP_PROTOCOLS.join(', ')}`,
    ['fix or unset it, or set telemetry.otlp.protocol in grpcforge.yaml (which takes precedence)'],
  );
}

/**
 * The telemetry options of service `serviceName` from the `telemetry` section: `service.name` defaults to the service
 * name, `${VAR}` / `${VAR:-default}` in OTLP header values are read from the environment now, and the Prometheus
 * address is the service's own under `prometheus.services` or the shared `prometheus.listen`. The OTLP protocol is
 * `otlp.protocol`, else `OTEL_EXPORTER_OTLP_PROTOCOL` (the OpenTelemetry convention), else `http/json`.
 * `serve` passes the result to `startServer` as `telemetry` (nothing when it returns `undefined`).
 * @returns `undefined` when telemetry is off.
 * @throws UserError `telemetry-config` when a header references an unset variable without a default, or
 *   `OTEL_EXPORTER_OTLP_PROTOCOL` names no OTLP protocol.
 */
export function buildTelemetryOptions(config: ResolvedConfig, serviceName: string): TelemetryOptions | undefined {
  const telemetry = config.telemetry;
  if (!telemetry) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(telemetry.otlp?.headers ?? {})) {
    const resolved = value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (_match, variable: string, fallback?: string) => {
        const found = process.env[variable];
        if (found !== undefined && found !== '') return found;
        if (fallback !== undefined) return fallback;
        throw new UserError(
          'telemetry-config',
          `telemetry.otlp.headers.${name}: environment variable ${variable} is not set and has no default`,
          ['set it, or write ${' + variable + ':-default}'],
        );
      },
    );
    if (resolved) headers[name] = resolved;
  }
  const prometheus = telemetry.prometheus?.services[serviceName] ?? telemetry.prometheus?.listen;
  return {
    serviceName: telemetry.serviceName ?? serviceName,
    traces: telemetry.traces,
    metrics: telemetry.metrics,
    ...(telemetry.otlp
      ? {
          otlp: {
            endpoint: telemetry.otlp.endpoint,
            protocol: telemetry.otlp.protocol ?? otlpProtocolFromEnv(),
            headers,
            intervalMs: telemetry.otlp.intervalMs,
          },
        }
      : {}),
    ...(prometheus ? { prometheus: { host: prometheus.host, port: prometheus.port } } : {}),
  };
}
