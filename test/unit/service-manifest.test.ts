import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_AUTH_THROTTLE } from '../../packages/runtime/src/vocabulary.ts';
import { buildServiceAuthOptions } from '../../packages/runtime/src/host/host-options.ts';
import { toServiceManifest } from '../../src/build/service-manifest.ts';
import { loadConfig, loadConfigOrThrow } from '../../src/config/load.ts';
import { repoRoot, tempDir, writeFiles } from '../helpers/workspace.ts';
import { ServiceHostError, buildServiceTelemetryOptions, openServiceLogStore } from '../../packages/runtime/src/index.ts';

async function configOf(yaml: string) {
  const dir = await tempDir();
  await writeFiles(dir, { 'grpcforge.yaml': yaml });
  return { dir, config: await loadConfigOrThrow(join(dir, 'grpcforge.yaml')) };
}

/** The manifest after a trip through JSON: what `runBuiltService` reads. */
function roundTrip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe('toServiceManifest', () => {
  test("the example workspace's services: relative paths, ${VAR}s kept, JSON round-trip", async () => {
    const { dir, config } = await configOf(await readFile(join(repoRoot, 'templates/workspace/grpcforge.yaml'), 'utf8'));
    const auth = toServiceManifest(config, 'auth');
    assert.deepEqual(roundTrip(auth), auth);
    assert.equal(JSON.stringify(auth).includes(dir), false, 'no absolute path of the build machine');
    assert.deepEqual(auth, {
      version: 1,
      name: 'auth',
      workspaceRoot: '../../..',
      serviceDir: 'services/auth',
      serves: ['auth.v1.AuthService'],
      listen: { host: '127.0.0.1', port: 50051 },
      server: {
        health: true,
        reflection: true,
        limits: config.server.limits,
        shutdownTimeoutMs: 10000,
        validation: { requests: true, responses: false },
        errors: { debugInfo: false },
      },
      auth: {
        default: 'authenticated',
        methods: {
          'auth.v1.AuthService/Login': 'public',
          'auth.v1.AuthService/ValidateToken': 'public',
          'auth.v1.AuthService/ListSessions': { roles: ['admin'] },
        },
        apiKeys: true,
        throttle: DEFAULT_AUTH_THROTTLE,
        mtls: { roles: { 'spiffe://platform/user': ['service'] }, allowCommonName: false },
      },
      logStore: {
        enabled: true,
        url: 'sqlite:.grpcforge/grpcforge.db',
        postgres: { poolSize: 4, statementTimeoutMs: 30000 },
        retentionMs: 30 * 86_400_000,
      },
    });
    const user = toServiceManifest(config, 'user', { manifestDir: join(dir, 'out') });
    assert.equal(user.workspaceRoot, '..');
    assert.deepEqual(user.listen, { host: '127.0.0.1', port: 50052 });
  });

  test('jwt, tls, postgres and telemetry settings: paths relative to the workspace, references kept', async () => {
    const { dir, config } = await configOf(`version: 1
services:
  auth:
    dir: apps/auth
    serves: [auth.v1.AuthService]
    listen: 0.0.0.0:50051
auth:
  default: public
  jwt:
    publicKey: keys/jwt.pub.pem
    issuer: https://id.example.com
    audience: platform
    algorithms: [RS256]
tls:
  enabled: true
  ca: certs/ca.pem
  cert: certs/\${SERVICE}.pem
  key: /run/secrets/\${SERVICE}.key
  requireClientCert: true
logStore:
  url: postgres://grpcforge:\${PGPASSWORD}@\${PGHOST:-localhost}:5432/grpcforge
  postgres: { poolSize: 8, statementTimeoutMs: 5000 }
telemetry:
  enabled: true
  otlp:
    endpoint: http://collector:4318
    headers: { authorization: "Bearer \${OTLP_TOKEN}" }
  prometheus:
    listen: 127.0.0.1:9464
    services: { auth: 0.0.0.0:9465 }
server:
  shutdownTimeoutMs: 2500
`);
    const manifest = toServiceManifest(config, 'auth');
    assert.deepEqual(roundTrip(manifest), manifest);
    assert.equal(JSON.stringify(manifest).includes(dir), false, 'no absolute path of the build machine');
    assert.equal(manifest.workspaceRoot, '../../..');
    assert.equal(manifest.serviceDir, 'apps/auth');
    assert.deepEqual(manifest.listen, { host: '0.0.0.0', port: 50051 });
    assert.equal(manifest.server.shutdownTimeoutMs, 2500);
    assert.deepEqual(manifest.auth.jwt, {
      publicKey: 'keys/jwt.pub.pem',
      issuer: 'https://id.example.com',
      audience: 'platform',
      algorithms: ['RS256'],
      clockToleranceSec: config.auth.jwt!.clockToleranceSec,
      rolesClaim: config.auth.jwt!.rolesClaim,
    });
    // ${SERVICE} replaced; a path outside the workspace stays absolute.
    assert.deepEqual(manifest.tls, {
      ca: 'certs/ca.pem',
      cert: 'certs/auth.pem',
      key: '/run/secrets/auth.key',
      requireClientCert: true,
    });
    assert.deepEqual(manifest.logStore, {
      enabled: true,
      url: 'postgres://grpcforge:${PGPASSWORD}@${PGHOST:-localhost}:5432/grpcforge',
      postgres: { poolSize: 8, statementTimeoutMs: 5000 },
    });
    assert.deepEqual(manifest.telemetry, {
      serviceName: 'auth',
      traces: config.telemetry!.traces,
      metrics: config.telemetry!.metrics,
      otlp: {
        endpoint: 'http://collector:4318',
        headers: { authorization: 'Bearer ${OTLP_TOKEN}' },
        intervalMs: config.telemetry!.otlp!.intervalMs,
      },
      prometheus: { host: '0.0.0.0', port: 9465 },
    });
  });

  test('a service that serves nothing has no manifest', async () => {
    const { config } = await configOf('version: 1\nservices:\n  cli:\n    consumes: []\n');
    assert.throws(() => toServiceManifest(config, 'cli'), /service "cli" serves nothing/);
    assert.throws(() => toServiceManifest(config, 'nope'), /no service "nope"/);
  });
});

