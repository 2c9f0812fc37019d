import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { bufPath, linkWorkspace, runCli, runProgram, startServe, tempDir, type ServeProcess } from '../helpers/workspace.ts';

// A `grpcforge serve` process lists and describes gRPC health and reflection (buf curl and grpcforge call reach them
// without any .proto), and `grpcforge call` refuses a method name that is not exactly pkg.Service/Method of the server.

describe('grpcforge serve: health and reflection through reflection; grpcforge call: method names', () => {
  let ws: string;
  let auth: ServeProcess;

  before(async () => {
    ws = join(await tempDir(), 'platform');
    assert.equal(runCli(['init', ws], process.cwd()).code, 0);
    await linkWorkspace(ws);
    assert.equal(runCli(['generate'], ws).code, 0);
    auth = await startServe(ws, 'auth');
  });

  const curl = (...args: string[]) => runProgram(bufPath, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args], ws);

  test('buf curl lists health and both reflection services (v1 and v1alpha) and calls Health/Check', () => {
    for (const protocol of ['grpc-v1', 'grpc-v1alpha']) {
      const list = curl('--reflect-protocol', protocol, '--list-services', `http://${auth.address}`);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(list.stdout.trim().split('\n').sort(), [
        'auth.v1.AuthService',
        'grpc.health.v1.Health',
        'grpc.reflection.v1.ServerReflection',
        'grpc.reflection.v1alpha.ServerReflection',
      ]);
      const methods = curl('--reflect-protocol', protocol, '--list-methods', `http://${auth.address}`);
      assert.equal(methods.code, 0, methods.stderr);
      const described = methods.stdout.trim().split('\n');
      for (const method of [
        'grpc.health.v1.Health/Check',
        'grpc.health.v1.Health/Watch',
        'grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
      ]) {
        assert.ok(described.includes(method), `${method} in\n${methods.stdout}`);
      }
    }
    const check = curl('-d', '{"service":"auth.v1.AuthService"}', `http://${auth.address}/grpc.health.v1.Health/Check`);
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(JSON.parse(check.stdout), { status: 'SERVING' });
    const overall = curl(`http://${auth.address}/grpc.health.v1.Health/Check`);
    assert.equal(overall.code, 0, overall.stderr);
    assert.deepEqual(JSON.parse(overall.stdout), { status: 'SERVING' });
  });

  test('grpcforge call reaches Health/Check and lists health and reflection', () => {
    const check = runCli(['call', auth.address, 'grpc.health.v1.Health/Check', '-d', '{"service":"auth.v1.AuthService"}'], ws);
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(JSON.parse(check.stdout), { status: 'SERVING' });
    const list = runCli(['call', auth.address, '--list'], ws);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.ok(
      lines.includes(
        'grpc.health.v1.Health/Check  (unary: grpc.health.v1.HealthCheckRequest -> grpc.health.v1.HealthCheckResponse)',
      ),
      list.stdout,
    );
    assert.ok(
      lines.includes(
        'grpc.health.v1.Health/Watch  (server-streaming: grpc.health.v1.HealthCheckRequest -> grpc.health.v1.HealthCheckResponse)',
      ),
      list.stdout,
    );
    assert.ok(
      lines.includes(
        'grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo  (bidi-streaming: grpc.reflection.v1alpha.ServerReflectionRequest -> grpc.reflection.v1alpha.ServerReflectionResponse)',
      ),
      list.stdout,
    );
  });

  // Each wrong name and the exact stderr: exit 2, one line, never a stack trace.
  const cases: [string, string][] = [
    [
      'Health/Check',
      'grpcforge: "Health/Check" is not a fully-qualified method: expected pkg.Service/Method (did you mean "grpc.health.v1.Health/Check"?)',
    ],
    [
      'Check',
      'grpcforge: "Check" is not a fully-qualified method: expected pkg.Service/Method (did you mean "grpc.health.v1.Health/Check"?)',
    ],
    [
      'grpc.health.v1.Health.Check',
      'grpcforge: "grpc.health.v1.Health.Check" is not a fully-qualified method: expected pkg.Service/Method (did you mean "grpc.health.v1.Health/Check"?)',
    ],
    [
      'grpc.health.v1.Helth/Check',
      'grpcforge: no service "grpc.health.v1.Helth" on the server (did you mean "grpc.health.v1.Health/Check"?)',
    ],
    [
      'auth.v1.AuthService/Logn',
      'grpcforge: auth.v1.AuthService has no method "Logn" (did you mean "auth.v1.AuthService/Login"?)',
    ],
    [
      'billing.v1.BillingService/Charge',
      'grpcforge: no service "billing.v1.BillingService" on the server\n' +
        '  services: auth.v1.AuthService, grpc.health.v1.Health, grpc.reflection.v1.ServerReflection, grpc.reflection.v1alpha.ServerReflection (list them with --list)',
    ],
  ];
  for (const [target, expected] of cases) {
    test(`call ${target}: exit 2 with a hint`, () => {
      const result = runCli(['call', auth.address, target], ws);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr.trim(), expected);
      assert.equal(result.stdout, '');
    });
  }
});
