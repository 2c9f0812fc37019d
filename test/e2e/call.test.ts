import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  childEnv,
  linkWorkspace,
  repoRoot,
  runCli,
  publicContracts,
  startServe,
  tempDir,
  writeFiles,
  type ServeProcess,
} from '../helpers/workspace.ts';

// `grpcforge call`: dynamic invocation through server reflection, all four kinds, JSON in and out.

/** The JSON documents a call printed, one per response message. */
function documents(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split(/\n(?=\{)/)
    .filter(Boolean)
    .map((text) => JSON.parse(text) as Record<string, unknown>);
}

describe('grpcforge call', () => {
  let ws: string;
  let auth: ServeProcess;
  let user: ServeProcess;
  let bearer: string;

  before(async () => {
    ws = join(await tempDir(), 'platform');
    assert.equal(runCli(['init', ws], process.cwd()).code, 0);
    await linkWorkspace(ws);
    assert.equal(runCli(['generate'], ws).code, 0);
    auth = await startServe(ws, 'auth');
    user = await startServe(ws, 'user', { AUTH_ADDR: auth.address });
  });

  test('unary, with the equivalent buf curl command, which buf runs to the same answer', () => {
    const result = runCli(
      ['call', auth.address, 'auth.v1.AuthService/Login', '-d', '{"username":"ada","password":"demo"}', '--print-curl'],
      ws,
    );
    assert.equal(result.code, 0, result.stderr);
    const [login] = documents(result.stdout);
    assert.equal(typeof login?.token, 'string');
    assert.match(String(login?.expireTime), /^\d{4}-\d\d-\d\dT/, 'proto JSON: a Timestamp is an RFC 3339 string');
    bearer = `authorization: Bearer ${String(login?.token)}`;
    assert.match(
      result.stderr,
      /^\$ buf curl --protocol grpc --http2-prior-knowledge -d '\{"username":"ada","password":"demo"\}' http:\/\/127\.0\.0\.1:\d+\/auth\.v1\.AuthService\/Login$/m,
    );
    const curl = /^\$ buf (curl .*)$/m.exec(result.stderr)![1]!;
    const viaBuf = spawnSync('sh', ['-c', `"$BUF" ${curl}`], {
      cwd: ws,
      env: { ...process.env, BUF: join(repoRoot, 'node_modules/.bin/buf') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(viaBuf.status, 0, viaBuf.stderr);
    const [again] = documents(viaBuf.stdout);
    assert.equal(typeof again?.token, 'string', 'buf curl logged in too');
    assert.deepEqual(Object.keys(again ?? {}).sort(), Object.keys(login ?? {}).sort());
  });

  test('server-streaming, client-streaming from stdin JSON lines, and bidi from a JSON array, with metadata', () => {
    const listed = runCli(['call', user.address, 'user.v1.UserService/ListUsers', '-H', bearer], ws);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      documents(listed.stdout).map((response) => (response.user as { id: string }).id),
      ['u1', 'u2'],
    );

    const lines = '{"user":{"id":"u7","displayName":"Radia"}}\n{"user":{"id":"u8","displayName":"Barbara"}}\n';
    const imported = runCli(['call', user.address, 'user.v1.UserService/ImportUsers', '-H', bearer, '-d', '-'], ws, {}, lines);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(documents(imported.stdout), [{ createdCount: 2 }]);

    const synced = runCli(
      ['call', user.address, 'user.v1.UserService/SyncUsers', '-H', bearer, '-d', '[{"id":"u7"},{"id":"nobody"}]'],
      ws,
    );
    assert.equal(synced.code, 0, synced.stderr);
    assert.deepEqual(documents(synced.stdout), [{ user: { id: 'u7', displayName: 'Radia' }, found: true }, {}]);
  });

  test('bidi from stdin is interactive: each message is sent when complete, each response printed as it arrives', async (t) => {
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin/grpcforge'),
        'call',
        user.address,
        'user.v1.UserService/SyncUsers',
        '-H',
        bearer,
        '-d',
        '-',
        '--print-curl',
      ],
      { cwd: ws, env: childEnv({}), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    /** Waits (at most 30 s) until stdout holds `count` whole JSON documents. */
    const responses = async (count: number) => {
      const deadline = Date.now() + 30_000;
      while (documentsSoFar() < count) {
        assert.ok(Date.now() < deadline, `no response ${count} within 30 s; stdout: ${stdout}; stderr: ${stderr}`);
        assert.equal(child.exitCode, null, `the call ended early; stderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return documents(stdout);
    };
    const documentsSoFar = () => stdout.split('\n').filter((line) => line === '}' || line === '{}').length;
    // The first message, without a newline after it: its closing brace completes it.
    child.stdin.write('{"id": "u1"}');
    const [first] = await responses(1);
    assert.deepEqual([(first?.user as { displayName: string }).displayName, first?.found], ['Ada Lovelace', true]);
    // The second, pretty-printed across writes: sent only once whole.
    child.stdin.write('\n{\n  "id":');
    child.stdin.write(' "nobody"\n}\n');
    assert.deepEqual((await responses(2))[1], {});
    child.stdin.end();
    assert.equal(await exited, 0, stderr);
    assert.equal(documents(stdout).length, 2);
    assert.match(stderr, /^\$ buf curl .* -d @- http:\/\/127\.0\.0\.1:\d+\/user\.v1\.UserService\/SyncUsers$/m);

    // Values back to back, as grpcurl takes them; a value that is not JSON stops the call when it is reached.
    const together = runCli(
      ['call', user.address, 'user.v1.UserService/SyncUsers', '-H', bearer, '-d', '-'],
      ws,
      {},
      '{"id":"u1"}{"id":"u2"}',
    );
    assert.equal(together.code, 0, together.stderr);
    assert.deepEqual(
      documents(together.stdout).map((response) => (response.user as { id: string }).id),
      ['u1', 'u2'],
    );
    const broken = runCli(
      ['call', user.address, 'user.v1.UserService/SyncUsers', '-H', bearer, '-d', '-'],
      ws,
      {},
      '{"id":"u1"}\n{"id":}\n',
    );
    assert.equal(broken.code, 2, broken.stderr);
    assert.match(broken.stderr, /-d: message 2 is not JSON/);
  });

  test('a streaming call the server ends first (no credentials) exits with its status while stdin stays open', async (t) => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bin/grpcforge'), 'call', user.address, 'user.v1.UserService/SyncUsers', '-d', '-'],
      { cwd: ws, env: childEnv({}), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.write('{"id": "u1"}\n'); // and never ended
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still running after 30 s'), 30_000).unref());
    assert.equal(await Promise.race([exited, timeout]), 64 + 16, stderr);
    assert.match(stderr, /ERROR: UNAUTHENTICATED: no credentials/);
  });

  test('errors print the status code name and exit 64 + the code; bad input exits 2', () => {
    const missing = runCli(['call', user.address, 'user.v1.UserService/GetUser', '-H', bearer, '-d', '{"id":"u404"}'], ws);
    assert.equal(missing.code, 64 + 5, 'NOT_FOUND is 5');
    assert.equal(missing.stderr.trim(), 'ERROR: NOT_FOUND: user "u404" not found');
    const badField = runCli(['call', user.address, 'user.v1.UserService/GetUser', '-d', '{"identifier":"u1"}'], ws);
    assert.equal(badField.code, 2);
    assert.match(badField.stderr, /request 1 does not fit user\.v1\.GetUserRequest: .*key "identifier" is unknown/);
    const typo = runCli(['call', user.address, 'user.v1.UserService/GetUsr'], ws);
    assert.equal(typo.code, 2);
    assert.equal(
      typo.stderr.trim(),
      'grpcforge: user.v1.UserService has no method "GetUsr" (did you mean "user.v1.UserService/GetUser"?)',
    );
  });

  test('--list shows services and methods with their kinds', () => {
    const result = runCli(['call', user.address, '--list'], ws);
    assert.equal(result.code, 0, result.stderr);
    // Health and reflection are listed too (test/e2e/call-names.test.ts).
    assert.deepEqual(
      result.stdout
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('user.')),
      [
        'user.v1.UserService/GetUser  (unary: user.v1.GetUserRequest -> user.v1.GetUserResponse)',
        'user.v1.UserService/ListUsers  (server-streaming: user.v1.ListUsersRequest -> user.v1.ListUsersResponse)',
        'user.v1.UserService/ImportUsers  (client-streaming: user.v1.ImportUsersRequest -> user.v1.ImportUsersResponse)',
        'user.v1.UserService/SyncUsers  (bidi-streaming: user.v1.SyncUsersRequest -> user.v1.SyncUsersResponse)',
      ],
    );
  });

  test('a server from the public contracts, and the workspace contracts when reflection is off', async () => {
    const dir = await tempDir();
    await cp(join(publicContracts, 'grpc-node/examples/protos/route_guide.proto'), join(dir, 'proto/route_guide.proto'));
    await cp(join(repoRoot, 'templates/workspace/buf.gen.yaml'), join(dir, 'buf.gen.yaml'));
    await writeFiles(dir, {
      'buf.yaml': 'version: v2\nmodules:\n  - path: proto\n',
      'package.json': '{ "private": true, "type": "module" }\n',
      'grpcforge.yaml':
        'version: 1\nservices:\n  guide:\n    serves: [routeguide.RouteGuide]\n    listen: 127.0.0.1:0\nauth:\n  default: public\n',
      // A slow handler, for --deadline.
      'services/guide/src/handlers/routeguide.RouteGuide/list-features.ts':
        "import type { RouteGuideHandlers } from '../../gen/server/routeguide.RouteGuide.js';\n\n" +
        "export const listFeatures: RouteGuideHandlers['listFeatures'] = async function* (_request, context) {\n" +
        "  await new Promise((resolve) => setTimeout(resolve, 5000));\n  if (!context.signal.aborted) yield { name: 'late' };\n};\n",
    });
    await linkWorkspace(dir);
    assert.equal(runCli(['generate'], dir).code, 0);
    const guide = await startServe(dir, 'guide');
    const chat = runCli(['call', guide.address, 'routeguide.RouteGuide/RouteChat', '-d', '[{"message":"hi"}]'], dir);
    assert.equal(chat.code, 64 + 12, 'UNIMPLEMENTED is 12');
    assert.equal(chat.stderr.trim(), 'ERROR: UNIMPLEMENTED: /routeguide.RouteGuide/RouteChat is not implemented yet');
    const late = runCli(['call', guide.address, 'routeguide.RouteGuide/ListFeatures', '--deadline', '200'], dir);
    assert.equal(late.code, 64 + 4, 'DEADLINE_EXCEEDED is 4');
    assert.equal(late.stderr.trim(), 'ERROR: DEADLINE_EXCEEDED: Deadline exceeded');
    const badDeadline = runCli(['call', guide.address, 'routeguide.RouteGuide/ListFeatures', '--deadline', 'soon'], dir);
    assert.equal(badDeadline.code, 2);
    assert.match(badDeadline.stderr, /--deadline: expected a whole number ≥ 1, got "soon"/);
    await guide.stop();

    const configPath = join(dir, 'grpcforge.yaml');
    await writeFile(configPath, `${await readFile(configPath, 'utf8')}server:\n  reflection: false\n`);
    const dark = await startServe(dir, 'guide');
    const feature = runCli(
      ['call', dark.address, 'routeguide.RouteGuide/GetFeature', '-d', '{"latitude":1}', '--print-curl'],
      dir,
    );
    assert.equal(feature.code, 64 + 12);
    assert.match(
      feature.stderr,
      /the server has no reflection: using the contracts of the workspace here\n\$ buf curl --protocol grpc --http2-prior-knowledge --schema \. -d '\{"latitude":1\}' http:\/\/127\.0\.0\.1:\d+\/routeguide\.RouteGuide\/GetFeature\nERROR: UNIMPLEMENTED: \/routeguide\.RouteGuide\/GetFeature is not implemented yet/,
    );
    const curl = /^\$ buf (curl .*)$/m.exec(feature.stderr)![1]!;
    const viaBuf = spawnSync('sh', ['-c', `"$BUF" ${curl}`], {
      cwd: dir,
      env: { ...process.env, BUF: join(repoRoot, 'node_modules/.bin/buf') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.match(viaBuf.stderr, /unimplemented/i, 'buf curl found the method in the schema and called it');
    await dark.stop();
  });
});
