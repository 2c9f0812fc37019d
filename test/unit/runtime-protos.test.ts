import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, tempDir } from '../helpers/workspace.ts';
// @ts-expect-error plain .mjs script
import { RUNTIME_PROTOS_DIR, generateRuntimeProtos } from '../../scripts/build-runtime-protos.mjs';

// The runtime's protobuf-es code of google.rpc.Status and its details (scripts/build-runtime-protos.mjs) is committed:
// it must be what protoc-gen-es writes today from fixtures/contracts/googleapis-rpc, byte for byte.

/** Every file under `dir`, as `relative path → content`. */
function filesUnder(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(
      path
        .slice(dir.length + 1)
        .split('\\')
        .join('/'),
      readFileSync(path, 'utf8'),
    );
  }
  return files;
}

test('the committed packages/runtime/src/gen is what the script generates (run `npm run runtime-protos`)', async () => {
  const out = await tempDir('grpcforge-runtime-protos-');
  (generateRuntimeProtos as (outDir: string) => void)(out);
  const generated = filesUnder(out);
  const committed = filesUnder(join(repoRoot, RUNTIME_PROTOS_DIR as string));
  assert.deepEqual([...committed.keys()].sort(), [...generated.keys()].sort(), 'stale file list: run `npm run runtime-protos`');
  assert.deepEqual([...generated.keys()].sort(), ['google/rpc/error_details_pb.ts', 'google/rpc/status_pb.ts']);
  for (const [path, content] of generated) {
    assert.equal(
      committed.get(path),
      content,
      `${RUNTIME_PROTOS_DIR as string}/${path} is stale: run \`npm run runtime-protos\``,
    );
  }
});
