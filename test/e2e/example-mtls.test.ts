import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { TsProtoServiceDefinition } from 'nice-grpc';
import type * as RuntimeModule from '../../packages/runtime/src/index.ts';
import { linkWorkspace, runCli, startServe, tempDir } from '../helpers/workspace.ts';
import type { AuthClientModule, UserClient } from './example-types.ts';

// The example workspace with mTLS switched on (tls.enabled: true) and certificates from `grpcforge certs init`:
// user talks to auth over mTLS, with its deadline and its certificate as identity, all from grpcforge.yaml.

type Runtime = typeof RuntimeModule;

test('example workspace: one switch and certs init give mTLS between user and auth', async () => {
  const ws = join(await tempDir(), 'platform');
  assert.equal(runCli(['init', ws], process.cwd()).code, 0);
  await linkWorkspace(ws);
  const configPath = join(ws, 'grpcforge.yaml');
  await writeFile(configPath, (await readFile(configPath, 'utf8')).replace('  enabled: false\n', '  enabled: true\n'));
  const certs = runCli(['certs', 'init', '--trust-domain', 'platform'], ws);
  assert.equal(certs.code, 0, certs.stderr);
  assert.match(certs.stdout, /created {2}certs\/user\.pem {2}\(spiffe:\/\/platform\/user\)/);
  assert.equal(runCli(['generate'], ws).code, 0);

  const auth = await startServe(ws, 'auth');
  await auth.waitForStderr(/mTLS/);
  const user = await startServe(ws, 'user', { AUTH_ADDR: auth.address });
  const runtime = (await import(pathToFileURL(join(ws, 'node_modules/@grpcforge/runtime/dist/index.js')).href)) as Runtime;
  const cwd = process.cwd();
  process.chdir(ws); // the generated clients' certificate paths are relative to the workspace
  try {
    // Login with user's generated client of auth: it carries user's certificate.
    const { createAuthServiceClient } = (await import(
      pathToFileURL(join(ws, 'services/user/src/gen/clients/auth.v1.AuthService.ts')).href
    )) as AuthClientModule;
    const authClient = createAuthServiceClient({ target: auth.address });
    const { token } = await authClient.login({ username: 'ada', password: 'demo' });
    runtime.closeServiceClient(authClient);

    const { UserServiceDefinition } = (await import(
      pathToFileURL(join(ws, 'services/user/src/gen/pb/user/v1/user.ts')).href
    )) as Record<string, TsProtoServiceDefinition>;
    const tls = { ca: 'certs/ca.pem', cert: 'certs/auth.pem', key: 'certs/auth.key' };
    const userClient = runtime.createServiceClient(UserServiceDefinition!, {
      target: user.address,
      tls,
    }) as unknown as UserClient;
    const response = await userClient.getUser({ id: 'u1' }, { metadata: runtime.Metadata({ authorization: `Bearer ${token}` }) });
    assert.equal(response.requestedBy, 'ada', 'user asked auth over mTLS');
    runtime.closeServiceClient(userClient);

    const plaintext = runtime.createServiceClient(UserServiceDefinition!, {
      target: user.address,
      retry: false,
    }) as unknown as UserClient;
    await assert.rejects(
      plaintext.getUser({ id: 'u1' }),
      (error: unknown) => error instanceof runtime.ClientError && error.code === runtime.Status.UNAVAILABLE,
    );
    runtime.closeServiceClient(plaintext);
  } finally {
    process.chdir(cwd);
  }
  assert.equal(await user.stop(), 0);
  assert.equal(await auth.stop(), 0);
  const logs = runCli(['logs', '--service', 'auth.v1.AuthService', '--method', 'ValidateToken', '--json'], ws);
  const principals = (JSON.parse(logs.stdout) as { logs: { principal: string | null }[] }).logs.map((log) => log.principal);
  assert.deepEqual(principals, ['mtls:spiffe://platform/user'], 'auth saw user by its certificate');

  // The CA file is parsed at start-up: a wrong file refuses to start, naming the file and what was expected, instead of
  // starting and refusing every client at the handshake.
  const caPath = join(ws, 'certs/ca.pem');
  const caPem = await readFile(caPath, 'utf8');
  const refusals: [string, RegExp][] = [
    ['not a certificate\n', /tls\.ca: \S*certs\/ca\.pem is not a PEM certificate file: expected one or more PEM certificates/],
    [
      caPem.replace(/(-----BEGIN CERTIFICATE-----\n)..../, '$1AAAA'),
      /tls\.ca: \S*certs\/ca\.pem: certificate 1 does not parse .*expected one or more PEM certificates/,
    ],
    [
      await readFile(join(ws, 'certs/user.pem'), 'utf8'),
      /tls\.ca: \S*certs\/ca\.pem: certificate 1 \(.*\) is not a CA certificate/,
    ],
  ];
  for (const [content, message] of refusals) {
    await writeFile(caPath, content);
    const serve = runCli(['serve', 'auth', '--port', '0'], ws);
    assert.equal(serve.code, 2, serve.stderr);
    assert.match(serve.stderr, message);
    assert.doesNotMatch(serve.stderr, /listening on/);
  }
  await writeFile(caPath, caPem);
});
