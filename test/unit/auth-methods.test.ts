import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkAuthMethodKeys, type KnownService } from '../../src/config/auth-methods.ts';
import { formatConfigProblem, loadConfig, locateConfigProblems } from '../../src/config/load.ts';
import type { ResolvedMethodRule } from '../../src/config/resolved.ts';
import { checkServiceNamesExist } from '../../src/config/rules.ts';
import { checkServedAuthMethods, knownServicesOf } from '../../src/cli/served-auth-methods.ts';
import { tempDir, writeFiles } from '../helpers/workspace.ts';

// auth.methods keys name services and RPCs that exist: a renamed or misspelt method must not silently lose its rule.

const CONTRACTS: KnownService[] = [
  { fullName: 'auth.v1.AuthService', methods: ['Login', 'ValidateToken', 'ListSessions'] },
  { fullName: 'user.v1.UserService', methods: ['GetUser', 'ListUsers'] },
];

const keys = (...names: string[]): Record<string, ResolvedMethodRule> =>
  Object.fromEntries(names.map((name) => [name, 'public' as const]));
const messages = (problems: { path: string; message: string }[]) =>
  problems.map((problem) => `${problem.path}: ${problem.message}`);

describe('auth.methods keys against the contracts', () => {
  test('existing methods and services, exact and wildcard, pass', () => {
    assert.deepEqual(
      checkAuthMethodKeys(keys('auth.v1.AuthService/Login', 'user.v1.UserService/*'), CONTRACTS, { source: 'in proto/' }),
      [],
    );
  });

  const cases: [string, string, string][] = [
    [
      'a misspelt method',
      'auth.v1.AuthService/Logn',
      'auth.methods["auth.v1.AuthService/Logn"]: "Logn" is not an RPC of auth.v1.AuthService (did you mean "auth.v1.AuthService/Login"?)',
    ],
    [
      'a renamed method',
      'auth.v1.AuthService/SignIn',
      'auth.methods["auth.v1.AuthService/SignIn"]: "SignIn" is not an RPC of auth.v1.AuthService (RPCs: Login, ValidateToken, ListSessions)',
    ],
    [
      'a misspelt service',
      'auth.v1.AuthServce/Login',
      'auth.methods["auth.v1.AuthServce/Login"]: "auth.v1.AuthServce" is not a service in proto/ (did you mean "auth.v1.AuthService/Login"?)',
    ],
    [
      'a misspelt service with a wildcard',
      'user.v1.UserServic/*',
      'auth.methods["user.v1.UserServic/*"]: "user.v1.UserServic" is not a service in proto/ (did you mean "user.v1.UserService/*"?)',
    ],
    [
      'a service without its package',
      'AuthService/Login',
      'auth.methods["AuthService/Login"]: "AuthService" is not a service in proto/ (did you mean "auth.v1.AuthService/Login"?)',
    ],
    [
      'an unknown service',
      'billing.v1.BillingService/Charge',
      'auth.methods["billing.v1.BillingService/Charge"]: "billing.v1.BillingService" is not a service in proto/ (known: auth.v1.AuthService, user.v1.UserService)',
    ],
    [
      'a health key',
      'grpc.health.v1.Health/Check',
      'auth.methods["grpc.health.v1.Health/Check"]: "grpc.health.v1.Health/Check" has no effect: health and reflection are always public (remove the key)',
    ],
    [
      'a reflection key',
      'grpc.reflection.v1alpha.ServerReflection/*',
      'auth.methods["grpc.reflection.v1alpha.ServerReflection/*"]: "grpc.reflection.v1alpha.ServerReflection/*" has no effect: health and reflection are always public (remove the key)',
    ],
  ];
  for (const [name, key, expected] of cases) {
    test(`rejects ${name}`, () => {
      assert.deepEqual(messages(checkAuthMethodKeys(keys(key), CONTRACTS, { source: 'in proto/' })), [expected]);
    });
  }

  test('without RPC names only the service part is checked', () => {
    const servicesOnly = CONTRACTS.map(({ fullName }) => ({ fullName }));
    assert.deepEqual(
      messages(
        checkAuthMethodKeys(keys('auth.v1.AuthService/Anything', 'auth.v1.AuthServce/Login'), servicesOnly, {
          source: 'in proto/',
        }),
      ),
      [
        'auth.methods["auth.v1.AuthServce/Login"]: "auth.v1.AuthServce" is not a service in proto/ (did you mean "auth.v1.AuthService/Login"?)',
      ],
    );
  });

  test('generate and lint: checkServiceNamesExist reports the keys at their line and column', async () => {
    const dir = await tempDir();
    const yaml = [
      'version: 1',
      'services:',
      '  auth:',
      '    serves: [auth.v1.AuthService]',
      '    listen: 127.0.0.1:0',
      'auth:',
      '  methods:',
      '    auth.v1.AuthService/Login: public',
      '    auth.v1.AuthService/ListSesions: { roles: [admin] }',
      "    'user.v1.UserServce/*': authenticated",
      '',
    ].join('\n');
    await writeFiles(dir, { 'grpcforge.yaml': yaml });
    const path = join(dir, 'grpcforge.yaml');
    const { config } = await loadConfig(path);
    const rpcs = (service: string) => CONTRACTS.find((known) => known.fullName === service)?.methods ?? [];
    const problems = checkServiceNamesExist(
      config!,
      CONTRACTS.map((known) => known.fullName),
      'proto/',
      rpcs,
    );
    const located = await locateConfigProblems(path, problems);
    assert.deepEqual(
      located.map((problem) => formatConfigProblem(path, problem, dir)),
      [
        'grpcforge.yaml:9:5: auth.methods["auth.v1.AuthService/ListSesions"]: "ListSesions" is not an RPC of auth.v1.AuthService (did you mean "auth.v1.AuthService/ListSessions"?)',
        'grpcforge.yaml:10:5: auth.methods["user.v1.UserServce/*"]: "user.v1.UserServce" is not a service in proto/ (did you mean "user.v1.UserService/*"?)',
      ],
    );
  });
});

