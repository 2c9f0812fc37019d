import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defineService, startServer, type RunningServer } from '../../packages/runtime/src/index.ts';
import { buildDescriptorSet } from '../../src/contract/buf.ts';
import { UserServiceDefinition } from '../../fixtures/codegen/example/expected/services/user/src/gen/pb/user/v1/user.ts';
import { childEnv, repoRoot, tempDir } from '../helpers/workspace.ts';

const example = join(repoRoot, 'fixtures/codegen/example');

/** `grpcforge call` in a child process, asynchronously: the server it calls runs in this process. */
function call(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin/grpcforge'), 'call', ...args],
      { env: childEnv(env), encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

// Credentials for `grpcforge call` that never appear on its command line (where `ps` shows them): from a header file
// (`-H @file`, as buf curl reads one) or from the environment (`${VAR}` in a header value).
describe('grpcforge call: headers from a file and from the environment', () => {
  let server: RunningServer;
  let dir: string;
  let getUser: string[];

  before(async () => {
    dir = await tempDir();
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      descriptorSet: await buildDescriptorSet(join(example, 'proto'), example),
      services: [
        defineService(UserServiceDefinition, {
          // Echoes the metadata the call carried, so the test sees what reached the server.
          getUser: async (request, context) => ({
            user: { id: request.id },
            requestedBy: [...context.metadata]
              .filter(([name]) => name === 'authorization' || name.startsWith('x-'))
              .map(([name, value]) => `${name}=${String(value)}`)
              .join(' '),
          }),
          listUsers: async function* () {},
          importUsers: async () => ({ createdCount: 0 }),
          syncUsers: async function* () {},
        }),
      ],
    });
    getUser = [server.address, 'user.v1.UserService/GetUser', '-d', '{"id":"u1"}'];
  });

  after(() => server.shutdown(1000));

  test('-H @file sends each "name: value" line, skipping blank lines and # comments; ${VAR} reads the environment', async () => {
    const file = join(dir, 'headers.txt');
    await writeFile(
      file,
      '# the session of ada\nAuthorization: Bearer ${TOKEN}\n\n  x-tenant:  acme  \r\nx-fallback: ${UNSET:-none}\n',
    );
    await chmod(file, 0o600);
    const result = await call([...getUser, '-H', `@${file}`, '-H', 'x-inline: ${TENANT}', '--print-curl'], {
      TOKEN: 's3cret',
      TENANT: 'beta',
    });
    assert.equal(result.code, 0, result.stderr);
    const response = JSON.parse(result.stdout) as { requestedBy: string };
    assert.equal(response.requestedBy, 'authorization=Bearer s3cret x-tenant=acme x-fallback=none x-inline=beta');
    // The equivalent buf curl command keeps the reference for the shell to expand, and never prints the secret.
    assert.ok(result.stderr.includes(`-H @${file} -H 'x-inline: '"\${TENANT}"`), result.stderr);
    assert.doesNotMatch(result.stderr, /s3cret/);
  });

  test('a missing file, a malformed line (file:line, the line not quoted), an unset variable: exit 2 with a clear message', async () => {
    const missing = await call([...getUser, '-H', `@${join(dir, 'nope.txt')}`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /-H @.*nope\.txt: cannot read .*nope\.txt: ENOENT/);

    const file = join(dir, 'bad.txt');
    await writeFile(file, 'authorization: Bearer x\nraw-token-without-a-colon\n');
    const malformed = await call([...getUser, '-H', `@${file}`]);
    assert.equal(malformed.code, 2);
    assert.equal(malformed.stderr.trim(), `grpcforge: ${file}:2: expected name: value`);

    const unset = await call([...getUser, '-H', 'authorization: Bearer ${NO_SUCH_TOKEN}']);
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /-H: header "authorization" reads \$\{NO_SUCH_TOKEN\}, which is not set in the environment/);

    const badName = await call([...getUser, '-H', 'x tenant: acme']);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /-H: "x tenant" is not a gRPC metadata name/);
  });
});
