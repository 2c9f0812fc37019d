import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startDashboardProcess, type DashboardProcess } from '../helpers/dashboard.ts';
import { postgresAvailable, startTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { linkWorkspace, runCli, startServe, tempDir, type ServeProcess } from '../helpers/workspace.ts';

// The example workspace on one PostgreSQL store (logStore.url from the environment): two replicas of auth and one
// user service write to it; stats, status and the dashboard see all three. Runs when PostgreSQL is available (CI
// installs it); otherwise it says so and runs nothing.

if (!postgresAvailable()) {
  process.stdout.write('# PostgreSQL: not installed and GRPCFORGE_TEST_PG_URL unset: the replica test does not run\n');
} else {
  let postgres: TestPostgres;
  let ws: string;
  let env: NodeJS.ProcessEnv;
  const servers: ServeProcess[] = [];
  let dashboard: DashboardProcess | undefined;

  describe('the example workspace with its log store on PostgreSQL, two replicas of auth', { timeout: 180_000 }, () => {
    before(async () => {
      postgres = await startTestPostgres();
      env = { GRPCFORGE_STORE_URL: await postgres.createDatabase('replicas') };
      ws = await tempDir();
      assert.equal(runCli(['init', ws], process.cwd()).code, 0);
      await linkWorkspace(ws);
      const config = join(ws, 'grpcforge.yaml');
      const written = await readFile(config, 'utf8');
      await writeFile(config, written.replace('url: sqlite:.grpcforge/grpcforge.db', 'url: ${GRPCFORGE_STORE_URL}'));
      assert.equal(runCli(['generate'], ws).code, 0);
      // The two replicas start at once: the migrations run once (kysely's migration lock), both register.
      servers.push(...(await Promise.all([startServe(ws, 'auth', env), startServe(ws, 'auth', env)])));
      const [first] = servers;
      assert.ok(first);
      servers.push(await startServe(ws, 'user', { ...env, AUTH_ADDR: first.address }));
    });
    after(async () => {
      dashboard?.stop();
      await Promise.all(servers.map((server) => server.stop()));
      await postgres.stop();
    });

    test('calls to both replicas are counted by stats; status lists every instance', async () => {
      const [a, b, user] = servers;
      assert.ok(a && b && user);
      const login = (server: ServeProcess, password: string) =>
        runCli(
          ['call', server.address, 'auth.v1.AuthService/Login', '-d', JSON.stringify({ username: 'ada', password })],
          ws,
          env,
        );
      for (let index = 0; index < 3; index++) assert.equal(login(a, 'demo').code, 0);
      assert.equal(login(b, 'demo').code, 0);
      assert.equal(login(b, 'wrong').code, 64 + 16); // UNAUTHENTICATED (exit 64 + code), recorded too
      const refused = runCli(['call', user.address, 'user.v1.UserService/GetUser', '-d', '{"id":"u1"}'], ws, env);
      assert.match(refused.stderr, /UNAUTHENTICATED/);

      interface Stats {
        totals: { calls: number; errors: number };
        methods: { service: string; method: string; calls: number }[];
      }
      let stats: Stats | undefined;
      // Rows reach the store within the writer's batch interval (100 ms): poll a few seconds at most.
      for (let waited = 0; waited < 10_000; waited += 250) {
        const result = runCli(['stats', '--json', '--since', '1h'], ws, env);
        assert.equal(result.code, 0, result.stderr);
        stats = JSON.parse(result.stdout) as Stats;
        if (stats.totals.calls >= 6) break;
        await sleep(250);
      }
      assert.deepEqual([stats?.totals.calls, stats?.totals.errors], [6, 2]);
      assert.equal(stats?.methods.find((method) => method.method === 'Login')?.calls, 5);

      const status = runCli(['status', '--json'], ws, env);
      assert.equal(status.code, 0, status.stderr);
      const { instances } = JSON.parse(status.stdout) as {
        instances: { service: string; pid: number; state: string; address: string }[];
      };
      const serving = instances.filter((instance) => instance.state === 'serving');
      assert.deepEqual(serving.map((instance) => instance.service).sort(), ['auth', 'auth', 'user']);
      assert.deepEqual(new Set(serving.map((instance) => instance.pid)), new Set(servers.map((server) => server.pid)));
    });

    test('the dashboard on the same store shows the calls of both replicas', async () => {
      dashboard = await startDashboardProcess(ws, ['--since', '1h'], env);
      const get = async <T>(path: string) => {
        const response = await fetch(`${dashboard?.base ?? ''}${path}`, {
          headers: { authorization: `Bearer ${dashboard?.token ?? ''}` },
          signal: AbortSignal.timeout(10_000),
        });
        assert.equal(response.status, 200, path);
        return (await response.json()) as T;
      };
      const overview = await get<{ totals: { calls: number }; services: { service: string; calls: number }[] }>(
        '/api/v1/overview?window=1h',
      );
      assert.equal(overview.totals.calls, 6);
      assert.equal(overview.services.find((service) => service.service === 'auth.v1.AuthService')?.calls, 5);
      const { instances } = await get<{ instances: unknown[] }>('/api/v1/instances');
      assert.equal(instances.length, 3);
    });

    test('no password or URL secret of the store reaches the output of a failed open', () => {
      const result = runCli(['stats'], ws, { GRPCFORGE_STORE_URL: 'postgres://grpcforge:hunter2@127.0.0.1:1/none' });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /cannot open the log store \$\{GRPCFORGE_STORE_URL\}/);
      assert.doesNotMatch(result.stderr, /hunter2/);
    });
  });
}