describe('serve: auth.methods keys against the loaded definitions', () => {
  /** ts-proto-shaped definitions: what `serve` has (it does not run buf). */
  const definition = (fullName: string, ...methods: string[]) => ({
    name: fullName.slice(fullName.lastIndexOf('.') + 1),
    fullName,
    methods: Object.fromEntries(methods.map((method) => [method.charAt(0).toLowerCase() + method.slice(1), { name: method }])),
  });
  const served = [definition('auth.v1.AuthService', 'Login', 'ValidateToken')];

  async function configWith(methods: string[]) {
    const dir = await tempDir();
    const yaml =
      'version: 1\nservices:\n  auth:\n    serves: [auth.v1.AuthService]\n    listen: 127.0.0.1:0\n' +
      '  user:\n    serves: [user.v1.UserService]\n    listen: 127.0.0.1:1\n    consumes:\n      - auth.v1.AuthService\n      - { service: billing.v1.BillingService, target: billing:443 }\n' +
      `auth:\n  methods:\n${methods.map((key) => `    '${key}': public\n`).join('')}`;
    await writeFiles(dir, { 'grpcforge.yaml': yaml });
    const { config, errors } = await loadConfig(join(dir, 'grpcforge.yaml'));
    assert.deepEqual(errors, []);
    return config!;
  }

  test('knownServicesOf reads fullName and methods[*].name, skipping other shapes', () => {
    assert.deepEqual(knownServicesOf([...served, { notADefinition: true }]), [
      { fullName: 'auth.v1.AuthService', methods: ['Login', 'ValidateToken'] },
    ]);
  });

  const cases: [string, string[], string[]][] = [
    ['keys of what it serves that exist', ['auth.v1.AuthService/Login', 'auth.v1.AuthService/*'], []],
    ['keys of services served or consumed elsewhere', ['user.v1.UserService/Nope', 'billing.v1.BillingService/Charge'], []],
    ['a key of an unknown service that is no typo of a served one', ['inventory.v1.StockService/Reserve'], []],
    [
      'a method the generated code does not have',
      ['auth.v1.AuthService/Logon'],
      [
        'auth.methods["auth.v1.AuthService/Logon"]: "Logon" is not an RPC of auth.v1.AuthService (did you mean "auth.v1.AuthService/Login"?)',
      ],
    ],
    [
      'a typo of a served service',
      ['auth.v1.AuthServic/Login'],
      [
        'auth.methods["auth.v1.AuthServic/Login"]: "auth.v1.AuthServic" is not a service that "auth" serves (did you mean "auth.v1.AuthService/Login"?)',
      ],
    ],
    [
      'a health key',
      ['grpc.health.v1.Health/Check'],
      [
        'auth.methods["grpc.health.v1.Health/Check"]: "grpc.health.v1.Health/Check" has no effect: health and reflection are always public (remove the key)',
      ],
    ],
  ];
  for (const [name, methods, expected] of cases) {
    test(name, async () => {
      const config = await configWith(methods);
      const service = config.services.find((candidate) => candidate.name === 'auth')!;
      assert.deepEqual(messages(checkServedAuthMethods(config, service, served)), expected);
    });
  }
});
