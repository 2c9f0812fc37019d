import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ServerCredentials } from '@grpc/grpc-js';
import {
  ClientError,
  DEFAULT_SERVER_LIMITS,
  Status,
  closeServiceClient,
  createLogStore,
  createServiceClient,
  defineService,
  maskCredentials,
  runBuiltService,
  startServer,
  type ServiceManifest,
} from '../../packages/runtime/src/index.ts';
import { zeroDefenceCounts } from '../../packages/runtime/src/vocabulary.ts';
import { createTestCertificates } from '../helpers/certs.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';
import { childEnv, repoRoot, tempDir } from '../helpers/workspace.ts';

interface EchoClient {
  echo(request: EchoMessage): Promise<EchoMessage>;
}

// Plain JavaScript on the built runtime (npm run build), as a built service's main.js.
const childScript = join(repoRoot, 'test/helpers/service-host-child.mjs');

/** A manifest of the echo service in `<workspace>/dist/`, its store `sqlite:.grpcforge/host.db` in the workspace. */
function manifestOf(overrides: Partial<ServiceManifest> = {}): ServiceManifest {
  return {
    version: 1,
    name: 'echo',
    workspaceRoot: '..',
    serviceDir: '.',
    serves: ['test.v1.EchoService'],
    listen: { host: '127.0.0.1', port: 0 },
    server: { health: true, reflection: false, limits: DEFAULT_SERVER_LIMITS, shutdownTimeoutMs: 5000 },
    auth: { default: 'public', methods: {}, apiKeys: false },
    logStore: { enabled: true, url: 'sqlite:.grpcforge/host.db', postgres: { poolSize: 1, statementTimeoutMs: 5000 } },
    ...overrides,
  };
}

/** A workspace with the manifest written to dist/grpcforge.service.json; returns its paths. */
async function workspaceWith(manifest: ServiceManifest) {
  const ws = await tempDir('grpcforge-host-');
  await mkdir(join(ws, 'dist'), { recursive: true });
  const manifestPath = join(ws, 'dist/grpcforge.service.json');
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
  return { ws, manifestPath };
}

