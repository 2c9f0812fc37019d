import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A PEM certificate and its private key. */
export interface CertificateAndKey {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** PEM files of a test certificate authority and certificates it signed. */
export interface TestCertificates {
  readonly ca: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  /** A client certificate signed by another CA. */
  readonly strangerCert: Buffer;
  readonly strangerKey: Buffer;
  /** Client certificates from the CA that are not valid X.509-SVIDs, or have no URI SAN. */
  readonly unusual: {
    /** URI SANs spiffe://grpcforge.test/user and spiffe://grpcforge.test/admin. */
    readonly twoUris: CertificateAndKey;
    /** basicConstraints CA:TRUE, URI SAN spiffe://grpcforge.test/user. */
    readonly caLeaf: CertificateAndKey;
    /** No SAN; subject CN spiffe://grpcforge.test/user. */
    readonly spiffeCommonName: CertificateAndKey;
    /** No SAN; subject CN billing. */
    readonly plainCommonName: CertificateAndKey;
  };
}

function openssl(dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

/** `san` undefined: no subjectAltName extension. */
function issue(dir: string, name: string, ca: string, subject: string, san: string | undefined, isCa = false): void {
  const extensions = `${san === undefined ? '' : `subjectAltName=${san}\n`}basicConstraints=CA:${isCa ? 'TRUE' : 'FALSE'}\n`;
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.pem`,
    '-extfile',
    `${name}.ext`,
  ]);
}

/**
 * Creates, with the openssl CLI, a CA; a server certificate for 127.0.0.1/localhost; a client certificate whose
 * identity is `spiffe://grpcforge.test/user` (URI SAN, CN "user"); a client certificate from another CA; and the
 * {@link TestCertificates.unusual} client certificates.
 */
export function createTestCertificates(dir: string): TestCertificates {
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${ca}`,
    ]);
  }
  issue(dir, 'server', 'ca', '/CN=server', 'DNS:localhost,IP:127.0.0.1');
  issue(dir, 'client', 'ca', '/CN=user', 'URI:spiffe://grpcforge.test/user');
  issue(dir, 'stranger', 'other-ca', '/CN=user', 'URI:spiffe://grpcforge.test/user');
  issue(dir, 'two-uris', 'ca', '/CN=user', 'URI:spiffe://grpcforge.test/user,URI:spiffe://grpcforge.test/admin');
  issue(dir, 'ca-leaf', 'ca', '/CN=user', 'URI:spiffe://grpcforge.test/user', true);
  issue(dir, 'spiffe-cn', 'ca', '/CN=spiffe:\\/\\/grpcforge.test\\/user', undefined);
  issue(dir, 'plain-cn', 'ca', '/CN=billing', undefined);
  const read = (name: string) => readFileSync(join(dir, name));
  const pair = (name: string) => ({ cert: read(`${name}.pem`), key: read(`${name}.key`) });
  return {
    ca: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    strangerCert: read('stranger.pem'),
    strangerKey: read('stranger.key'),
    unusual: {
      twoUris: pair('two-uris'),
      caLeaf: pair('ca-leaf'),
      spiffeCommonName: pair('spiffe-cn'),
      plainCommonName: pair('plain-cn'),
    },
  };
}
