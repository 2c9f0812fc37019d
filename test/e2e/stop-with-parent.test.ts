import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { storeWorkspace } from '../helpers/dashboard.ts';
import { closedWithin, exitedWithin, isAlive, startUnderParent, type UnderParent } from '../helpers/parent.ts';

// `npx grpcforge dashboard`: npm's shell can die of a SIGTERM without passing it on. The dashboard, under npm, stops
// when its parent is gone, as serve and dev do (grpcforge dev's own test covers dev).

const started: UnderParent[] = [];
after(async () => {
  for (const command of started) {
    const pid = await command.pid;
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test('the dashboard under npm stops when its parent dies', async () => {
  const { ws } = await storeWorkspace();
  const dashboard = startUnderParent(['dashboard', '--port', '0'], ws);
  started.push(dashboard);
  const [, base] = (await dashboard.waitFor(/^dashboard on (http:\/\/[^/]+)\//m)) as [string, string];
  dashboard.killParent();
  await closedWithin(dashboard, 15_000);
  assert.match(dashboard.output(), /^dashboard: parent exited: stopping$/m);
  await exitedWithin(await dashboard.pid, 5000);
  await assert.rejects(fetch(base, { signal: AbortSignal.timeout(5000) }), 'the port is closed');
});
