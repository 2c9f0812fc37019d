import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ChannelCredentials, Server as GrpcServer } from '@grpc/grpc-js';
import { ServiceHostError } from '../../packages/runtime/src/host/host-error.ts';
import {
  GRPC_JS_PATCHES,
  SERVER_FEATURE_PATCHES,
  SUPPORTED_GRPC_JS_RANGE,
  grpcJsVersion,
  patchGrpcJsServer,
  patchIpServername,
  requireGrpcJsServerPatches,
  type ServerPatchFeature,
} from '../../packages/runtime/src/server/grpc-js-patches.ts';
import { repoRoot } from '../helpers/workspace.ts';

const EVERY_FEATURE = Object.keys(SERVER_FEATURE_PATCHES) as ServerPatchFeature[];

describe('grpc-js patches', () => {
  test('every hook is installed on the real grpc-js, once, and every server feature may start', () => {
    const prototype = GrpcServer.prototype as unknown as Record<string, { name: string }>;
    assert.deepEqual(patchGrpcJsServer(), { setupHandlers: true, createHttp2Server: true });
    const setupHandlers = prototype._setupHandlers;
    const createHttp2Server = prototype.createHttp2Server;
    // The wrappers, named after what they wrap, and not wrapped again by a second call.
    assert.equal(setupHandlers?.name, 'setupHandlers');
    assert.equal(createHttp2Server?.name, 'createHttp2Server');
    assert.deepEqual(patchGrpcJsServer(), { setupHandlers: true, createHttp2Server: true });
    assert.equal(prototype._setupHandlers, setupHandlers);
    assert.equal(prototype.createHttp2Server, createHttp2Server);
    requireGrpcJsServerPatches(patchGrpcJsServer(), EVERY_FEATURE);

    const credentials = ChannelCredentials.createSsl();
    assert.equal(patchIpServername(credentials), true);
    const connector = (credentials as unknown as { _createSecureConnector: unknown })._createSecureConnector;
    assert.equal(patchIpServername(credentials), true);
    assert.equal((credentials as unknown as { _createSecureConnector: unknown })._createSecureConnector, connector);
  });

  test('a grpc-js without the hooks refuses every server feature that needs them, naming the hook and the version', () => {
    const serverWithoutHooks = { prototype: {} };
    const patches = patchGrpcJsServer(serverWithoutHooks);
    const version = grpcJsVersion();
    assert.ok(version);
    assert.deepEqual(patches, { setupHandlers: false, createHttp2Server: false });
    for (const feature of EVERY_FEATURE) {
      assert.throws(
        () => requireGrpcJsServerPatches(patches, [feature]),
        (error: unknown) =>
          error instanceof ServiceHostError &&
          error.code === 'grpc-js-unsupported' &&
          error.message ===
            `${SERVER_FEATURE_PATCHES[feature].label} needs grpc-js's Server.prototype._setupHandlers, which @grpc/grpc-js ${version} does not have` &&
          error.hints[0] ===
            `pin @grpc/grpc-js ${SUPPORTED_GRPC_JS_RANGE} (the versions grpcforge supports): npm install @grpc/grpc-js@~1.14`,
      );
    }
    assert.deepEqual(Object.keys(serverWithoutHooks.prototype), []);
  });

  test('a hook of another shape is not patched; a feature needing only the other hook still starts', () => {
    // `_setupHandlers(http2Server)` as grpc-js has it; `createHttp2Server()` without the credentials it takes.
    const createHttp2Server = (): void => undefined;
    const serverWithOldHooks = { prototype: { _setupHandlers: (http2Server: unknown) => http2Server, createHttp2Server } };
    const patches = patchGrpcJsServer(serverWithOldHooks);
    assert.deepEqual(patches, { setupHandlers: true, createHttp2Server: false });
    assert.equal(serverWithOldHooks.prototype.createHttp2Server, createHttp2Server);
    requireGrpcJsServerPatches(patches, ['keepalive-enforcement', 'call-accounting', 'request-stream-closing']);
    assert.throws(
      () => requireGrpcJsServerPatches(patches, ['metadata-budget']),
      new RegExp(
        `^ServiceHostError: the metadata budget \\(limits\\.maxMetadataBytes\\) needs grpc-js's ${GRPC_JS_PATCHES.createHttp2Server.hook.replaceAll('.', '\\.')},`,
      ),
    );
  });

  test('credentials without the secure connector are left as they are', () => {
    const credentials = {};
    assert.equal(patchIpServername(credentials), false);
    assert.deepEqual(Object.getOwnPropertySymbols(credentials), []);
  });

  test('both package.json files pin grpc-js to the range the patches are written for, and that one is installed', async () => {
    for (const file of ['package.json', 'packages/runtime/package.json']) {
      const manifest = JSON.parse(await readFile(join(repoRoot, file), 'utf8')) as { dependencies: Record<string, string> };
      assert.match(manifest.dependencies['@grpc/grpc-js'] ?? '', new RegExp(`^${SUPPORTED_GRPC_JS_RANGE}\\.\\d+$`), file);
    }
    assert.match(grpcJsVersion() ?? '', /^1\.14\.\d+$/);
  });
});
