import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildDescriptorSubset } from '../../src/contract/descriptor-subset.ts';
import { buildContractSet } from '../../src/contract/from-descriptors.ts';
import { loadContract } from '../../src/contract/load-contract.ts';
import type { ContractService } from '../../src/contract/model.ts';
import { handlerFilePath, kebabCase, methodNamesOf, tsProtoServiceNames, uniqueShortNames } from '../../src/contract/names.ts';

/** A contract service with unary RPCs of these names: enough for the naming rules. */
function service(fullName: string, rpcs: readonly string[]): ContractService {
  const dot = fullName.lastIndexOf('.');
  return {
    fullName,
    name: fullName.slice(dot + 1),
    packageName: fullName.slice(0, dot),
    file: 'demo.proto',
    comment: '',
    deprecated: false,
    methods: rpcs.map((name) => ({
      name,
      path: `/${fullName}/${name}`,
      kind: 'unary',
      inputType: 'demo.v1.In',
      outputType: 'demo.v1.Out',
      idempotency: 'unknown',
      comment: '',
      deprecated: false,
    })),
  };
}
import { expandTarget } from '../../packages/runtime/src/client/target.ts';
import { UserError } from '../../src/util/errors.ts';
import { repoRoot, publicContracts, tempDir, writeFiles } from '../helpers/workspace.ts';

/** A buf workspace over a copy of one of the public import roots. */
async function workspaceOver(root: string): Promise<string> {
  const dir = await tempDir();
  await cp(join(publicContracts, root), join(dir, 'proto'), { recursive: true });
  await writeFiles(dir, { 'buf.yaml': 'version: v2\nmodules:\n  - path: proto\n' });
  return dir;
}

describe('contract model from buf build', () => {
  test('route_guide: every RPC kind, comments, fully-qualified names and paths', async () => {
    const dir = await workspaceOver('grpc-node/examples/protos');
    const { contract } = await loadContract(join(dir, 'proto'), dir);
    assert.deepEqual(
      contract.services.map((service) => service.fullName),
      ['helloworld.Greeter', 'routeguide.RouteGuide'],
    );
    const routeGuide = contract.services[1]!;
    assert.equal(routeGuide.comment, 'Interface exported by the server.');
    assert.deepEqual(
      routeGuide.methods.map((method) => [method.path, method.kind, method.inputType, method.outputType]),
      [
        ['/routeguide.RouteGuide/GetFeature', 'unary', 'routeguide.Point', 'routeguide.Feature'],
        ['/routeguide.RouteGuide/ListFeatures', 'serverStreaming', 'routeguide.Rectangle', 'routeguide.Feature'],
        ['/routeguide.RouteGuide/RecordRoute', 'clientStreaming', 'routeguide.Point', 'routeguide.RouteSummary'],
        ['/routeguide.RouteGuide/RouteChat', 'bidiStreaming', 'routeguide.RouteNote', 'routeguide.RouteNote'],
      ],
    );
    assert.match(routeGuide.methods[0]!.comment, /^A simple RPC\.\n\nObtains the feature at a given position\./);
  });

  test('googleapis pubsub: google.api imports resolve; the reflection subset keeps only what a service needs', async () => {
    const dir = await workspaceOver('googleapis');
    const { contract } = await loadContract(join(dir, 'proto'), dir);
    const names = contract.services.map((service) => service.fullName);
    assert.ok(names.includes('google.pubsub.v1.Publisher') && names.includes('google.pubsub.v1.Subscriber'));
    assert.ok(contract.files.some((file) => file.path === 'google/api/annotations.proto'));
    // The subset for reflection holds pubsub.proto and everything it imports, nothing it does not need.
    const subset = buildContractSet(buildDescriptorSubset(contract, ['google.pubsub.v1.Publisher']));
    assert.ok(subset.files.some((file) => file.path === 'google/api/client.proto'));
    assert.ok(!subset.files.some((file) => file.path === 'google/rpc/status.proto'));
  });

  test('the example contracts: idempotency levels and all four kinds', async () => {
    const dir = await tempDir();
    await cp(join(repoRoot, 'templates/workspace/proto'), join(dir, 'proto'), { recursive: true });
    await cp(join(repoRoot, 'templates/vendor'), join(dir, 'proto'), { recursive: true }); // as init vendors it
    await cp(join(repoRoot, 'templates/workspace/buf.yaml'), join(dir, 'buf.yaml'));
    const { contract } = await loadContract(join(dir, 'proto'), dir);
    const methods = contract.services.flatMap((service) => service.methods);
    assert.equal(methods.find((method) => method.name === 'ValidateToken')?.idempotency, 'noSideEffects');
    assert.equal(methods.find((method) => method.name === 'Login')?.idempotency, 'unknown');
    assert.deepEqual([...new Set(methods.map((method) => method.kind))].sort(), [
      'bidiStreaming',
      'clientStreaming',
      'serverStreaming',
      'unary',
    ]);
  });

  test("a malformed contract fails with buf's file:line:col and the workspace-relative path", async () => {
    const dir = await tempDir();
    await writeFiles(dir, {
      'buf.yaml': 'version: v2\nmodules:\n  - path: proto\n',
      'proto/a/v1/a.proto': 'syntax = "proto3";\npackage a.v1;\nmessage A {\n  strin name = 1;\n}\n',
    });
    await assert.rejects(loadContract(join(dir, 'proto'), dir), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.code, 'contract-invalid');
      assert.deepEqual(error.details, ['proto/a/v1/a.proto:4:3: cannot find `strin` in this scope']);
      return true;
    });
  });

  test('no buf.yaml is a clear error', async () => {
    const dir = await tempDir();
    await writeFiles(dir, { 'proto/a.proto': 'syntax = "proto3";\n' });
    await assert.rejects(loadContract(join(dir, 'proto'), dir), /no buf\.yaml in proto or above it/);
  });
});