test('OTEL_EXPORTER_OTLP_ENDPOINT replaces the endpoint of the settings at start; a value that is no URL is refused', () => {
  const settings = {
    serviceName: 'auth',
    traces: true,
    metrics: true,
    otlp: { endpoint: 'http://127.0.0.1:4318', headers: {}, intervalMs: 60_000 },
  };
  assert.equal(buildServiceTelemetryOptions(settings, {})?.otlp?.endpoint, 'http://127.0.0.1:4318');
  const deployed = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' };
  assert.equal(buildServiceTelemetryOptions(settings, deployed)?.otlp?.endpoint, 'http://otel-collector:4318');
  assert.throws(
    () => buildServiceTelemetryOptions(settings, { OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' }),
    (error: unknown) =>
      error instanceof ServiceHostError &&
      error.code === 'telemetry-config' &&
      /OTEL_EXPORTER_OTLP_ENDPOINT: "otel-collector:4318" is not an http or https URL/.test(error.message),
  );
});

test('a malformed ${...} in the store URL or an OTLP header is a ServiceHostError naming the setting, not the password', async () => {
  await assert.rejects(
    openServiceLogStore(
      { enabled: true, url: 'postgres://app:s3cret@db/${1PW}', postgres: { poolSize: 1, statementTimeoutMs: 1000 } },
      { baseDir: '.', env: {} },
    ),
    (error: unknown) =>
      error instanceof ServiceHostError &&
      error.code === 'log-store-failed' &&
      error.message.startsWith('logStore.url postgres://app:***@db/') &&
      !error.message.includes('s3cret') &&
      error.message.includes(': holds a "${" that starts no variable reference (expected ${NAME}'),
  );
  const settings = {
    serviceName: 'auth',
    traces: true,
    metrics: false,
    otlp: { endpoint: 'http://127.0.0.1:4318', headers: { authorization: 'Bearer ${TOKEN' }, intervalMs: 60_000 },
  };
  assert.throws(
    () => buildServiceTelemetryOptions(settings, {}),
    (error: unknown) =>
      error instanceof ServiceHostError &&
      error.code === 'telemetry-config' &&
      error.message.startsWith('telemetry.otlp.headers.authorization: holds a "${" that starts no variable reference'),
  );
});

test('auth.throttle: on by default, each bucket filled in, false turns it (or one bucket) off; the host passes it to auth', async () => {
  const manifestOf = async (throttle: string) => {
    const yaml = `version: 1\nservices:\n  auth:\n    serves: [auth.v1.AuthService]\n    listen: 127.0.0.1:50051\n${throttle}`;
    return roundTrip(toServiceManifest((await configOf(yaml)).config, 'auth')) as ReturnType<typeof toServiceManifest>;
  };
  assert.deepEqual((await manifestOf('')).auth.throttle, DEFAULT_AUTH_THROTTLE);
  assert.equal((await manifestOf('auth:\n  throttle: false\n')).auth.throttle, false);
  const tuned = await manifestOf('auth:\n  throttle:\n    perPeer: { burst: 5 }\n    perKey: false\n');
  assert.deepEqual(tuned.auth.throttle, { perPeer: { failuresPerMinute: 30, burst: 5 }, perKey: false });
  const options = await buildServiceAuthOptions(tuned.auth, undefined, { baseDir: '/' });
  assert.deepEqual(options.throttle, { perPeer: { failuresPerMinute: 30, burst: 5 }, perKey: false });
  const dir = await tempDir();
  await writeFiles(dir, {
    'grpcforge.yaml': 'version: 1\nservices: {}\nauth:\n  throttle: { perPeer: { burst: 0 }, perKey: yes }\n',
  });
  const { errors } = await loadConfig(join(dir, 'grpcforge.yaml'));
  assert.deepEqual(
    errors.map((error) => `${error.path}: ${error.message}`),
    [
      'auth.throttle.perPeer.burst: Too small: expected number to be >=1, got 0',
      'auth.throttle.perKey: expected false or { failuresPerMinute, burst }, got "yes"',
    ],
  );
});