/** The child, started from a folder that is not the workspace; resolves once it printed `listening on`. */
async function startChild(manifestPath: string, env: NodeJS.ProcessEnv = {}) {
  const cwd = await tempDir('grpcforge-host-cwd-');
  const child = spawn(process.execPath, [childScript, manifestPath], {
    cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters.splice(0)) {
      if (waiter.pattern.test(stderr)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`the host exited with ${String(code)}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^listening on (.+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
  });
  return {
    address,
    exited,
    stderr: () => stderr,
    signal: (signal: NodeJS.Signals) => child.kill(signal),
    /** Resolves when stderr matches `pattern`. */
    waitFor: (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        if (pattern.test(stderr)) resolve();
        else waiters.push({ pattern, resolve });
      }),
  };
}

async function openStore(ws: string) {
  return createLogStore({ url: `sqlite:${join(ws, '.grpcforge/host.db')}` });
}

describe('service host', () => {
  test('drain → flush → stopped row → close: a slow call in flight finishes, its row is stored, the instance is stopped', async () => {
    const { ws, manifestPath } = await workspaceWith(manifestOf());
    const host = await startChild(manifestPath);
    assert.match(
      host.stderr(),
      /serving test\.v1\.EchoService \(1 RPC\), health, plaintext, auth default public, log store sqlite:\.grpcforge\/host\.db/,
    );
    const reader = await openStore(ws);
    const running = await reader.instances.list();
    assert.deepEqual(
      running.map((instance) => [instance.service, instance.address, instance.state]),
      [['echo', host.address, 'serving']],
    );
    assert.deepEqual(running[0]?.defences, zeroDefenceCounts(), 'every defence counter, from registration on');
    const client = createServiceClient(EchoDefinition, { target: host.address, retry: false }) as unknown as EchoClient;
    const call = client.echo({ text: 'slow', delayMs: 800 });
    await host.waitFor(/call started/);
    host.signal('SIGTERM');
    assert.deepEqual(await call, { text: 'slow' });
    assert.equal(await host.exited, 0, host.stderr());
    const lines = host.stderr().split('\n');
    const order = [
      'SIGTERM: draining in-flight calls (up to 5000 ms)',
      'log store: 1 call written',
      'stopped: every call finished',
    ];
    assert.deepEqual(
      order.map((line) => lines.indexOf(line)),
      [...order.map((line) => lines.indexOf(line))].sort((a, b) => a - b),
      host.stderr(),
    );
    assert.ok(
      order.every((line) => lines.includes(line)),
      host.stderr(),
    );
    const [row] = await reader.logs.list({ method: 'Echo' });
    assert.equal(row?.statusCode, Status.OK);
    assert.equal((await reader.instances.list())[0]?.state, 'stopped');
    await reader.close();
    closeServiceClient(client);
  });

  test('the drain is bounded: a call longer than the shutdown timeout is cancelled and the host still closes', async (t) => {
    const manifest = manifestOf();
    const { ws, manifestPath } = await workspaceWith({ ...manifest, server: { ...manifest.server, shutdownTimeoutMs: 200 } });
    const host = await startChild(manifestPath);
    const client = createServiceClient(EchoDefinition, { target: host.address, retry: false }) as unknown as EchoClient;
    const call = client.echo({ text: 'never', delayMs: 600_000 });
    call.catch(() => {}); // asserted below
    await host.waitFor(/call started/);
    host.signal('SIGINT');
    await assert.rejects(call, (error: unknown) => error instanceof ClientError && error.code === Status.CANCELLED);
    assert.equal(await host.exited, 0, host.stderr());
    assert.match(host.stderr(), /SIGINT: draining in-flight calls \(up to 200 ms\)\n/);
    assert.match(host.stderr(), /stopped: calls still running were cancelled\n/);
    closeServiceClient(client);
    const reader = await openStore(ws);
    t.after(() => reader.close());
    assert.equal((await reader.logs.list({ method: 'Echo' }))[0]?.statusCode, Status.CANCELLED);
    assert.equal((await reader.instances.list())[0]?.state, 'stopped');
  });

  test('a second signal while draining exits 1 at once', async () => {
    const manifest = manifestOf();
    const { manifestPath } = await workspaceWith({ ...manifest, server: { ...manifest.server, shutdownTimeoutMs: 600_000 } });
    const host = await startChild(manifestPath);
    const client = createServiceClient(EchoDefinition, { target: host.address, retry: false }) as unknown as EchoClient;
    client.echo({ text: 'never', delayMs: 600_000 }).catch(() => {});
    await host.waitFor(/call started/);
    host.signal('SIGHUP');
    await host.waitFor(/SIGHUP: draining/);
    host.signal('SIGTERM');
    assert.equal(await host.exited, 1);
    assert.match(host.stderr(), /SIGTERM again: exiting now\n/);
    closeServiceClient(client);
  });

  test('started from another folder: server TLS files, its clients’ TLS files and the sqlite store resolve against the workspace root', async (t) => {
    const manifest = manifestOf({
      tls: { ca: 'certs/ca.pem', cert: 'certs/server.pem', key: 'certs/server.key', requireClientCert: true },
    });
    const { ws, manifestPath } = await workspaceWith(manifest);
    await mkdir(join(ws, 'certs'));
    const certs = createTestCertificates(join(ws, 'certs'));
    const upstream = await startServer({
      host: '127.0.0.1',
      port: 0,
      credentials: ServerCredentials.createSsl(certs.ca, [{ cert_chain: certs.serverCert, private_key: certs.serverKey }], true),
      services: [
        defineService(EchoDefinition, {
          echo: async (request) => ({ text: `upstream got ${request.text ?? ''}` }),
          repeat: async function* () {},
          collect: async () => ({}),
          chat: async function* () {},
        }),
      ],
    });
    t.after(() => upstream.shutdown(0));
    const host = await startChild(manifestPath, { UPSTREAM_ADDR: upstream.address });
    assert.match(host.stderr(), /, mTLS, /);
    const client = createServiceClient(EchoDefinition, {
      target: host.address,
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
      retry: false,
    }) as unknown as EchoClient;
    assert.deepEqual(await client.echo({ text: 'forward' }), { text: 'upstream got from the host' });
    assert.ok(existsSync(join(ws, '.grpcforge/host.db')), 'the store is in the workspace, not in the cwd');
    host.signal('SIGTERM');
    assert.equal(await host.exited, 0, host.stderr());
    closeServiceClient(client);
  });
});

describe('runBuiltService', () => {
  /** Runs it in this process with its output and exit captured; only for runs that do not start. */
  async function refused(manifestPath: string, env: NodeJS.ProcessEnv = {}) {
    const lines: string[] = [];
    let code: number | undefined;
    const host = await runBuiltService({
      manifestUrl: manifestPath,
      loadEntry: () => Promise.reject(new Error('not reached')),
      env,
      stdout: (line) => lines.push(`stdout: ${line}`),
      stderr: (line) => lines.push(line),
      exit: (exitCode) => (code = exitCode),
    });
    assert.equal(host, undefined);
    return { code, lines };
  }

  test('a bad manifest, a bad GRPCFORGE_LISTEN or an unset variable: a message naming it, exit 2', async () => {
    const { ws, manifestPath } = await workspaceWith(manifestOf());
    const missing = await refused(join(ws, 'dist/nope.json'));
    assert.equal(missing.code, 2);
    assert.match(missing.lines[0] ?? '', /^grpcforge: cannot read the service manifest .*nope\.json: /);

    await writeFile(join(ws, 'dist/old.json'), JSON.stringify({ ...manifestOf(), version: 2 }));
    assert.match((await refused(join(ws, 'dist/old.json'))).lines[0] ?? '', /version 2 is not one this runtime reads/);
    const withoutListen = JSON.parse(JSON.stringify(manifestOf())) as Record<string, unknown>;
    delete withoutListen.listen;
    await writeFile(join(ws, 'dist/partial.json'), JSON.stringify(withoutListen));
    assert.match((await refused(join(ws, 'dist/partial.json'))).lines[0] ?? '', /"listen" is missing \(expected object\)$/);

    const listen = await refused(manifestPath, { GRPCFORGE_LISTEN: '50051' });
    assert.deepEqual(listen, {
      code: 2,
      lines: [
        'grpcforge: GRPCFORGE_LISTEN: "50051" is not HOST:PORT',
        '  for example 0.0.0.0:50051 (every interface, in a container) or 127.0.0.1:0 (any free port)',
      ],
    });
  });

  test('grpc-js tracing, which prints credentials, is refused unless GRPCFORGE_ALLOW_GRPC_TRACE=1', async () => {
    const { manifestPath } = await workspaceWith(manifestOf({}));
    const traced = await refused(manifestPath, { GRPC_TRACE: 'all', GRPC_VERBOSITY: 'DEBUG' });
    assert.deepEqual(traced, {
      code: 2,
      lines: [
        "grpcforge: GRPC_TRACE=all makes grpc-js print every request's metadata to stderr, API keys and bearer tokens included",
        '  unset GRPC_TRACE, or set GRPCFORGE_ALLOW_GRPC_TRACE=1 (credential values are then masked)',
      ],
    });
    assert.equal(maskCredentials('"x-api-key":["gf_secret"] Bearer abc.def'), '"x-api-key":["[masked]"] Bearer [masked]');
  });

  test('an unset variable in the store URL is named; GRPCFORGE_LOG_STORE_URL replaces the URL', async () => {
    const { ws, manifestPath } = await workspaceWith(
      manifestOf({
        logStore: { enabled: true, url: 'sqlite:${DB_DIR}/x.db', postgres: { poolSize: 1, statementTimeoutMs: 5000 } },
      }),
    );
    const host = startChild(manifestPath);
    await assert.rejects(host, /logStore\.url sqlite:\$\{DB_DIR\}\/x\.db: environment variable DB_DIR is not set/);
    const replaced = await startChild(manifestPath, { GRPCFORGE_LOG_STORE_URL: 'sqlite:${STORE:-other.db}' });
    assert.match(replaced.stderr(), /log store sqlite:\$\{STORE:-other\.db\}/);
    assert.ok(existsSync(join(ws, 'other.db')));
    replaced.signal('SIGTERM');
    assert.equal(await replaced.exited, 0);
  });
});

describe('grpcforge-health-probe', () => {
  const probeBin = join(repoRoot, 'packages/runtime/dist/bin/health-probe.js');
  /** Runs the built probe; resolves with its exit code and stderr. */
  async function probe(args: readonly string[]) {
    try {
      const { stderr } = await promisify(execFile)(process.execPath, [probeBin, ...args], { env: childEnv({}) });
      return { code: 0, stderr };
    } catch (error) {
      const failed = error as { code?: number; stderr?: string };
      return { code: failed.code, stderr: failed.stderr ?? '' };
    }
  }

  test('SERVING exits 0; an unknown service, a closed port or a silent one exits 1 with the reason', async (t) => {
    const { manifestPath } = await workspaceWith(manifestOf());
    const host = await startChild(manifestPath);
    t.after(() => host.signal('SIGKILL'));
    assert.deepEqual(await probe([host.address]), { code: 0, stderr: '' });
    assert.deepEqual(await probe(['--service', 'test.v1.EchoService', host.address]), { code: 0, stderr: '' });
    const unknown = await probe(['--service', 'nope.v1.Nope', host.address]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, new RegExp(`^grpcforge-health-probe: ${host.address} nope\\.v1\\.Nope: .*NOT_FOUND`));
    host.signal('SIGTERM');
    assert.equal(await host.exited, 0);
    const closed = await probe(['--timeout-ms', '2000', host.address]);
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /UNAVAILABLE/);
    // Accepts connections and never answers: the probe gives up at its timeout.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => silent.close());
    const port = (silent.address() as { port: number }).port;
    const hanging = await probe(['--timeout-ms', '300', `127.0.0.1:${port}`]);
    assert.deepEqual(hanging, { code: 1, stderr: `grpcforge-health-probe: 127.0.0.1:${port}: no answer within 300 ms\n` });
    const usage = await probe([]);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /^usage: grpcforge-health-probe/);
  });
});