describe('names', () => {
  test('handler files are kebab-case per RPC, in a folder per fully-qualified service', () => {
    assert.equal(kebabCase('GetHTTPStatus'), 'get-http-status');
    assert.equal(kebabCase('ValidateToken'), 'validate-token');
    assert.equal(
      handlerFilePath(service('auth.v1.AuthService', ['ValidateToken']), { name: 'ValidateToken' }),
      'src/handlers/auth.v1.AuthService/validate-token.ts',
    );
  });

  test('RPCs whose handler files or exports would collide get distinct, deterministic names', () => {
    const names = methodNamesOf(service('demo.v1.Links', ['GetURL', 'Get_Url', 'Delete', 'DeleteHandler', 'Default', 'GetUrl2']));
    assert.deepEqual(
      Object.fromEntries([...names].map(([rpc, { fileName, exportName }]) => [rpc, `${fileName} ${exportName}`])),
      {
        GetURL: 'get-url getURL',
        Get_Url: 'get-url-2 get_Url',
        Delete: 'delete deleteHandler2',
        DeleteHandler: 'delete-handler deleteHandler',
        Default: 'default defaultHandler',
        GetUrl2: 'get-url2 getUrl2',
      },
    );
  });

  test('two RPCs with the same ts-proto key are an error naming both', () => {
    assert.throws(
      () => methodNamesOf(service('demo.v1.Links', ['GetUrl', 'getUrl'])),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.equal(error.code, 'name-clash');
        assert.equal(error.message, 'RPCs "GetUrl" and "getUrl" of demo.v1.Links both have the key "getUrl" in ts-proto\'s code');
        return true;
      },
    );
  });

  test('an RPC named New is refused: ts-proto would declare a construct signature', () => {
    assert.throws(
      () => methodNamesOf(service('demo.v1.Links', ['New'])),
      /RPC "New" of demo\.v1\.Links: ts-proto's interfaces cannot declare a method named "new"/,
    );
  });

  test('services with the same short name get their package as a prefix, others keep theirs', () => {
    const names = uniqueShortNames([
      { name: 'Greeter', packageName: 'alpha.v1', fullName: 'alpha.v1.Greeter' },
      { name: 'Greeter', packageName: 'beta.v1', fullName: 'beta.v1.Greeter' },
      { name: 'AuthService', packageName: 'auth.v1', fullName: 'auth.v1.AuthService' },
    ]);
    assert.deepEqual([...names.values()], ['AlphaV1Greeter', 'BetaV1Greeter', 'AuthService']);
    assert.throws(
      () =>
        uniqueShortNames([
          { name: 'Greeter', packageName: 'a.b', fullName: 'a.b.Greeter' },
          { name: 'Greeter', packageName: 'a_b', fullName: 'a_b.Greeter' },
        ]),
      /services "a\.b\.Greeter" and "a_b\.Greeter" would both export names of "ABGreeter"/,
    );
  });

  test("ts-proto's names: no doubled Service suffix", () => {
    assert.equal(tsProtoServiceNames({ name: 'AuthService' }).implementation, 'AuthServiceImplementation');
    assert.equal(tsProtoServiceNames({ name: 'RouteGuide' }).implementation, 'RouteGuideServiceImplementation');
  });

  test('targets expand ${VAR} and ${VAR:-default} from the environment', () => {
    assert.equal(expandTarget('${ADDR:-dns:///a:1}', {}), 'dns:///a:1');
    assert.equal(expandTarget('${ADDR:-dns:///a:1}', { ADDR: 'b:2' }), 'b:2');
    assert.equal(expandTarget('${HOST}:${PORT:-50051}', { HOST: 'h' }), 'h:50051');
    assert.throws(() => expandTarget('${ADDR}', {}), /environment variable ADDR is not set/);
  });
});

describe('durations', () => {
  test('parse flags and format for people', async () => {
    const { formatDuration, parseDuration } = await import('../../src/util/duration.ts');
    assert.equal(parseDuration('1h', '--since'), 3_600_000);
    assert.equal(parseDuration('30d', '--since'), 30 * 86_400_000);
    assert.equal(parseDuration('250ms', '--since'), 250);
    assert.throws(() => parseDuration('1 hour', '--since'), /--since: "1 hour" is not a duration/);
    assert.equal(formatDuration(3_600_000), '1h');
    assert.equal(formatDuration(93_784_000), '1d 2h');
    assert.equal(formatDuration(65_000), '1m 5s');
    assert.equal(formatDuration(500), '500ms');
  });
});
