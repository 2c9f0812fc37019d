import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import {
  ClientError,
  ServerError,
  Status,
  closeServiceClient,
  createServiceClient,
  defineService,
  startServer,
  type CallContext,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { createTestCertificates } from '../helpers/certs.ts';
import { InventoryDefinition } from '../helpers/json-definition.ts';
import { repoRoot, tempDir } from '../helpers/workspace.ts';

// Generated clients' behaviour, on the runtime they call: retries only where the contract allows, deadlines,
// credentials on every call, TLS and mTLS.

interface InventoryClient {
  getItem(request: object, options?: object): Promise<{ attempts?: number }>;
  putItem(request: object, options?: object): Promise<{ attempts?: number }>;
  createItem(request: object, options?: object): Promise<{ attempts?: number }>;
}

const received: Record<string, number> = {};
const headers: Record<string, string | undefined>[] = [];

/** Every method fails with UNAVAILABLE twice, then answers; `slow` waits 1 s. */
function inventory() {
  const flaky = (name: string) => async (request: { slow?: boolean }, context: CallContext) => {
    received[name] = (received[name] ?? 0) + 1;
    headers.push({ apiKey: context.metadata.get('x-api-key'), authorization: context.metadata.get('authorization') });
    if (request.slow) await new Promise((resolve) => setTimeout(resolve, 1000));
    if (received[name] <= 2) throw new ServerError(Status.UNAVAILABLE, 'warming up');
    return { attempts: received[name] };
  };
  return defineService(
    InventoryDefinition as never,
    { getItem: flaky('getItem'), putItem: flaky('putItem'), createItem: flaky('createItem') } as never,
  );
}

describe('service clients', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({ host: '127.0.0.1', port: 0, services: [inventory()], health: false, reflection: false });
  });
  after(async () => {
    await server.shutdown(0);
  });

  test('a method marked NO_SIDE_EFFECTS or IDEMPOTENT is retried; an unmarked one never is', async () => {
    const client = createServiceClient(InventoryDefinition, {
      target: server.address,
      retry: { baseDelayMs: 10 },
    }) as unknown as InventoryClient;
    assert.deepEqual(await client.getItem({}), { attempts: 3 });
    assert.equal(received.getItem, 3, 'NO_SIDE_EFFECTS: two failures, then the answer');
    assert.deepEqual(await client.putItem({}), { attempts: 3 });
    assert.equal(received.putItem, 3, 'IDEMPOTENT: retried too');
    await assert.rejects(client.createItem({}), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.path, '/test.v1.InventoryService/CreateItem');
      assert.equal(Status[error.code], 'UNAVAILABLE');
      assert.match(error.message, /^\/test\.v1\.InventoryService\/CreateItem UNAVAILABLE: warming up$/);
      return true;
    });
    assert.equal(received.createItem, 1, 'never retried: the server got exactly one call');
    closeServiceClient(client);
  });

  test('the default deadline gives DEADLINE_EXCEEDED; a per-method deadline wins', async () => {
    received.getItem = 10; // past the failures
    const client = createServiceClient(InventoryDefinition, {
      target: server.address,
      deadlineMs: 5000,
      methodDeadlinesMs: { getItem: 100 },
      retry: false,
    }) as unknown as InventoryClient;
    const started = Date.now();
    await assert.rejects(
      client.getItem({ slow: true }),
      (error: unknown) => error instanceof ClientError && error.code === Status.DEADLINE_EXCEEDED,
    );
    assert.ok(Date.now() - started < 900, 'the per-method 100 ms deadline applied, not the 5 s default');
    closeServiceClient(client);
  });

  test('credentials reach the server on every call, and a call can override them', async () => {
    headers.length = 0;
    received.putItem = 10;
    const client = createServiceClient(InventoryDefinition, {
      target: server.address,
      callCredentials: { apiKey: 'gfk_key', bearerToken: 'jwt-token' },
    }) as unknown as InventoryClient;
    await client.putItem({});
    const { Metadata } = await import('../../packages/runtime/src/index.ts');
    await client.putItem({}, { metadata: Metadata({ 'x-api-key': 'per-call' }) });
    assert.deepEqual(headers, [
      { apiKey: 'gfk_key', authorization: 'Bearer jwt-token' },
      { apiKey: 'per-call', authorization: 'Bearer jwt-token' },
    ]);
    closeServiceClient(client);
  });

  test('a credential variable that is unset or empty is named on stderr once per variable and service', () => {
    // A real process, so the test reads its real stderr: three clients of one service, one of another.
    const url = (path: string) => JSON.stringify(pathToFileURL(join(repoRoot, path)).href);
    const script = `
      const { createServiceClient, closeServiceClient, fromEnv } = await import(${url('packages/runtime/src/index.ts')});
      const { EchoDefinition, InventoryDefinition } = await import(${url('test/helpers/json-definition.ts')});
      const callCredentials = { apiKey: fromEnv('GF_TEST_API_KEY'), bearerToken: fromEnv('GF_TEST_TOKEN') };
      for (const definition of [EchoDefinition, EchoDefinition, EchoDefinition, InventoryDefinition])
        closeServiceClient(createServiceClient(definition, { target: '127.0.0.1:1', callCredentials }));
      console.log('created');`;
    const run = (env: Record<string, string>) => {
      const rest = { ...process.env };
      delete rest.GF_TEST_API_KEY;
      delete rest.GF_TEST_TOKEN;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...rest, ...env },
      });
      assert.equal(child.stdout, 'created\n', child.stderr);
      return child.stderr.split('\n').filter((line) => line.startsWith('grpcforge'));
    };
    const warning = (variable: string, service: string, header: string) =>
      `grpcforge client: $${variable} is unset or empty, so calls to ${service} carry no ${header} ` +
      "(set it, or remove the credential from this service's consumes entry in grpcforge.yaml)";
    // The key variable empty, the token variable unset.
    assert.deepEqual(run({ GF_TEST_API_KEY: '' }), [
      warning('GF_TEST_API_KEY', 'test.v1.EchoService', 'x-api-key'),
      warning('GF_TEST_TOKEN', 'test.v1.EchoService', 'authorization: Bearer token'),
      warning('GF_TEST_API_KEY', 'test.v1.InventoryService', 'x-api-key'),
      warning('GF_TEST_TOKEN', 'test.v1.InventoryService', 'authorization: Bearer token'),
    ]);
    assert.deepEqual(run({ GF_TEST_API_KEY: 'gfk_key', GF_TEST_TOKEN: 'token' }), []);
  });

  test('round-robin spreads calls over every address of the target', async () => {
    const hits = { a: 0, b: 0 };
    const replica = (name: 'a' | 'b') =>
      startServer({
        host: '127.0.0.1',
        port: 0,
        services: [
          defineService(
            InventoryDefinition as never,
            {
              getItem: async () => {
                hits[name]++;
                return {};
              },
              putItem: async () => ({}),
              createItem: async () => ({}),
            } as never,
          ),
        ],
        health: false,
        reflection: false,
      });
    const [a, b] = [await replica('a'), await replica('b')];
    // grpc-js's ipv4: scheme lists several addresses, as a dns:/// name resolving to several would.
    const client = createServiceClient(InventoryDefinition, {
      target: `ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`,
    }) as unknown as InventoryClient;
    for (let i = 0; i < 20; i++) await client.getItem({});
    assert.equal(hits.a + hits.b, 20);
    assert.ok(hits.a >= 5 && hits.b >= 5, `calls spread: ${JSON.stringify(hits)}`);
    closeServiceClient(client);
    await a.shutdown(0);
    await b.shutdown(0);
  });

  test('TLS and mTLS channel credentials from PEM files', async () => {
    const dir = await tempDir();
    const certs = createTestCertificates(dir);
    const tlsServer = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [inventory()],
      credentials: ServerCredentials.createSsl(certs.ca, [{ cert_chain: certs.serverCert, private_key: certs.serverKey }], true),
      health: false,
      reflection: false,
    });
    received.createItem = 10;
    const withCert = createServiceClient(InventoryDefinition, {
      target: tlsServer.address,
      tls: { ca: `${dir}/ca.pem`, cert: `${dir}/client.pem`, key: `${dir}/client.key` },
    }) as unknown as InventoryClient;
    assert.deepEqual(await withCert.createItem({}), { attempts: 11 });
    const withoutCert = createServiceClient(InventoryDefinition, {
      target: tlsServer.address,
      tls: { ca: `${dir}/ca.pem` },
      retry: false,
    }) as unknown as InventoryClient;
    await assert.rejects(
      withoutCert.createItem({}),
      (error: unknown) => error instanceof ClientError && error.code === Status.UNAVAILABLE,
    );
    assert.throws(
      () => createServiceClient(InventoryDefinition, { target: tlsServer.address, tls: { cert: `${dir}/client.pem` } }),
      /both cert and key/,
    );
    assert.ok(ChannelCredentials);
    closeServiceClient(withCert);
    closeServiceClient(withoutCert);
    await tlsServer.shutdown(0);
  });
});
