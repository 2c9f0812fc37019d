import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import {
  npm,
  npmChildEnv,
  packPackages,
  repoRoot,
  runProgram,
  startBuilt,
  tempDir,
  type ServeProcess,
} from '../helpers/workspace.ts';
import type * as RuntimeModule from '../../packages/runtime/src/index.ts';
import type { AuthClientModule, UserClient, UserPbModule } from './example-types.ts';

// The production layout without containers, as the Dockerfiles `grpcforge deploy` writes lay it out: both packages
// packed (`npm pack`), a workspace installed from the tarballs, generated and built; then, per service, a folder like
// the image's /app (package.json, package-lock.json, that service's dist/) where `npm ci --omit=dev` installs the
// production dependencies from the tarball and the registry, and the service starts with plain `node dist/main.js`
// under the environment compose.yaml gives it (the provider's Compose DNS name mapped to 127.0.0.1, free ports). The
// example's cross-service call (Login on auth, GetUser on user, which asks auth's ValidateToken) goes through them.
//
// The two production installs compile better-sqlite3 from source (.prebuild-installrc, as this repository does), in
// parallel; the workspace's own install skips install scripts (generate and build need none).

const isWindows = process.platform === 'win32';
const npx = isWindows ? 'npx.cmd' : 'npx';
const SERVICES = ['auth', 'user'] as const;
type ServiceName = (typeof SERVICES)[number];
type Runtime = typeof RuntimeModule;

let tmp: string;
let ws: string;
const prod = {} as Record<ServiceName, string>;

/** Runs a command to completion in the background (installs run in parallel), bounded by `timeoutMs`. */
function runAsync(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: npmChildEnv(env), stdio: ['ignore', 'pipe', 'pipe'], shell: isWindows });
    let output = `$ ${command} ${args.join(' ')} (in ${cwd})\n`;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function ok(result: { code: number | null; stdout?: string; stderr?: string; output?: string }): void {
  assert.equal(result.code, 0, result.output ?? `${result.stdout ?? ''}${result.stderr ?? ''}`);
}

/** The environment compose.yaml gives a service (its `environment:` map or list). */
function composeEnvironment(
  compose: { services: Record<string, { environment?: unknown }> },
  name: string,
): Record<string, string> {
  const environment = compose.services[name]?.environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      (environment as string[]).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );
  }
  return Object.fromEntries(Object.entries(environment as Record<string, unknown>).map(([key, value]) => [key, String(value)]));
}

