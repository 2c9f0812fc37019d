import { basename, relative } from 'node:path';
import type { Command } from 'commander';
import { toPosix } from '../../util/fs.js';
import { UserError } from '../../util/errors.js';
import { loadConfigFor } from '../context.js';
import { parseWholeNumber } from '../flags.js';
import { out } from '../output/print.js';

/** `grpcforge certs init`: a development CA and a certificate per service, where grpcforge.yaml expects them. */
export function registerCerts(program: Command): void {
  const certs = program.command('certs').description('development certificates for TLS and mTLS');
  certs
    .command('init')
    .description('create a development CA and one certificate per service (identity spiffe://<trust-domain>/<service>)')
    .option('--trust-domain <domain>', 'SPIFFE trust domain (default: the workspace folder name)')
    .option('--days <n>', 'validity of the service certificates in days (default: 30)')
    .option('--force', 'create a new CA even if one exists (every certificate is issued again)')
    .addHelpText(
      'after',
      `
Files go where grpcforge.yaml's tls section names them (\${SERVICE} is the service name); an existing CA is reused
and only missing certificates are issued. For development only: keep production keys in your own PKI.

Example grpcforge.yaml:
  tls:
    ca: certs/ca.pem
    cert: certs/\${SERVICE}.pem
    key: certs/\${SERVICE}.key
    requireClientCert: true
  auth: { mtls: { roles: { "spiffe://platform/user": [service] } } }

Example:
  $ grpcforge certs init --trust-domain platform`,
    )
    .action(async (flags: { trustDomain?: string; days?: string; force?: boolean }, command: Command) => {
      const config = await loadConfigFor(command);
      const trustDomain =
        flags.trustDomain ??
        basename(config.workspaceDir)
          .toLowerCase()
          .replace(/[^a-z0-9.-]/g, '-');
      if (!/^[a-z0-9.-]+$/.test(trustDomain)) {
        throw new UserError(
          'bad-flag',
          `--trust-domain: "${trustDomain}" is not a SPIFFE trust domain (lower-case letters, digits, dots, dashes)`,
        );
      }
      const days = parseWholeNumber(flags.days, '--days', 30, 1);
      const { initDevCertificates } = await import('../../certs/dev-ca.js');
      const entries = await initDevCertificates(config, { trustDomain, days, force: flags.force === true });
      for (const entry of entries) {
        out(
          `  ${entry.action.padEnd(9)}${toPosix(relative(process.cwd(), entry.path))}${entry.identity ? `  (${entry.identity})` : ''}`,
        );
      }
      out(
        `certs: ${entries.filter((entry) => entry.action === 'created').length} created, ${entries.filter((entry) => entry.action === 'kept').length} kept`,
      );
    });
}
