// `npm run runtime-protos`: writes packages/runtime/src/gen/google/rpc/*_pb.ts, the protobuf-es code of google.rpc.Status
// and the error details (BadRequest, ErrorInfo, RetryInfo, ...) that the runtime encodes into `grpc-status-details-bin`
// and decodes from it. protoc-gen-es (the generator protobuf-es ships, run through buf as a local plugin) writes them,
// as protobuf-es itself keeps its well-known types: generated once, committed, and checked by a unit test
// (test/unit/runtime-protos.test.ts) that runs this script into a temporary folder and compares.
//
// Source: googleapis' google/rpc/{status,error_details}.proto as copied into fixtures/contracts/googleapis-rpc
// (licence there; the commit in fixtures/contracts/README.md).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, cpSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
/** The generated folder, relative to the repository. */
export const RUNTIME_PROTOS_DIR = 'packages/runtime/src/gen';

/**
 * Generates the runtime's protobuf-es code into `outDir` (absolute).
 * @throws Error with buf's stderr when buf fails
 */
export function generateRuntimeProtos(outDir) {
  const template = {
    version: 'v2',
    plugins: [
      {
        local: join(repoRoot, 'node_modules/.bin/protoc-gen-es'),
        out: outDir,
        opt: ['target=ts', 'import_extension=js'],
      },
    ],
  };
  const buf = join(repoRoot, 'node_modules/.bin/buf');
  const input = join(repoRoot, 'fixtures/contracts/googleapis-rpc');
  const result = spawnSync(buf, ['generate', input, '--template', JSON.stringify(template)], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`buf generate failed: ${result.stderr || result.error}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const staging = mkdtempSync(join(tmpdir(), 'grpcforge-runtime-protos-'));
  try {
    generateRuntimeProtos(staging);
    const target = join(repoRoot, RUNTIME_PROTOS_DIR);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    cpSync(staging, target, { recursive: true });
    process.stdout.write(`wrote ${RUNTIME_PROTOS_DIR}\n`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
