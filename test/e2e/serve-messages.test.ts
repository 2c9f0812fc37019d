import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { zeroDefenceCounts } from '../../packages/runtime/src/vocabulary.ts';
import { AUTH, callRecord, registerInstance, storeWorkspace, thisMinute, withStore } from '../helpers/dashboard.ts';
import {
  childEnv,
  linkWorkspace,
  repoRoot,
  runCli,
  publicContracts,
  startServe,
  tempDir,
  writeFiles,
} from '../helpers/workspace.ts';

// What a user sees from serve and the store commands: the port-in-use message, GRPC_TRACE refused (and, when allowed,
// no credential in stderr), plurals, status pruning, `keys create --expires-in 0d`, and stored data printed escaped.

const TRACE_ENV = { GRPC_TRACE: 'server_call', GRPC_VERBOSITY: 'DEBUG' };
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdG9rZW4ifQ.c2lnbmF0dXJlLXNlY3JldA';

/** One SayHello (an empty request) with `metadata`; resolves with the status code. */
function sayHello(address: string, metadata: Record<string, string>): Promise<number> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const meta = new grpc.Metadata();
  for (const [key, value] of Object.entries(metadata)) meta.set(key, value);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/helloworld.Greeter/SayHello',
      (request: Buffer) => request,
      (response: Buffer) => response,
      Buffer.alloc(0),
      meta,
      (error) => {
        client.close();
        resolve(error ? error.code : 0);
      },
    );
  });
}

describe('serve messages', () => {
  let ws: string;
  before(async () => {
    ws = await tempDir();
    await cp(join(publicContracts, 'grpc-node/examples/protos/helloworld.proto'), join(ws, 'proto/helloworld.proto'));
    await cp(join(repoRoot, 'templates/workspace/buf.gen.yaml'), join(ws, 'buf.gen.yaml'));
    await writeFiles(ws, {
      'buf.yaml': 'version: v2\nmodules:\n  - path: proto\n',
      'package.json': '{ "private": true, "type": "module" }\n',
      'grpcforge.yaml': 'version: 1\nservices:\n  greeter:\n    serves: [helloworld.Greeter]\n    listen: 127.0.0.1:0\n',
      'services/greeter/src/handlers/helloworld.Greeter/say-hello.ts':
        "import type { GreeterHandlers } from '../../gen/server/helloworld.Greeter.js';\n\nexport const sayHello: GreeterHandlers['sayHello'] = async () => ({ message: 'hi' });\n",
    });
    await linkWorkspace(ws);
    const generate = runCli(['generate'], ws);
    assert.equal(generate.code, 0, generate.stderr);
  });

  test('a port in use says so, with the hints, and without grpc-js own log line', async () => {
    const server = await startServe(ws, 'greeter');
    try {
      const second = runCli(['serve', 'greeter', '--port', String(server.port)], ws);
      assert.equal(second.code, 2, second.stderr);
      assert.match(second.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${server.port}: the port is already in use`));
      assert.match(second.stderr, /grpcforge status/);
      assert.match(second.stderr, /--port 0/);
      assert.doesNotMatch(second.stderr, /No address added/);
      assert.doesNotMatch(second.stderr, /^E /m);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('GRPC_TRACE that prints metadata is refused unless --allow-grpc-trace, which masks credentials', async () => {
    const refused = runCli(['serve', 'greeter', '--port', '0'], ws, TRACE_ENV);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /GRPC_TRACE=server_call makes grpc-js print every request's metadata/);
    assert.match(refused.stderr, /unset GRPC_TRACE, or pass --allow-grpc-trace/);
    // Tracing that prints nothing (no DEBUG verbosity) is not refused.
    const quiet = await startServe(ws, 'greeter', { GRPC_TRACE: 'server_call' });
    assert.equal(await quiet.stop(), 0);

    const key = runCli(['keys', 'create', '--name', 'tracer'], ws).stdout.trim();
    assert.ok(key.length > 16, 'a key was created');
    const server = await startServe(ws, 'greeter', TRACE_ENV, ['--allow-grpc-trace']);
    assert.equal(await sayHello(server.address, { 'x-api-key': key }), 0);
    assert.equal(await sayHello(server.address, { authorization: `Bearer ${TOKEN}` }), grpc.status.UNAUTHENTICATED);
    assert.equal(await server.stop(), 0);
    const stderr = server.stderr();
    assert.match(stderr, /GRPC_TRACE=server_call: grpc-js tracing allowed by --allow-grpc-trace/);
    assert.match(stderr, /server_call \| Request to \/helloworld\.Greeter\/SayHello received headers/, 'tracing is on');
    assert.match(stderr, /"x-api-key":\["\[masked\]"\]/);
    assert.ok(!stderr.includes(key), 'the API key never reaches stderr');
    assert.ok(!stderr.includes(TOKEN), 'the bearer token never reaches stderr');
    assert.ok(!stderr.includes(TOKEN.split('.')[1]!), 'no part of the token either');
    // Both calls reached the logger.
    assert.match(stderr, /log store: 2 calls written/);
  });

  test('SIGTERM to `npx grpcforge serve` stops the server: no node process left on the port', async () => {
    // npx runs `sh -c grpcforge …`: npm forwards SIGTERM to the shell, which dies without passing it on.
    await mkdir(join(ws, 'node_modules/.bin'), { recursive: true });
    await symlink(join(repoRoot, 'bin/grpcforge'), join(ws, 'node_modules/.bin/grpcforge')).catch(() => undefined);
    const npx = spawn('npx', ['--offline', 'grpcforge', 'serve', 'greeter', '--port', '0'], {
      cwd: ws,
      env: childEnv({}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    npx.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npx grpcforge serve did not listen: ${stderr}`)), 30_000);
      createInterface({ input: npx.stdout }).on('line', (line) => {
        const match = /^listening on (.+)$/.exec(line);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    const status = JSON.parse(runCli(['status', '--json'], ws).stdout) as {
      instances: { address: string; pid: number; state: string; defences: Record<string, number> }[];
    };
    const pid = status.instances.find((instance) => instance.address === address)?.pid;
    assert.ok(pid && pid !== npx.pid, `the server's own pid (${String(pid)}), not npx's`);
    const exited = new Promise<void>((resolve) => npx.once('exit', () => resolve()));
    npx.kill('SIGTERM');
    await exited;
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let waited = 0; alive() && waited < 10_000; waited += 100) await sleep(100);
    assert.equal(alive(), false, 'the node process of serve exited');
    const after = JSON.parse(runCli(['status', '--all', '--json'], ws).stdout) as typeof status;
    const stopped = after.instances.find((instance) => instance.address === address);
    assert.equal(stopped?.state, 'stopped');
    // The defence counters as its last heartbeat stored them: every one, none acted.
    assert.deepEqual(stopped.defences, zeroDefenceCounts());
  });

  test('"1 call written", singular', async () => {
    const one = await startServe(ws, 'greeter');
    await sayHello(one.address, {});
    assert.equal(await one.stop(), 0);
    assert.match(one.stderr(), /log store: 1 call written\b/);
  });
});

