import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatConfigProblem, loadConfig } from '../../src/config/load.ts';
import { checkServiceNamesExist } from '../../src/config/rules.ts';
import { telemetrySettingsOf } from '../../src/build/service-manifest.ts';
import type { ResolvedConfig } from '../../src/config/resolved.ts';
import { buildServiceTelemetryOptions } from '../../packages/runtime/src/index.ts';
import { buildConfigJsonSchema } from '../../src/config/schema.ts';
import { repoRoot, tempDir, writeFiles } from '../helpers/workspace.ts';

/** The telemetry options a service host starts `serviceName` with, from the resolved config. */
const buildTelemetryOptions = (config: ResolvedConfig, serviceName: string) =>
  buildServiceTelemetryOptions(config.telemetry && telemetrySettingsOf(config.telemetry, serviceName));

const VALID = `version: 1
services:
  auth:
    serves: [auth.v1.AuthService]
    listen: 127.0.0.1:50051
  user:
    dir: apps/user
    serves: [user.v1.UserService]
    listen: 127.0.0.1:50052
    consumes:
      - service: auth.v1.AuthService
        deadlineMs: 2000
      - service: billing.v1.BillingService
        target: \${BILLING_ADDR:-dns:///billing:443}
`;

async function load(yaml: string) {
  const dir = await tempDir();
  await writeFiles(dir, { 'grpcforge.yaml': yaml });
  const path = join(dir, 'grpcforge.yaml');
  const result = await loadConfig(path);
  return { result, messages: result.errors.map((problem) => formatConfigProblem(path, problem, dir)) };
}

