import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { LOGIN, call, devWorkspace, startedPids } from '../helpers/dev.ts';
import { isAlive } from '../helpers/parent.ts';
import { childEnv, repoRoot } from '../helpers/workspace.ts';

// `grpcforge dev`: the example workspace on free ports, edited while dev runs; real servers answer real calls.
// dev-under-npm.test.ts: editors' atomic saves, status after restarts and dev's end with its parent.

const AUTH_PROTO = 'proto/auth/v1/auth.proto';

describe('grpcforge dev', () => {
  let ws: string;
  let dev: ChildProcess;
  let authAddress: string;
  let userAddress: string;
  let output = '';
  const waiters: { pattern: RegExp; from: number; resolve: (match: RegExpMatchArray) => void }[] = [];

  /** Waits for a line of dev's output matching `pattern`, printed after offset `from`. */
  const waitFor = (pattern: RegExp, from: number, ms = 30_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const found = output.slice(from).match(pattern);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no ${String(pattern)} in ${ms} ms:\n${output.slice(from)}`)), ms);
      waiters.push({
        pattern,
        from,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
      });
    });
  const pidsOf = (): number[] => startedPids(output);

  before(async () => {
    const created = await devWorkspace();
    ws = created.ws;
    dev = spawn(process.execPath, [join(repoRoot, 'bin/grpcforge'), 'dev', '--debounce', '100'], {
      cwd: ws,
      env: childEnv({}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onLine = (line: string) => {
      output += `${line}\n`;
      for (const waiter of [...waiters]) {
        const match = output.slice(waiter.from).match(waiter.pattern);
        if (match) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match);
        }
      }
    };
    createInterface({ input: dev.stdout! }).on('line', onLine);
    createInterface({ input: dev.stderr! }).on('line', onLine);
    authAddress = (await waitFor(/^auth +\| listening on (\S+)$/m, 0, 60_000))[1]!;
    userAddress = (await waitFor(/^user +\| listening on (\S+)$/m, 0, 60_000))[1]!;
    assert.equal(authAddress, `127.0.0.1:${created.authPort}`);
    assert.equal(userAddress, `127.0.0.1:${created.userPort}`);
  });

  after(() => {
    if (dev.exitCode === null) dev.kill('SIGKILL');
    for (const pid of pidsOf()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  test('a service that only consumes gets one line and no process', () => {
    assert.equal(
      output.match(/^audit +\| serves nothing: no process for it \(it only consumes auth\.v1\.AuthService\)$/gm)?.length,
      1,
      output,
    );
    assert.doesNotMatch(output, /^audit +\| (started|restarting)/m);
  });

  test('editing a handler restarts its service with the new answer, and reports its type errors', async () => {
    const before = call(ws, authAddress, 'auth.v1.AuthService/Login', { username: 'ada', password: 'demo' });
    assert.equal(before.code, 0, before.stderr);
    const source = await readFile(join(ws, LOGIN), 'utf8');
    const from = output.length;
    await writeFile(
      join(ws, LOGIN),
      source.replace('return { token: session.token', "const typo: number = 'not a number';\n  return { token: `edited-${typo}`"),
    );
    await waitFor(/^auth +\| restarting \(services\/auth\/src\/handlers\/auth\.v1\.AuthService\/login\.ts\)$/m, from);
    await waitFor(/^auth +\| listening on /m, from);
    const after = call(ws, authAddress, 'auth.v1.AuthService/Login', { username: 'ada', password: 'demo' });
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /"token": "edited-not a number"/);
    await waitFor(
      /^auth +\| services\/auth\/src\/handlers\/auth\.v1\.AuthService\/login\.ts:\d+:\d+: error TS2322: /m,
      from,
      60_000,
    );
    assert.doesNotMatch(output.slice(from), /^user +\| restarting/m, 'a handler change restarts only its service');
  });

  test('a syntax error in a handler is reported and the previous server keeps answering', async () => {
    const pid = pidsOf().at(-1)!;
    const from = output.length;
    await writeFile(join(ws, LOGIN), `${await readFile(join(ws, LOGIN), 'utf8')}\nexport const broken = {;\n`);
    await waitFor(/^auth +\| the new build does not load: the running server keeps answering$/m, from);
    assert.match(output.slice(from), /login\.ts:\d+:\d+: ERROR: /);
    assert.ok(isAlive(pid));
    const answer = call(ws, authAddress, 'auth.v1.AuthService/Login', { username: 'ada', password: 'demo' });
    assert.equal(answer.code, 0, answer.stderr);
    assert.match(answer.stdout, /"token": "edited-/);
    // Fixed again: restarts.
    const fixed = output.length;
    await writeFile(join(ws, LOGIN), (await readFile(join(ws, LOGIN), 'utf8')).replace('export const broken = {;\n', ''));
    await waitFor(/^auth +\| listening on /m, fixed);
  });

  test('a new RPC gets its handler file and the restarted server answers it UNIMPLEMENTED', async () => {
    const proto = await readFile(join(ws, AUTH_PROTO), 'utf8');
    const from = output.length;
    await writeFile(
      join(ws, AUTH_PROTO),
      proto
        .replace(
          'service AuthService {',
          'service AuthService {\n  // Ping answers.\n  rpc Ping(PingRequest) returns (PingResponse);\n',
        )
        .concat('\nmessage PingRequest {}\n\nmessage PingResponse {}\n'),
    );
    await waitFor(/^auth +\| created services\/auth\/src\/handlers\/auth\.v1\.AuthService\/ping\.ts$/m, from);
    assert.ok(existsSync(join(ws, 'services/auth/src/handlers/auth.v1.AuthService/ping.ts')));
    await waitFor(/^auth +\| listening on /m, from);
    await waitFor(/^user +\| listening on /m, from);
    const ping = call(ws, authAddress, 'auth.v1.AuthService/Ping', {});
    assert.notEqual(ping.code, 0, ping.stdout);
    assert.match(ping.stderr, /UNIMPLEMENTED/);
  });

  test('a syntax error in the contract is reported with file:line:col and the servers keep answering', async () => {
    const pids = pidsOf().slice(-2);
    const from = output.length;
    const proto = await readFile(join(ws, AUTH_PROTO), 'utf8');
    await writeFile(join(ws, AUTH_PROTO), proto.replace('message PingRequest {}', 'message PingRequest {'));
    await waitFor(/^dev +\| build failed: the servers keep running the last good build$/m, from);
    assert.match(output.slice(from), /proto\/auth\/v1\/auth\.proto:\d+:\d+: /);
    for (const pid of pids) assert.ok(isAlive(pid), `${pid} ended:\n${output.slice(from)}`);
    const ping = call(ws, authAddress, 'auth.v1.AuthService/Ping', {});
    assert.match(ping.stderr, /UNIMPLEMENTED/);
  });

  test('SIGINT stops every server and leaves no process behind', async () => {
    const pids = pidsOf();
    assert.ok(pids.length >= 3);
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
    dev.kill('SIGINT');
    assert.equal(await exited, 0, output.slice(-2000));
    assert.deepEqual(
      pids.filter((pid) => isAlive(pid)),
      [],
    );
    assert.match(output, /^auth +\| stopped: every call finished$/m);
  });
});
