import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LOGIN, call, devWorkspace, startedPids } from '../helpers/dev.ts';
import { closedWithin, exitedWithin, isAlive, startUnderParent, type UnderParent } from '../helpers/parent.ts';
import { runCli, runProgram } from '../helpers/workspace.ts';

// `grpcforge dev` as `npx grpcforge dev` runs it (a parent with npm_execpath set), edited as editors save: by
// writing a temporary and renaming it over the file (sed -i here), which Node 20 and 22's recursive fs.watch lost
// track of. Then `status` after the restarts, and the parent's death: dev stops and its servers drain.

const RESTARTED = /^auth +\| restarting \(services\/auth\/src\/handlers\/auth\.v1\.AuthService\/login\.ts\)$/m;

describe('grpcforge dev under npm', () => {
  let ws: string;
  let authAddress: string;
  let dev: UnderParent;

  before(async () => {
    ({ ws } = await devWorkspace());
    dev = startUnderParent(['dev', '--debounce', '100', '--no-type-check'], ws);
    authAddress = (await dev.waitFor(/^auth +\| listening on (\S+)$/m))[1]!;
    await dev.waitFor(/^dev +\| watching 2 services: /m);
  });

  after(async () => {
    for (const pid of [await dev.pid, ...startedPids(dev.output())]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  test('a handler saved by write-and-rename (sed -i) restarts its service every time, and so does an append after it', async () => {
    for (const save of ['first', 'second']) {
      const from = dev.output().length;
      const sed = runProgram('sed', ['-i', `s/return { token: [^,]*,/return { token: '${save}-' + session.token,/`, LOGIN], ws);
      assert.equal(sed.code, 0, sed.stderr);
      await dev.waitFor(RESTARTED, from);
      await dev.waitFor(/^auth +\| listening on /m, from);
      const answer = call(ws, authAddress, 'auth.v1.AuthService/Login', { username: 'ada', password: 'demo' });
      assert.equal(answer.code, 0, answer.stderr);
      assert.match(answer.stdout, new RegExp(`"token": "${save}-`));
    }
    const from = dev.output().length;
    await appendFile(join(ws, LOGIN), '// y\n');
    await dev.waitFor(RESTARTED, from);
    await dev.waitFor(/^auth +\| listening on /m, from);
  });

  test('status lists one running instance per service, its restarts folded into it', () => {
    const starts = (service: string) => dev.output().match(new RegExp(`^${service} +\\| started, pid`, 'gm'))?.length ?? 0;
    assert.equal(starts('auth'), 4, dev.output());
    const status = runCli(['status', '--json'], ws);
    assert.equal(status.code, 0, status.stderr);
    const { instances } = JSON.parse(status.stdout) as { instances: { service: string; state: string; restarts: number }[] };
    assert.deepEqual(instances.map(({ service, state, restarts }) => [service, state, restarts]).sort(), [
      ['auth', 'serving', 3],
      ['user', 'serving', 0],
    ]);
  });

  test('when its parent dies, dev stops every server (they drain) and exits', async () => {
    const pids = startedPids(dev.output());
    dev.killParent();
    await closedWithin(dev, 40_000);
    const text = dev.output();
    assert.match(text, /^dev +\| parent exited: stopping every server$/m);
    assert.match(text, /^auth +\| stopped: every call finished$/m);
    assert.match(text, /^user +\| stopped: every call finished$/m);
    for (const pid of [await dev.pid, ...pids]) await exitedWithin(pid, 5000);
  });
});
