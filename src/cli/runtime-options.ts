import { readFile } from 'node:fs/promises';
import type { ResolvedAuthSettings, ResolvedConfig } from '../config/resolved.js';
import type { AuthOptions, LogStore } from '../runtime/index.js';
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
  const { createLogStore } = await import('../runtime/index.js');
  try {
    return await createLogStore({
      url: config.logStore.url,
      writer,
      onMigrationProgress: (message) => process.stderr.write(`log store: ${message}\n`),
      ...(config.logStore.retentionMs !== undefined ? { retentionMs: config.logStore.retentionMs } : {}),
    });
  } catch (error) {
    throw new UserError('log-store-failed', `cannot open the log store ${config.logStore.url}: ${errorMessage(error)}`);
  }
}

/**
 * The auth options of a server: the policy, API keys through the log store, JWT from its key source.
 * @throws UserError `jwt-config` when the secret variable is unset or the public key cannot be read.
 */
export async function buildAuthOptions(auth: ResolvedAuthSettings, store: LogStore | undefined): Promise<AuthOptions> {
  const { createJwtVerifier } = await import('../runtime/auth/jwt.js');
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
    ...(auth.mtls ? { mtls: { roles: auth.mtls.roles } } : {}),
  };
}

/**
 * Server credentials from the `tls` section, with `${SERVICE}` replaced by the service name.
 * @returns `undefined` for plaintext.
 * @throws UserError `tls-config` when a file is missing, the key does not match the certificate, or client
 * certificates are required without a CA.
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
