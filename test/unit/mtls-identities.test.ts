import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { initDevCertificates } from '../../src/certs/dev-ca.ts';
import { loadConfig } from '../../src/config/load.ts';
import { checkMtlsIdentities } from '../../src/lint/consistency.ts';
import { tempDir, writeFiles } from '../helpers/workspace.ts';

// auth.mtls.roles keys are the certificate identities of workspace services: an entry left over from the example
// (spiffe://platform/user once user is gone) or a typo would otherwise give nobody its roles, silently.

const SERVICES = `version: 1
services:
  collector:
    serves: [otel.v1.TraceService]
    listen: 127.0.0.1:4317
  exporter:
    consumes: [otel.v1.TraceService]
`;

/** The lint findings of a grpcforge.yaml with these services and this `auth:` section, as `rule file:line:col message`. */
async function findings(auth: string, services = SERVICES, setup?: (dir: string) => Promise<void>): Promise<string[]> {
  const dir = await tempDir();
  await writeFiles(dir, { 'grpcforge.yaml': `${services}${auth}` });
  await setup?.(dir);
  const loaded = await loadConfig(join(dir, 'grpcforge.yaml'));
  assert.deepEqual(loaded.errors, []);
  return (await checkMtlsIdentities(loaded.config!)).map(
    (finding) => `${finding.rule} ${finding.file ?? ''}:${finding.line ?? 0}:${finding.column ?? 0} ${finding.message}`,
  );
}

describe('lint consistency: auth.mtls.roles names identities of workspace services', () => {
  const cases: [name: string, auth: string, expected: string[]][] = [
    ['no auth.mtls section', 'auth: { apiKeys: true }\n', []],
    [
      'the identities certs init gives the services, in any trust domain',
      'auth:\n  mtls:\n    roles: { "spiffe://otel/collector": [a], "spiffe://prod.example.com/exporter": [b] }\n',
      [],
    ],
    [
      'the example leftover: a service that is no longer in the workspace',
      'auth:\n  mtls:\n    roles:\n      "spiffe://platform/user": [service]\n',
      [
        'unknown-identity grpcforge.yaml:11:7 auth.mtls.roles["spiffe://platform/user"]: no service of the workspace has the identity "spiffe://platform/user" (services: collector, exporter; `grpcforge certs init` gives each service the identity spiffe://<trust-domain>/<service>): remove the entry, or rename it after the service it is meant for',
      ],
    ],
    [
      'a misspelt service',
      'auth:\n  mtls:\n    roles:\n      "spiffe://otel/exportr": [service]\n',
      [
        'unknown-identity grpcforge.yaml:11:7 auth.mtls.roles["spiffe://otel/exportr"]: no service of the workspace has the identity "spiffe://otel/exportr" (did you mean "spiffe://otel/exporter"?) (services: collector, exporter; `grpcforge certs init` gives each service the identity spiffe://<trust-domain>/<service>): remove the entry, or rename it after the service it is meant for',
      ],
    ],
    [
      'a bare name while allowCommonName is off',
      'auth:\n  mtls:\n    roles:\n      exporter: [service]\n',
      [
        'unknown-identity grpcforge.yaml:11:7 auth.mtls.roles.exporter: "exporter" is not a SPIFFE ID (spiffe://<trust-domain>/<path>) and auth.mtls.allowCommonName is off, so no certificate is identified by it: write the SPIFFE ID of the service it is meant for',
      ],
    ],
    ['a service CN with allowCommonName', 'auth:\n  mtls:\n    allowCommonName: true\n    roles: { exporter: [service] }\n', []],
    [
      'an unknown CN with allowCommonName',
      'auth:\n  mtls:\n    allowCommonName: true\n    roles:\n      collectr: [service]\n',
      [
        'unknown-identity grpcforge.yaml:12:7 auth.mtls.roles.collectr: no service of the workspace has the certificate CN "collectr" (did you mean "collector"?) (services: collector, exporter): remove the entry, or rename it after the service it is meant for',
      ],
    ],
  ];
  for (const [name, auth, expected] of cases) {
    test(name, async () => {
      assert.deepEqual(await findings(auth), expected);
    });
  }

  test('an empty workspace: every entry is a leftover', async () => {
    assert.deepEqual(
      await findings('auth:\n  mtls:\n    roles: { "spiffe://platform/auth": [service] }\n', 'version: 1\nservices:\n'),
      [
        'unknown-identity grpcforge.yaml:5:14 auth.mtls.roles["spiffe://platform/auth"]: no service of the workspace has the identity "spiffe://platform/auth" (the workspace has no services; `grpcforge certs init` gives each service the identity spiffe://<trust-domain>/<service>): remove the entry, or rename it after the service it is meant for',
      ],
    );
  });

  test("a service's certificate on disk gives it the identity it carries, whatever its name", async () => {
    const tls = 'tls:\n  enabled: false\n  ca: certs/ca.pem\n  cert: certs/${SERVICE}.pem\n  key: certs/${SERVICE}.key\n';
    const auth = 'auth:\n  mtls:\n    roles: { "spiffe://acme/ingest": [service], "spiffe://acme/other": [service] }\n';
    const result = await findings(`${tls}${auth}`, SERVICES, async (dir) => {
      // certs init for a workspace whose service is "ingest", then that certificate given to "collector".
      await writeFiles(dir, { 'ingest/grpcforge.yaml': `version: 1\nservices:\n  ingest: {}\n${tls}` });
      const ingest = await loadConfig(join(dir, 'ingest/grpcforge.yaml'));
      await initDevCertificates(ingest.config!, { trustDomain: 'acme' });
      await writeFiles(dir, { 'certs/.keep': '' });
      await copyFile(join(dir, 'ingest/certs/ingest.pem'), join(dir, 'certs/collector.pem'));
    });
    assert.deepEqual(
      result.map((line) => line.replace(/ \(services: .*$/, '')),
      [
        'unknown-identity grpcforge.yaml:15:49 auth.mtls.roles["spiffe://acme/other"]: no service of the workspace has the identity "spiffe://acme/other"',
      ],
    );
  });
});
