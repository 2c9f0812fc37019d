import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ChannelCredentials } from '@grpc/grpc-js';
import type { TsProtoServiceDefinition } from 'nice-grpc';
import type * as RuntimeModule from '../../packages/runtime/src/index.ts';
import { createTestCertificates } from '../helpers/certs.ts';
import { linkWorkspace, repoRoot, runCli, publicContracts, startServe, tempDir, writeFiles } from '../helpers/workspace.ts';

// `grpcforge serve` with mTLS from grpcforge.yaml: the client certificate is the principal the log store records.

type Runtime = typeof RuntimeModule;
let ws: string;

const CONFIG = `version: 1
services:
  greeter:
    serves: [helloworld.Greeter]
    listen: 127.0.0.1:0
  caller:
    consumes:
      - service: helloworld.Greeter
        tls: true
        credentials: { apiKeyEnv: CALLER_API_KEY }
        methods: { SayHello: { deadlineMs: 1500 } }
tls:
  ca: certs/ca.pem
  cert: certs/\${SERVICE}.pem
  key: certs/\${SERVICE}.key
  requireClientCert: true
auth:
  mtls:
    roles: { "spiffe://grpcforge.test/user": [reader] }
  methods:
    helloworld.Greeter/*: { roles: [reader] }
`;

describe('serve with mTLS', () => {
  before(async () => {
    ws = await tempDir();
    await cp(join(publicContracts, 'grpc-node/examples/protos/helloworld.proto'), join(ws, 'proto/helloworld.proto'));
    await cp(join(repoRoot, 'templates/workspace/buf.gen.yaml'), join(ws, 'buf.gen.yaml'));
    await writeFiles(ws, {
      'buf.yaml': 'version: v2\nmodules:\n  - path: proto\n',
      'package.json': '{ "private": true, "type": "module" }\n',
      'grpcforge.yaml': CONFIG,
      'services/greeter/src/handlers/helloworld.Greeter/say-hello.ts':
        "import type { GreeterHandlers } from '../../gen/server/helloworld.Greeter.js';\n\nexport const sayHello: GreeterHandlers['sayHello'] = async (request, context) => ({\n  message: `Hello ${request.name}, you are ${context.principal?.id}`,\n});\n",
    });
    await writeFiles(ws, { 'certs/.keep': '' });
    const certs = createTestCertificates(join(ws, 'certs'));
    await writeFile(join(ws, 'certs/greeter.pem'), certs.serverCert);
    await writeFile(join(ws, 'certs/greeter.key'), certs.serverKey);
    await linkWorkspace(ws);
    const generate = runCli(['generate'], ws);
    assert.equal(generate.code, 0, generate.stderr);
  });

  test('a client with a certificate is the principal, and the log store records it', async () => {
    const server = await startServe(ws, 'greeter');
    await server.waitForStderr(/mTLS/);
    const runtime = (await import(pathToFileURL(join(ws, 'node_modules/@grpcforge/runtime/dist/index.js')).href)) as Runtime;
    const pb = (await import(pathToFileURL(join(ws, 'services/greeter/src/gen/pb/helloworld.ts')).href)) as Record<
      string,
      TsProtoServiceDefinition
    >;
    const { readFileSync } = await import('node:fs');
    const file = (name: string) => readFileSync(join(ws, 'certs', name));
    const client = runtime.createServiceClient(pb.GreeterDefinition!, {
      target: server.address,
      credentials: ChannelCredentials.createSsl(file('ca.pem'), file('client.key'), file('client.pem')),
    }) as unknown as { sayHello(request: { name: string }): Promise<{ message: string }> };
    assert.equal((await client.sayHello({ name: 'Ada' })).message, 'Hello Ada, you are spiffe://grpcforge.test/user');
    runtime.closeServiceClient(client);
    assert.equal(await server.stop(), 0);
    const logs = runCli(['logs', '--json'], ws);
    assert.deepEqual(
      (JSON.parse(logs.stdout) as { logs: { principal: string }[] }).logs.map((log) => log.principal),
      ['mtls:spiffe://grpcforge.test/user'],
    );
  });

  test('a generated client dials mTLS with its own certificate, a per-RPC deadline and credentials, all from config', async () => {
    const generated = await readFile(join(ws, 'services/caller/src/gen/clients/helloworld.Greeter.ts'), 'utf8');
    assert.match(generated, /methodDeadlinesMs: \{ sayHello: 1500 \},/);
    assert.match(generated, /callCredentials: \{ apiKey: fromEnv\('CALLER_API_KEY'\) \},/);
    assert.match(generated, /tls: \{ ca: 'certs\/ca\.pem', cert: 'certs\/caller\.pem', key: 'certs\/caller\.key' \},/);
    const { readFileSync } = await import('node:fs');
    await writeFile(join(ws, 'certs/caller.pem'), readFileSync(join(ws, 'certs/client.pem')));
    await writeFile(join(ws, 'certs/caller.key'), readFileSync(join(ws, 'certs/client.key')));
    const server = await startServe(ws, 'greeter');
    const { createGreeterClient } = (await import(
      pathToFileURL(join(ws, 'services/caller/src/gen/clients/helloworld.Greeter.ts')).href
    )) as {
      createGreeterClient: (options?: object) => { sayHello(request: { name: string }): Promise<{ message: string }> };
    };
    const cwd = process.cwd();
    process.chdir(ws); // as under `grpcforge serve caller`: paths are relative to the workspace
    try {
      const client = createGreeterClient({ target: server.address });
      assert.equal((await client.sayHello({ name: 'Grace' })).message, 'Hello Grace, you are spiffe://grpcforge.test/user');
    } finally {
      process.chdir(cwd);
    }
    assert.equal(await server.stop(), 0);
  });

  test('a key that does not match its certificate fails fast with exit 2', async () => {
    const { readFileSync } = await import('node:fs');
    const original = readFileSync(join(ws, 'certs/greeter.key'));
    await writeFile(join(ws, 'certs/greeter.key'), readFileSync(join(ws, 'certs/client.key')));
    const result = runCli(['serve', 'greeter', '--port', '0'], ws);
    await writeFile(join(ws, 'certs/greeter.key'), original);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /tls\.key does not match tls\.cert for service "greeter"/);
  });
});