describe('grpcforge.yaml', () => {
  test('a valid file resolves defaults, providers and targets', async () => {
    const { result } = await load(VALID);
    assert.deepEqual(result.errors, []);
    const config = result.config!;
    assert.deepEqual(
      config.services.map((service) => [service.name, service.dirRelative, service.listen?.port]),
      [
        ['auth', 'services/auth', 50051],
        ['user', 'apps/user', 50052],
      ],
    );
    const [auth, billing] = config.services[1]!.consumes;
    assert.deepEqual(auth, {
      service: 'auth.v1.AuthService',
      target: '127.0.0.1:50051',
      deadlineMs: 2000,
      methodDeadlinesMs: {},
      credentials: undefined,
      tls: false,
      retry: undefined,
      provider: 'auth',
      index: 0,
    });
    assert.equal(billing?.provider, undefined);
    assert.equal(billing?.target, '${BILLING_ADDR:-dns:///billing:443}');
    assert.equal(config.server.shutdownTimeoutMs, 10_000);
    assert.ok(config.contract.root.endsWith('/proto'));
  });

  test('the tls section is resolved per service: ${SERVICE} replaced once, the workspace form kept', async () => {
    const tls = 'tls:\n  enabled: false\n  ca: certs/ca.pem\n  cert: "certs/${SERVICE}.pem"\n  key: "keys/${SERVICE}.key"\n';
    const { result } = await load(`${VALID}${tls}`);
    const config = result.config!;
    const dir = config.workspaceDir;
    assert.equal(config.tls, undefined);
    assert.equal(config.tlsFiles?.cert, join(dir, 'certs/${SERVICE}.pem'));
    assert.deepEqual(
      config.services.map((service) => [service.name, service.tls, service.tlsFiles]),
      ['auth', 'user'].map((name) => [
        name,
        undefined,
        {
          ca: join(dir, 'certs/ca.pem'),
          cert: join(dir, `certs/${name}.pem`),
          key: join(dir, `keys/${name}.key`),
          requireClientCert: false,
        },
      ]),
    );
    const on = (await load(`${VALID}${tls.replace('enabled: false', 'enabled: true')}`)).result.config!;
    assert.equal(on.services[0]?.tls?.key, join(on.workspaceDir, 'keys/auth.key'));
  });

  // Each bad file and the exact line a user sees: file:line:col, key path, the value, what was expected.
  const cases: [string, string, string][] = [
    ['missing version', 'services: {}\n', 'grpcforge.yaml:1:1: version: is required (expected 1)'],
    ['wrong version', 'version: 2\nservices: {}\n', 'grpcforge.yaml:1:1: version: expected 1, got 2'],
    [
      'unknown key with a hint',
      'version: 1\nservices:\n  auth:\n    serves: [a.v1.A]\n    listn: 127.0.0.1:1\n',
      'grpcforge.yaml:5:5: services.auth.listn: unknown key "listn" (expected one of: dir, serves, consumes, listen); did you mean "listen"?',
    ],
    [
      'service name that is not fully qualified',
      'version: 1\nservices:\n  auth:\n    serves: [AuthService]\n    listen: 127.0.0.1:1\n',
      'grpcforge.yaml:4:14: services.auth.serves[0]: "AuthService" is not valid: expected a fully-qualified service name such as "auth.v1.AuthService"',
    ],
    [
      'bad listen address',
      'version: 1\nservices:\n  auth:\n    serves: [a.v1.A]\n    listen: localhost\n',
      'grpcforge.yaml:5:5: services.auth.listen: "localhost" is not valid: expected HOST:PORT, for example "127.0.0.1:50051" or "0.0.0.0:50051"',
    ],
    [
      'wrong type inside a consumes object',
      'version: 1\nservices:\n  user:\n    consumes:\n      - service: a.v1.A\n        target: x:1\n        deadlineMs: soon\n',
      'grpcforge.yaml:7:9: services.user.consumes[0].deadlineMs: expected number, got "soon"',
    ],
    [
      'consumed outside the workspace without a target',
      'version: 1\nservices:\n  user:\n    consumes: [billing.v1.BillingService]\n',
      'grpcforge.yaml:4:16: services.user.consumes[0].target: is required because no service in the workspace serves "billing.v1.BillingService" (expected a gRPC target such as "dns:///billing:50051")',
    ],
    [
      'two providers',
      'version: 1\nservices:\n  a:\n    serves: [x.v1.S]\n    listen: 127.0.0.1:1\n  b:\n    serves: [x.v1.S]\n    listen: 127.0.0.1:2\n',
      'grpcforge.yaml:7:14: services.b.serves[0]: "x.v1.S" is already served by service "a"',
    ],
    [
      'serves without listen',
      'version: 1\nservices:\n  a:\n    serves: [x.v1.S]\n',
      'grpcforge.yaml:3:3: services.a: serves a service but has no "listen" address (expected HOST:PORT)',
    ],
    [
      'an auth method key that is not a method path',
      'version: 1\nservices: {}\nauth:\n  methods:\n    Login: public\n',
      'grpcforge.yaml:5:5: auth.methods.Login: "Login" is not valid: expected "pkg.Service/Method" or "pkg.Service/*"',
    ],
    [
      'a method rule that is neither public, authenticated nor roles',
      'version: 1\nservices: {}\nauth:\n  methods:\n    a.v1.S/M: admin\n',
      'grpcforge.yaml:5:5: auth.methods["a.v1.S/M"]: expected "public", "authenticated" or { roles: [role, ...] }, got "admin"',
    ],
    [
      'JWT with two key sources',
      'version: 1\nservices: {}\nauth:\n  jwt:\n    secretEnv: S\n    jwksUrl: https://id.example.com/jwks.json\n',
      'grpcforge.yaml:4:3: auth.jwt: expected exactly one of secretEnv, publicKey, jwksUrl (got 2)',
    ],
    [
      'client certificates required without a CA',
      'version: 1\nservices: {}\ntls:\n  cert: c.pem\n  key: k.pem\n  requireClientCert: true\n',
      'grpcforge.yaml:6:3: tls.requireClientCert: needs tls.ca, the CA that signs client certificates',
    ],
    [
      'invalid YAML',
      'version: 1\nservices: [\n',
      'grpcforge.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'a typo in a consumed service served in the workspace',
      'version: 1\nservices:\n  auth:\n    serves: [auth.v1.AuthService]\n    listen: 127.0.0.1:1\n  user:\n    consumes: [auth.v1.AuthServce]\n',
      'grpcforge.yaml:7:16: services.user.consumes[0]: "auth.v1.AuthServce" is not served in the workspace (did you mean "auth.v1.AuthService", served by "auth"?)',
    ],
    [
      'a malformed variable reference in a target',
      'version: 1\nservices:\n  user:\n    consumes:\n      - service: b.v1.B\n        target: "${B_ADDR:-b:1"\n',
      'grpcforge.yaml:6:9: services.user.consumes[0].target: "${B_ADDR:-b:1" is not a variable reference (expected ${NAME} or ${NAME:-default}, NAME of letters, digits and _ not starting with a digit)',
    ],
    [
      'a malformed variable reference in the store URL',
      'version: 1\nservices: {}\nlogStore:\n  url: "postgres://u:${1PW}@db/logs"\n',
      'grpcforge.yaml:4:3: logStore.url: holds a "${" that starts no variable reference (expected ${NAME} or ${NAME:-default}, NAME of letters, digits and _ not starting with a digit)',
    ],
    [
      'a password holding "${" in the store URL, without quoting it',
      'version: 1\nservices: {}\nlogStore:\n  url: "postgres://u:pa${s3cret@db/logs"\n',
      'grpcforge.yaml:4:3: logStore.url: holds a "${" that starts no variable reference (expected ${NAME} or ${NAME:-default}, NAME of letters, digits and _ not starting with a digit)',
    ],
  ];
  for (const [name, yaml, expected] of cases) {
    test(`rejects ${name}`, async () => {
      const { result, messages } = await load(yaml);
      assert.equal(result.config, undefined);
      assert.ok(messages.includes(expected), `expected\n  ${expected}\ngot\n  ${messages.join('\n  ')}`);
    });
  }

  test('names that the contracts do not declare get a did-you-mean hint', async () => {
    const { result } = await load(
      VALID.replace('- service: auth.v1.AuthService', '- service: auth.v1.AuthServce\n        target: auth:1'),
    );
    const problems = checkServiceNamesExist(result.config!, ['auth.v1.AuthService', 'user.v1.UserService'], 'proto/');
    assert.deepEqual(
      problems.map((problem) => `${problem.path}: ${problem.message}`),
      [
        'services.user.consumes[0]: "auth.v1.AuthServce" is not a service in proto/ (did you mean "auth.v1.AuthService"?)',
        'services.user.consumes[1]: "billing.v1.BillingService" is not a service in proto/ (known: auth.v1.AuthService, user.v1.UserService)',
      ],
    );
  });

  test('an RPC named under consumes[].methods that the contract lacks is an error with a hint', async () => {
    const { result } = await load(
      VALID.replace(
        '        deadlineMs: 2000\n',
        '        deadlineMs: 2000\n        methods: { ValidateTokn: { deadlineMs: 300 }, Login: { deadlineMs: 500 } }\n',
      ),
    );
    const rpcs = (service: string) => (service === 'auth.v1.AuthService' ? ['Login', 'ValidateToken'] : []);
    const known = ['auth.v1.AuthService', 'user.v1.UserService', 'billing.v1.BillingService'];
    const problems = checkServiceNamesExist(result.config!, known, 'proto/', rpcs);
    assert.deepEqual(
      problems.map((problem) => `${problem.path}: ${problem.message}`),
      [
        'services.user.consumes[0].methods.ValidateTokn: "ValidateTokn" is not an RPC of auth.v1.AuthService (did you mean "ValidateToken"?)',
      ],
    );
  });

  test('no services yet: `services: {}` and `services:` with every entry commented out load, without warnings', async () => {
    for (const yaml of ['version: 1\nservices: {}\n', 'version: 1\nservices:\n  # api:\n  #   serves: [a.v1.A]\n']) {
      const { result } = await load(yaml);
      assert.deepEqual([result.errors, result.warnings], [[], []], yaml);
      assert.deepEqual(result.config?.services, [], yaml);
    }
    // Still required, still a map, and still checked inside (the unknown-key hint sees through the null step).
    for (const [yaml, expected] of [
      ['version: 1\n', 'grpcforge.yaml:1:1: services: is required (expected record)'],
      ['version: 1\nservices: [api]\n', 'grpcforge.yaml:2:1: services: expected record, got a list'],
      [
        'version: 1\nservices:\n  api:\n    serve: [a.v1.A]\n',
        'grpcforge.yaml:4:5: services.api.serve: unknown key "serve" (expected one of: dir, serves, consumes, listen); did you mean "serves"?',
      ],
    ] as const) {
      assert.deepEqual((await load(yaml)).messages, [expected]);
    }
    const services = (buildConfigJsonSchema().properties as Record<string, { anyOf?: { type?: string }[] }>).services;
    assert.deepEqual(
      services?.anyOf?.map((option) => option.type),
      ['object', 'null'],
    );
  });

  test('the committed JSON Schema is the one the zod schema generates (run `npm run schema`)', async () => {
    const committed: unknown = JSON.parse(await readFile(join(repoRoot, 'schema/grpcforge.schema.json'), 'utf8'));
    assert.deepEqual(committed, buildConfigJsonSchema());
  });
});

