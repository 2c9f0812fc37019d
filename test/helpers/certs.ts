import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
}

function openssl(dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

function issue(dir: string, name: string, ca: string, subject: string, san: string): void {
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\n`);
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
 * identity is `spiffe://grpcforge.test/user` (URI SAN, CN "user"); and a client certificate from another CA.
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
  const read = (name: string) => readFileSync(join(dir, name));
  return {
    ca: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    strangerCert: read('stranger.pem'),
    strangerKey: read('stranger.key'),
  };
}
