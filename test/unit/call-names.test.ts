import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveMethodName, splitMethodName, type ServiceMethods } from '../../src/call/method-names.ts';
import { UserError } from '../../src/util/errors.ts';

// `grpcforge call`'s method argument: exactly pkg.Service/Method, anything else an error with a did-you-mean hint.

const SERVER: ServiceMethods[] = [
  { service: 'auth.v1.AuthService', methods: ['Login', 'ValidateToken', 'ListSessions'] },
  { service: 'grpc.health.v1.Health', methods: ['Check', 'List', 'Watch'] },
  { service: 'grpc.reflection.v1.ServerReflection', methods: ['ServerReflectionInfo'] },
  { service: 'grpc.reflection.v1alpha.ServerReflection', methods: ['ServerReflectionInfo'] },
  { service: 'user.v1.UserService', methods: ['GetUser', 'ListUsers'] },
  { service: 'Greeter', methods: ['SayHello'] }, // a file without a package
];

/** The message and detail lines a user sees (`grpcforge: message`, then `  detail`). */
function failure(target: string, where?: string): string {
  try {
    resolveMethodName(target, SERVER, where);
  } catch (error) {
    assert.ok(error instanceof UserError, String(error));
    assert.equal(error.code, 'unknown-method');
    return [error.message, ...error.details.map((line) => `  ${line}`)].join('\n');
  }
  assert.fail(`"${target}" resolved`);
}

describe('grpcforge call method names', () => {
  test('pkg.Service/Method, with or without a leading slash, and a service without a package', () => {
    assert.deepEqual(resolveMethodName('grpc.health.v1.Health/Check', SERVER), {
      service: 'grpc.health.v1.Health',
      method: 'Check',
      path: '/grpc.health.v1.Health/Check',
    });
    assert.equal(resolveMethodName('/auth.v1.AuthService/Login', SERVER).path, '/auth.v1.AuthService/Login');
    assert.equal(resolveMethodName('Greeter/SayHello', SERVER).path, '/Greeter/SayHello');
  });

  test('splitMethodName only splits the pkg.Service/Method shape', () => {
    assert.deepEqual(splitMethodName('/a.v1.S/M'), { service: 'a.v1.S', method: 'M' });
    for (const target of ['Check', 'a.v1.S.M', 'a/b/c', 'a.v1.S/', '/M', 'a.v1.S/M N'])
      assert.equal(splitMethodName(target), undefined, target);
  });

  const cases: [string, string, string][] = [
    [
      'a service without its package',
      'Health/Check',
      '"Health/Check" is not a fully-qualified method: expected pkg.Service/Method (did you mean "grpc.health.v1.Health/Check"?)',
    ],
    [
      'a bare method',
      'Check',
      '"Check" is not a fully-qualified method: expected pkg.Service/Method (did you mean "grpc.health.v1.Health/Check"?)',
    ],
    [
      'the dotted form',
      'grpc.health.v1.Health.Check',
      '"grpc.health.v1.Health.Check" is not a fully-qualified method: expected pkg.Service/Method (did you mean "grpc.health.v1.Health/Check"?)',
    ],
    [
      'a bare method two services have',
      'ServerReflectionInfo',
      '"ServerReflectionInfo" is not a fully-qualified method: expected pkg.Service/Method (did you mean "grpc.reflection.v1.ServerReflection/ServerReflectionInfo" or "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"?)',
    ],
    [
      'a misspelt bare method',
      'GetUsr',
      '"GetUsr" is not a fully-qualified method: expected pkg.Service/Method (did you mean "user.v1.UserService/GetUser"?)',
    ],
    [
      'the wrong case',
      'grpc.health.v1.health/check',
      'no service "grpc.health.v1.health" on the server (did you mean "grpc.health.v1.Health/Check"?)',
    ],
    [
      'a misspelt service',
      'grpc.health.v1.Helth/Check',
      'no service "grpc.health.v1.Helth" on the server (did you mean "grpc.health.v1.Health/Check"?)',
    ],
    [
      'another package of a known short name',
      'health.Health/Watch',
      'no service "health.Health" on the server (did you mean "grpc.health.v1.Health/Watch"?)',
    ],
    [
      'a misspelt method',
      'user.v1.UserService/GetUsr',
      'user.v1.UserService has no method "GetUsr" (did you mean "user.v1.UserService/GetUser"?)',
    ],
    [
      'an unknown method',
      'user.v1.UserService/DeleteEverything',
      'user.v1.UserService has no method "DeleteEverything"\n  methods: GetUser, ListUsers',
    ],
    [
      'an unknown service',
      'billing.v1.BillingService/Charge',
      'no service "billing.v1.BillingService" on the server\n  services: Greeter, auth.v1.AuthService, grpc.health.v1.Health, grpc.reflection.v1.ServerReflection, grpc.reflection.v1alpha.ServerReflection, user.v1.UserService (list them with --list)',
    ],
    [
      'a short name with no likely meaning',
      'Nothing/Here',
      '"Nothing/Here" is not a fully-qualified method: expected pkg.Service/Method\n  services: Greeter, auth.v1.AuthService, grpc.health.v1.Health, grpc.reflection.v1.ServerReflection, grpc.reflection.v1alpha.ServerReflection, user.v1.UserService (list them with --list)',
    ],
    [
      'a known service with a method it does not have',
      'Health/Login',
      '"Health/Login" is not a fully-qualified method: expected pkg.Service/Method\n  services: Greeter, auth.v1.AuthService, grpc.health.v1.Health, grpc.reflection.v1.ServerReflection, grpc.reflection.v1alpha.ServerReflection, user.v1.UserService (list them with --list)',
    ],
    [
      'too many slashes',
      'a/b/c',
      '"a/b/c" is not a fully-qualified method: expected pkg.Service/Method\n  services: Greeter, auth.v1.AuthService, grpc.health.v1.Health, grpc.reflection.v1.ServerReflection, grpc.reflection.v1alpha.ServerReflection, user.v1.UserService (list them with --list)',
    ],
  ];
  for (const [name, target, expected] of cases) {
    test(`rejects ${name}: ${target}`, () => assert.equal(failure(target), expected));
  }

  test('names where the services came from', () => {
    assert.equal(
      failure('grpc.health.v1.Helth/Check', 'in the workspace contracts'),
      'no service "grpc.health.v1.Helth" in the workspace contracts (did you mean "grpc.health.v1.Health/Check"?)',
    );
  });
});