describe('grpcforge.yaml telemetry', () => {
  const withTelemetry = (section: string) => `${VALID}telemetry:\n${section}`;

  test('off without the section or with enabled: false', async () => {
    assert.equal((await load(VALID)).result.config?.telemetry, undefined);
    const { result } = await load(withTelemetry('  enabled: false\n  otlp: { endpoint: http://127.0.0.1:4318 }\n'));
    assert.equal(result.config?.telemetry, undefined);
  });

  test('a full section resolves with defaults; serve builds each service its runtime options', async () => {
    const { result } = await load(
      withTelemetry(
        [
          '  otlp:',
          '    endpoint: http://127.0.0.1:4318/',
          '    headers: { x-api-key: "${OTLP_TEST_KEY:-dev-key}" }',
          '  prometheus:',
          '    listen: 127.0.0.1:9464',
          '    services: { user: 127.0.0.1:9465 }',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.warnings, []);
    const config = result.config!;
    assert.deepEqual(config.telemetry, {
      serviceName: undefined,
      otlp: { endpoint: 'http://127.0.0.1:4318', headers: { 'x-api-key': '${OTLP_TEST_KEY:-dev-key}' }, intervalMs: 60_000 },
      traces: true,
      metrics: true,
      prometheus: { listen: { host: '127.0.0.1', port: 9464 }, services: { user: { host: '127.0.0.1', port: 9465 } } },
    });
    assert.deepEqual(buildTelemetryOptions(config, 'user'), {
      serviceName: 'user',
      traces: true,
      metrics: true,
      otlp: {
        endpoint: 'http://127.0.0.1:4318',
        protocol: 'http/json',
        headers: { 'x-api-key': 'dev-key' },
        intervalMs: 60_000,
      },
      prometheus: { host: '127.0.0.1', port: 9465 },
    });
    assert.deepEqual(buildTelemetryOptions(config, 'auth')?.prometheus, { host: '127.0.0.1', port: 9464 });
  });

  test('otlp.protocol: grpc, http/protobuf or http/json; unset, serve reads OTEL_EXPORTER_OTLP_PROTOCOL', async (t) => {
    const previous = process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    t.after(() => {
      if (previous === undefined) delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
      else process.env.OTEL_EXPORTER_OTLP_PROTOCOL = previous;
    });
    const protocolOf = async (otlp: string) => {
      const { result } = await load(withTelemetry(`  otlp: ${otlp}\n`));
      assert.deepEqual(result.errors, []);
      return buildTelemetryOptions(result.config!, 'auth')?.otlp?.protocol;
    };
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    assert.equal(await protocolOf('{ endpoint: http://127.0.0.1:4318 }'), 'http/json');
    assert.equal(await protocolOf('{ endpoint: http://127.0.0.1:4317, protocol: grpc }'), 'grpc');
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'grpc';
    assert.equal(await protocolOf('{ endpoint: http://127.0.0.1:4317 }'), 'grpc');
    assert.equal(await protocolOf('{ endpoint: http://127.0.0.1:4318, protocol: http/protobuf }'), 'http/protobuf');
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'thrift';
    const { result } = await load(withTelemetry('  otlp: { endpoint: http://127.0.0.1:4318 }\n'));
    assert.throws(() => buildTelemetryOptions(result.config!, 'auth'), {
      message: 'OTEL_EXPORTER_OTLP_PROTOCOL: "thrift" is not an OTLP protocol: expected one of: http/json, http/protobuf, grpc',
    });
    const { messages } = await load(withTelemetry('  otlp: { endpoint: "http://127.0.0.1:4317/v1", protocol: grpc }\n'));
    const bad = await load(withTelemetry('  otlp: { endpoint: "http://127.0.0.1:4317", protocol: http }\n'));
    assert.deepEqual(
      [...messages, ...bad.messages].map((message) => message.replace(/^grpcforge\.yaml:\d+:\d+: /, '')),
      [
        'telemetry.otlp.endpoint: over grpc the endpoint has no path, for example "http://127.0.0.1:4317", got "http://127.0.0.1:4317/v1"',
        'telemetry.otlp.protocol: expected "http/json" or "http/protobuf" or "grpc", got "http"',
      ],
    );
  });

  test('wrong values are errors with the key path and what was expected', async () => {
    const { messages } = await load(
      withTelemetry(
        [
          '  otlp: { endpoint: "127.0.0.1:4318", intervalMs: 10 }',
          '  traces: "yes"',
          '  prometheus: { listen: "9464", services: { usr: 127.0.0.1:9465 } }',
          '  tracing: true',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(
      messages.map((message) => message.replace(/^grpcforge\.yaml:\d+:\d+: /, '')),
      [
        'telemetry.otlp.endpoint: "127.0.0.1:4318" is not valid: expected an http:// or https:// URL such as "http://127.0.0.1:4318"',
        'telemetry.otlp.intervalMs: Too small: expected number to be >=1000, got 10',
        'telemetry.traces: expected boolean, got "yes"',
        'telemetry.prometheus.listen: "9464" is not valid: expected HOST:PORT, for example "127.0.0.1:9464"',
        'telemetry.tracing: unknown key "tracing" (expected one of: enabled, serviceName, otlp, traces, metrics, prometheus)',
      ],
    );
  });

  test('rules: Prometheus addresses are distinct and name workspace services; a section that exports nothing warns', async () => {
    const clash = await load(withTelemetry('  prometheus: { listen: 127.0.0.1:9464, services: { usr: 127.0.0.1:50051 } }\n'));
    assert.deepEqual(
      clash.result.errors.map((problem) => `${problem.path}: ${problem.message}`),
      [
        'telemetry.prometheus.listen: would be the Prometheus address of "auth", "user": give each its own under telemetry.prometheus.services, or port 0',
        'telemetry.prometheus.services.usr: "usr" is not a service of the workspace (did you mean "user"?)',
      ],
    );
    const onGrpcPort = await load(withTelemetry('  prometheus: { listen: 127.0.0.1:0, services: { user: 127.0.0.1:50051 } }\n'));
    assert.deepEqual(
      onGrpcPort.result.errors.map((problem) => `${problem.path}: ${problem.message}`),
      ['telemetry.prometheus.services.user: "127.0.0.1:50051" is the gRPC address of "auth"'],
    );
    const nothing = await load(withTelemetry('  metrics: false\n'));
    assert.deepEqual(nothing.result.errors, []);
    assert.deepEqual(
      nothing.result.warnings.map((problem) => `${problem.path}: ${problem.message}`),
      ['telemetry: exports nothing: add otlp (an OTLP endpoint, over HTTP or gRPC) or prometheus'],
    );
  });
});