/** The image's `ENV` line of a Dockerfile `deploy` wrote (the run stage's: the last one). */
function dockerfileEnvironment(dockerfile: string): Record<string, string> {
  const lines = dockerfile.split('\n').filter((line) => line.startsWith('ENV '));
  const last = lines.at(-1)?.slice('ENV '.length) ?? '';
  return Object.fromEntries(
    last
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
}

describe(
  'the production layout, without containers: npm ci --omit=dev from packed tarballs, node dist/main.js',
  { timeout: 420_000 },
  () => {
    before(
      async () => {
        tmp = await tempDir('grpcforge-production-');
        const { cli } = packPackages(tmp);
        const init = runProgram(
          process.execPath,
          [join(repoRoot, 'bin/grpcforge'), 'init', 'platform', '--grpcforge-spec', `file:./${cli}`],
          tmp,
        );
        ok(init);
        ws = join(tmp, 'platform');
        copyFileSync(join(repoRoot, '.prebuild-installrc'), join(ws, '.prebuild-installrc'));
        ok(await runAsync(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund'], ws, 150_000));
        for (const step of [['generate'], ['build'], ['deploy', 'compose']]) {
          ok(await runAsync(npx, ['grpcforge', ...step], ws, 120_000));
        }
        // Each service's /app: what its Dockerfile copies, then the production install.
        for (const name of SERVICES) {
          prod[name] = join(tmp, `app-${name}`);
          mkdirSync(join(prod[name], 'services', name), { recursive: true });
          for (const file of ['package.json', 'package-lock.json', '.prebuild-installrc'])
            copyFileSync(join(ws, file), join(prod[name], file));
          cpSync(join(ws, 'services', name, 'dist'), join(prod[name], 'services', name, 'dist'), { recursive: true });
        }
        // better-sqlite3 compiles for the Node that runs this test (CI runs it on 20, 22 and 24): that Node's headers,
        // over a machine-wide `nodedir` in an npmrc that names another Node's.
        const headers = join(dirname(dirname(process.execPath)), 'include', 'node');
        const nodedir = existsSync(join(headers, 'node.h')) ? { npm_config_nodedir: dirname(dirname(headers)) } : {};
        const installs = await Promise.all(
          SERVICES.map((name) => runAsync(npm, ['ci', '--omit=dev', '--no-audit', '--no-fund'], prod[name], 300_000, nodedir)),
        );
        for (const install of installs) ok(install);
        // compose.yaml mounts one volume at /app/.grpcforge in every service: one SQLite store for both.
        mkdirSync(join(prod.auth, '.grpcforge'));
        symlinkSync(join(prod.auth, '.grpcforge'), join(prod.user, '.grpcforge'), 'dir');
      },
      { timeout: 420_000 },
    );

    test('the production install holds the runtime, not the CLI: no grpcforge, buf, TypeScript, tsx, zod or yaml', () => {
      for (const name of SERVICES) {
        const modules = join(prod[name], 'node_modules');
        assert.ok(existsSync(join(modules, '@grpcforge/runtime/dist/index.js')));
        assert.ok(existsSync(join(modules, 'better-sqlite3/build/Release/better_sqlite3.node')), 'the SQLite addon is built');
        for (const absent of [
          'grpcforge',
          '@bufbuild/buf',
          'typescript',
          'tsx',
          'esbuild',
          'zod',
          'yaml',
          'ts-proto',
          'commander',
          'pg',
          '@opentelemetry/api',
        ]) {
          assert.equal(existsSync(join(modules, absent)), false, `${absent} is in the production install of ${name}`);
        }
      }
    });

    describe('both services running from their production installs', () => {
      const running = {} as Record<ServiceName, ServeProcess>;
      let compose: { services: Record<string, { environment?: unknown }> };

      before(async () => {
        compose = parse(readFileSync(join(ws, 'deploy/compose.yaml'), 'utf8')) as typeof compose;
        const addresses: Record<string, string> = {};
        for (const name of SERVICES) {
          const image = dockerfileEnvironment(readFileSync(join(ws, `deploy/docker/${name}.Dockerfile`), 'utf8'));
          const environment = { ...image, ...composeEnvironment(compose, name) };
          // Compose's network: a provider's DNS name is the service name; here every service is on 127.0.0.1.
          for (const [key, value] of Object.entries(environment)) {
            environment[key] = value.replace(/^dns:\/\/\/(\w+):\d+$/, (whole, provider: string) =>
              addresses[provider] ? `dns:///${addresses[provider]}` : whole,
            );
          }
          assert.equal(environment.GRPCFORGE_LISTEN?.startsWith('0.0.0.0:'), true, 'the image listens on every interface');
          environment.GRPCFORGE_LISTEN = '127.0.0.1:0';
          running[name] = await startBuilt(join('services', name, 'dist', 'main.js'), prod[name], environment);
          addresses[name] = running[name].address;
        }
      });

      test('compose.yaml points user at auth by its Compose DNS name', () => {
        assert.equal(composeEnvironment(compose, 'user').AUTH_ADDR, 'dns:///auth:50051');
      });

      test("the image's health check (the runtime's grpcforge-health-probe) passes against each service", () => {
        for (const name of SERVICES) {
          const probe = runProgram(
            join(prod[name], 'node_modules/.bin/grpcforge-health-probe'),
            [running[name].address],
            prod[name],
          );
          ok(probe);
        }
      });

      test('Login on auth, then GetUser on user, which resolves the caller through auth', async () => {
        const runtime = (await import(
          pathToFileURL(join(prod.user, 'node_modules/@grpcforge/runtime/dist/index.js')).href
        )) as Runtime;
        const { createAuthServiceClient } = (await import(
          pathToFileURL(join(prod.user, 'services/user/dist/gen/clients/auth.v1.AuthService.js')).href
        )) as AuthClientModule;
        const auth = createAuthServiceClient({ target: running.auth.address });
        const { token } = await auth.login({ username: 'ada', password: 'demo' });
        runtime.closeServiceClient(auth);
        const { UserServiceDefinition } = (await import(
          pathToFileURL(join(prod.user, 'services/user/dist/gen/pb/user/v1/user.js')).href
        )) as UserPbModule;
        const user = runtime.createServiceClient(UserServiceDefinition, {
          target: running.user.address,
          deadlineMs: 5000,
        }) as unknown as UserClient;
        const got = await user.getUser({ id: 'u1' }, { metadata: runtime.Metadata({ authorization: `Bearer ${token}` }) });
        assert.equal(got.user?.displayName, 'Ada Lovelace');
        assert.equal(got.requestedBy, 'ada', 'requestedBy comes from auth.v1.AuthService/ValidateToken');
        runtime.closeServiceClient(user);
      });

      test('SIGTERM: both drain, flush and exit 0; the shared store holds the calls of both', async () => {
        for (const name of ['user', 'auth'] as const) assert.equal(await running[name].stop(), 0, running[name].stderr());
        const runtime = (await import(
          pathToFileURL(join(prod.auth, 'node_modules/@grpcforge/runtime/dist/index.js')).href
        )) as Runtime;
        const store = await runtime.createLogStore({ url: `sqlite:${join(prod.auth, '.grpcforge/grpcforge.db')}` });
        try {
          const methods = (await store.logs.list({ limit: 50 })).map((row) => `${row.service}/${row.method}`).sort();
          for (const method of [
            'auth.v1.AuthService/Login',
            'auth.v1.AuthService/ValidateToken',
            'user.v1.UserService/GetUser',
          ]) {
            assert.ok(methods.includes(method), `${method} not in the store: ${methods.join(', ')}`);
          }
        } finally {
          await store.close();
        }
      });
    });

    test('an optional feature on without its package stops the service at start (exit 2), naming the package to install', async () => {
      // A PostgreSQL store: pg is an optional peer dependency, not in this production install.
      const started = await runAsync(process.execPath, ['services/auth/dist/main.js'], prod.auth, 30_000, {
        GRPCFORGE_LISTEN: '127.0.0.1:0',
        GRPCFORGE_LOG_STORE_URL: 'postgres://grpcforge@127.0.0.1:1/grpcforge',
      });
      assert.equal(started.code, 2, started.output);
      assert.match(started.output, /a postgres:\/\/ log store needs the package pg, which is not installed: npm install pg@\^8/);
      assert.doesNotMatch(started.output, /^listening on/m);
    });
  },
);
