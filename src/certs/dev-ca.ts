import { existsSync } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import { webcrypto } from 'node:crypto';
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { DAY_MS } from '@grpcforge/runtime/vocabulary';
import type { ResolvedConfig } from '../config/resolved.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Options of {@link initDevCertificates}. */
export interface CertsInitOptions {
  /** SPIFFE trust domain: identities are `spiffe://<trust-domain>/<service>`. */
  readonly trustDomain: string;
  /** Validity of the service certificates, in days. @defaultValue 30 */
  readonly days?: number;
  /** Replace an existing CA (and so every certificate). */
  readonly force?: boolean;
}

/** One file written, or kept because it existed. */
export interface CertsInitEntry {
  readonly path: string;
  readonly action: 'created' | 'kept';
  readonly identity?: string;
}

/**
 * A development certificate authority and, for every service of the workspace, one certificate usable as server and
 * as client (extended key usages serverAuth and clientAuth) whose identity is the URI SAN
 * `spiffe://<trust-domain>/<service>`, plus DNS `localhost`/`<service>` and IP 127.0.0.1 for local dialling. Written
 * where grpcforge.yaml's `tls` section expects them (`${SERVICE}` in the paths); keys are PKCS#8 PEM, mode 0600.
 * An existing CA is reused (only missing service files are issued) unless `force`.
 * @throws UserError `tls-missing` without a `tls` section (with what to add), `ca-unreadable` for a broken CA.
 */
export async function initDevCertificates(config: ResolvedConfig, options: CertsInitOptions): Promise<CertsInitEntry[]> {
  const tls = config.tls ?? config.tlsFiles;
  if (!tls?.ca) {
    throw new UserError('tls-missing', 'grpcforge.yaml has no tls section with a ca: certs init writes the files it names', [
      'add for example:',
      'tls: { ca: certs/ca.pem, cert: "certs/${SERVICE}.pem", key: "certs/${SERVICE}.key", requireClientCert: true }',
    ]);
  }
  const entries: CertsInitEntry[] = [];
  const caKeyPath = tls.ca.replace(/\.pem$/, '') + '.key';
  const now = Date.now();
  let ca: { cert: x509.X509Certificate; key: CryptoKey };
  if (existsSync(tls.ca) && existsSync(caKeyPath) && !options.force) {
    ca = await readCa(tls.ca, caKeyPath);
    entries.push({ path: tls.ca, action: 'kept' }, { path: caKeyPath, action: 'kept' });
  } else {
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=grpcforge development CA (${options.trustDomain})`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 365 * DAY_MS),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    await writeFileAtomic(tls.ca, cert.toString('pem') + '\n');
    await writeKey(caKeyPath, keys.privateKey);
    ca = { cert, key: keys.privateKey };
    entries.push({ path: tls.ca, action: 'created' }, { path: caKeyPath, action: 'created' });
  }
  const caCreated = entries[0]?.action === 'created';
  for (const service of config.services) {
    // Each service's files, `${SERVICE}` replaced by config resolution (the section exists: it has a ca).
    const { cert: certPath, key: keyPath } = service.tlsFiles ?? tls;
    const identity = `spiffe://${options.trustDomain}/${service.name}`;
    if (!caCreated && existsSync(certPath) && existsSync(keyPath)) {
      entries.push({ path: certPath, action: 'kept', identity }, { path: keyPath, action: 'kept' });
      continue;
    }
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${service.name}`,
      issuer: ca.cert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + (options.days ?? 30) * DAY_MS),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: ca.key,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'url', value: identity },
          { type: 'dns', value: 'localhost' },
          { type: 'dns', value: service.name },
          { type: 'ip', value: '127.0.0.1' },
        ]),
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ],
    });
    await writeFileAtomic(certPath, cert.toString('pem') + '\n');
    await writeKey(keyPath, keys.privateKey);
    entries.push({ path: certPath, action: 'created', identity }, { path: keyPath, action: 'created' });
  }
  return entries;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

async function writeKey(path: string, key: CryptoKey): Promise<void> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const body = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  await writeFileAtomic(path, `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`);
  await chmod(path, 0o600);
}

async function readCa(certPath: string, keyPath: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey }> {
  try {
    const cert = new x509.X509Certificate(await readFile(certPath, 'utf8'));
    const pem = await readFile(keyPath, 'utf8');
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const key = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
    return { cert, key };
  } catch (error) {
    throw new UserError('ca-unreadable', `cannot use the CA in ${certPath} and ${keyPath}: ${(error as Error).message}`, [
      'pass --force to create a new CA (every certificate is then issued again)',
    ]);
  }
}
