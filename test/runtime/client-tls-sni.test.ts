import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ServerCredentials } from '@grpc/grpc-js';
import { createServer } from 'nice-grpc';
import { HealthDefinition, HealthServiceImpl } from 'nice-grpc-server-health';
import { initDevCertificates } from '../../src/certs/dev-ca.ts';
import { loadConfig } from '../../src/config/load.ts';
import { closeServiceClient, createServiceClient } from '../../packages/runtime/src/index.ts';
import { tempDir, writeFiles } from '../helpers/workspace.ts';

// A generated client dialling a TLS server by IP address (the example with mTLS: dns:///127.0.0.1:50051) must not
// make Node print DEP0123 ("Setting the TLS ServerName to an IP address is not permitted by RFC 6066"): grpc-js puts
// the target's host into `servername` even for an IP. The certificate is still checked against the IP.

test('a TLS client of an IP address sends no SNI (no DEP0123) and still verifies the certificate', async () => {
  const dir = await tempDir();
  const tls = 'tls:\n  ca: certs/ca.pem\n  cert: certs/${SERVICE}.pem\n  key: certs/${SERVICE}.key\n';
  await writeFiles(dir, { 'grpcforge.yaml': `version: 1\nservices:\n  api: {}\n  web: {}\n${tls}` });
  const loaded = await loadConfig(join(dir, 'grpcforge.yaml'));
  await initDevCertificates(loaded.config!, { trustDomain: 'test' });
  const read = (name: string) => readFile(join(dir, 'certs', name));
  const [ca, cert, key] = await Promise.all([read('ca.pem'), read('api.pem'), read('api.key')]);

  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }) => warnings.push(`${warning.code ?? ''} ${warning.message}`);
  process.on('warning', onWarning);
  const server = createServer();
  server.add(HealthDefinition, HealthServiceImpl());
  const port = await server.listen(
    '127.0.0.1:0',
    ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], true),
  );
  try {
    const clientTls = { ca: join(dir, 'certs/ca.pem'), cert: join(dir, 'certs/web.pem'), key: join(dir, 'certs/web.key') };
    for (const target of [`127.0.0.1:${port}`, `dns:///127.0.0.1:${port}`]) {
      const client = createServiceClient(HealthDefinition, { target, tls: clientTls, retry: false });
      assert.deepEqual(await client.check({ service: '' }), { status: 1 }, target);
      closeServiceClient(client);
    }
    // A name the certificate does not have is still refused: verification did not go away with the SNI.
    const wrongName = createServiceClient(HealthDefinition, {
      target: `127.0.0.1:${port}`,
      tls: clientTls,
      retry: false,
      channelOptions: { 'grpc.ssl_target_name_override': 'elsewhere.example' },
    });
    await assert.rejects(wrongName.check({ service: '' }), /UNAVAILABLE/);
    closeServiceClient(wrongName);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.filter((warning) => warning.startsWith('DEP0123')),
      [],
    );
  } finally {
    process.off('warning', onWarning);
    await server.shutdown();
  }
});
