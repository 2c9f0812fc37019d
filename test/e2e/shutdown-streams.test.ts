import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { bufPath, childEnv, linkWorkspace, runCli, startServe, tempDir, type ServeProcess } from '../helpers/workspace.ts';

// The example's request-streaming handlers wait in `for await (const request of requests)` and never look at their
// signal. SIGTERM to `grpcforge serve` still ends such a call with UNAVAILABLE, without waiting for the drain's end,
// and `buf curl` (a Go client, with its request stream still open) reads the status the server sent: UNAVAILABLE with
// "the server is shutting down", not a broken stream; the stored row says UNAVAILABLE.

/** A `buf curl` call whose stdin the test holds open after the first request. */
interface BufCall {
  /** Resolves once buf printed the first response (or, for client-streaming, sent the request). */
  readonly started: Promise<void>;
  /** Ends buf's stdin, then resolves with its exit code and output. */
  end(): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Stops buf if it still runs (after a failed assertion). */
  kill(): void;
}

function bufCurl(ws: string, address: string, path: string, bearer: string, request: string): BufCall {
  const child = spawn(
    bufPath,
    ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '-H', bearer, '-d', '@-', `http://${address}/${path}`],
    { cwd: ws, env: childEnv({}), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const started = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      resolve();
    });
  });
  child.stdin.write(`${request}\n`);
  return {
    started,
    async end() {
      child.stdin.end();
      return { code: await exited, stdout, stderr };
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

describe('SIGTERM ends the example calls that wait on their request stream', { timeout: 120_000 }, () => {
  let ws: string;
  let auth: ServeProcess;
  let bearer: string;

  before(async () => {
    ws = join(await tempDir(), 'platform');
    assert.equal(runCli(['init', ws], process.cwd()).code, 0);
    await linkWorkspace(ws);
    const generate = runCli(['generate'], ws);
    assert.equal(generate.code, 0, generate.stderr);
    auth = await startServe(ws, 'auth');
    const login = runCli(['call', auth.address, 'auth.v1.AuthService/Login', '-d', '{"username":"ada","password":"demo"}'], ws);
    assert.equal(login.code, 0, login.stderr);
    bearer = `authorization: Bearer ${(JSON.parse(login.stdout) as { token: string }).token}`;
  });

  const cases = [
    { method: 'SyncUsers', kind: 'bidi', request: '{"id":"u1"}' },
    { method: 'ImportUsers', kind: 'client-streaming', request: '{"user":{"id":"u9","displayName":"Nine"}}' },
  ] as const;

  for (const { method, kind, request } of cases) {
    test(`${method} (${kind}): buf curl gets UNAVAILABLE, serve drains without cancelling, the row says UNAVAILABLE`, async () => {
      const user = await startServe(ws, 'user', { AUTH_ADDR: auth.address });
      const call = bufCurl(ws, user.address, `user.v1.UserService/${method}`, bearer, request);
      try {
        if (method === 'SyncUsers') await call.started;
        else await waitForImport(ws, user, bearer);
        assert.equal(await user.stop(), 0, user.stderr());
        // Forced, it would say "calls still running were cancelled" after the whole drain time (10 s).
        assert.match(user.stderr(), /stopped: every call finished/);
        // buf reports the status once its input ends, as it would when the user ends it.
        const result = await call.end();
        assert.equal(result.code, 14 * 8, `buf exits with 8 × the status code: ${result.stderr}`);
        assert.deepEqual(JSON.parse(result.stderr), { code: 'unavailable', message: 'the server is shutting down' });
      } finally {
        call.kill();
      }
      const logs = runCli(['logs', '--json', '--method', method, '--limit', '1'], ws);
      assert.equal(logs.code, 0, logs.stderr);
      const [row] = (JSON.parse(logs.stdout) as { logs: { statusCode: number; errorMessage: string | null }[] }).logs;
      assert.deepEqual([row?.statusCode, row?.errorMessage], [14, 'the server is shutting down'], user.stderr());
    });
  }
});

/** Waits until ImportUsers saved its one request (GetUser finds u9): a client-streaming call prints nothing before. */
async function waitForImport(ws: string, user: ServeProcess, bearer: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = runCli(['call', user.address, 'user.v1.UserService/GetUser', '-H', bearer, '-d', '{"id":"u9"}'], ws);
    if (found.code === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail('ImportUsers did not save its request');
}