describe('store commands print stored data safely', () => {
  const FORGED = 'evil\x1b[31m\r\n2026-01-01T00:00:00Z  fake/Row  OK\u2028\x07';
  let ws: string;
  let requestId: string;
  before(async () => {
    let storeUrl: string;
    ({ ws, storeUrl } = await storeWorkspace());
    const now = thisMinute();
    await withStore(storeUrl, async (store) => {
      const record = callRecord(1, {
        startedAt: now - 60_000,
        service: AUTH,
        method: 'Login',
        statusCode: 13,
        durationMs: 2,
        principal: FORGED,
        errorMessage: FORGED,
      });
      requestId = record.requestId;
      store.logs.record(record);
      await registerInstance(store, 'fresh', { address: '127.0.0.1:1', pid: 11, startedAt: now - 60_000, services: [AUTH] });
      await store.instances.heartbeat('fresh', 'stopped');
      // Gone for three days: no heartbeat since it started.
      await registerInstance(store, 'old', {
        address: `127.0.0.1:2${FORGED}`,
        pid: 22,
        startedAt: now - 3 * 86_400_000,
        services: [AUTH],
      });
    });
  });

  test('logs, stats and status escape control characters; --json stays exact', () => {
    for (const args of [['logs'], ['logs', '--request-id', requestId], ['stats', '--since', '1h'], ['status', '--all']]) {
      const result = runCli(args, ws);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(result.stdout, /[\x00-\x09\x0b-\x1f\x7f\u2028]/, `${args.join(' ')} prints no raw control character`);
      assert.ok(result.stdout.includes('evil\\x1b[31m\\r\\n2026-01-01T00:00:00Z'), `${args.join(' ')} shows the escapes`);
      assert.ok(result.stdout.includes('\\u2028\\x07'), args.join(' '));
      assert.ok(!result.stdout.split('\n').some((line) => line.startsWith('2026-01-01T00:00:00Z  fake/Row')), 'no forged line');
    }
    const json = JSON.parse(runCli(['logs', '--json'], ws).stdout) as { logs: { principal: string; errorMessage: string }[] };
    assert.equal(json.logs[0]!.principal, FORGED);
    assert.equal(json.logs[0]!.errorMessage, FORGED);
  });

  test('status lists running instances only; --all shows the stopped and long unresponsive ones', () => {
    const status = runCli(['status'], ws);
    assert.equal(status.code, 0, status.stderr);
    assert.doesNotMatch(status.stdout, /127\.0\.0\.1:[12]/);
    assert.match(status.stderr, /^no instance is running\n2 stopped instances not shown \(--all lists them\)$/m);
    const all = runCli(['status', '--all', '--json'], ws);
    const ids = (JSON.parse(all.stdout) as { instances: { id: string }[] }).instances.map((instance) => instance.id).sort();
    assert.deepEqual(ids, ['fresh', 'old']);
    const json = JSON.parse(runCli(['status', '--json'], ws).stdout) as { instances: { id: string }[] };
    assert.deepEqual(json.instances, []);
  });

  test('keys create --expires-in 0d is refused; 1d is accepted', () => {
    for (const value of ['0d', '0s', '0ms']) {
      const refused = runCli(['keys', 'create', '--name', `zero-${value}`, '--expires-in', value], ws);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, new RegExp(`--expires-in: "${value}" would create a key that is already expired`));
    }
    const keys = JSON.parse(runCli(['keys', 'list', '--json'], ws).stdout) as { keys: unknown[] };
    assert.equal(keys.keys.length, 0, 'no key was created');
    const created = runCli(['keys', 'create', '--name', 'day', '--expires-in', '1d'], ws);
    assert.equal(created.code, 0, created.stderr);
  });
});
