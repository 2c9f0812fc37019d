import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { TsProtoServiceDefinition } from 'nice-grpc';
import type * as RuntimeModule from '../../packages/runtime/src/index.ts';
import {
  linkWorkspace,
  publicContracts,
  runCli,
  runProgram,
  startServe,
  tempDir,
  tscPath,
  writeFiles,
} from '../helpers/workspace.ts';

// The README's "Bringing your own contracts", as a user walks it: an empty workspace, the OpenTelemetry collector's
// protos vendored under proto/, buf lint scoped away from them, a service that serves TraceService with a handler of
// its own, called by a generated client.

type Runtime = typeof RuntimeModule;

const SERVICE = 'opentelemetry.proto.collector.trace.v1.TraceService';

const HANDLER = `import type { TraceServiceHandlers } from '../../gen/server/opentelemetry.proto.collector.trace.v1.TraceService.js';

/** Accepts every span, counting them in the response's partial success (none rejected). */
export const exportHandler: TraceServiceHandlers['export'] = async (request) => {
  const spans = request.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
  return { partialSuccess: { rejectedSpans: 0, errorMessage: \`accepted \${spans.length}\` } };
};
`;

describe('bringing your own contracts: an OTLP trace collector from init --empty', () => {
  test('vendored protos fail STANDARD lint until buf.yaml scopes them; then generate, serve and Export work', async () => {
    const ws = join(await tempDir(), 'collector');
    assert.equal(runCli(['init', ws, '--empty'], process.cwd()).code, 0);
    await linkWorkspace(ws);
    await cp(join(publicContracts, 'opentelemetry-proto/opentelemetry'), join(ws, 'proto/opentelemetry'), {
      recursive: true,
    });
    const config = await readFile(join(ws, 'grpcforge.yaml'), 'utf8');
    await writeFile(
      join(ws, 'grpcforge.yaml'),
      config
        .replace(/^services:\n/m, `services:\n  collector:\n    serves: [${SERVICE}]\n    listen: 127.0.0.1:4317\n`)
        .replace(/^ {2}default: authenticated/m, '  default: public'),
    );

    const generate = runCli(['generate'], ws);
    assert.equal(generate.code, 0, generate.stderr);
    // As vendored: buf's STANDARD rules find the upstream names (10 findings with buf 1.74), all in the vendored files.
    const unscoped = runCli(['lint', '--no-drift', '--format', 'json'], ws);
    assert.equal(unscoped.code, 1, unscoped.stderr);
    const findings = (JSON.parse(unscoped.stdout) as { findings: { check: string; file?: string }[] }).findings;
    assert.equal(findings.length, 10, unscoped.stdout);
    assert.ok(findings.every((finding) => finding.check === 'lint' && finding.file?.startsWith('proto/opentelemetry/')));

    // Scoped as the README shows: the path is relative to buf.yaml.
    const bufYaml = await readFile(join(ws, 'buf.yaml'), 'utf8');
    assert.match(bufYaml, /^lint:\n/m);
    await writeFile(join(ws, 'buf.yaml'), bufYaml.replace(/^lint:\n/m, 'lint:\n  ignore:\n    - proto/opentelemetry\n'));
    const scoped = runCli(['lint'], ws);
    assert.equal(scoped.code, 0, scoped.stdout + scoped.stderr);

    // The user's handler replaces the skeleton generate created (user-owned: never overwritten).
    await writeFiles(ws, {
      'services/collector/src/handlers/opentelemetry.proto.collector.trace.v1.TraceService/export.ts': HANDLER,
    });
    const tsc = runProgram(tscPath, ['-p', ws], ws);
    assert.equal(tsc.code, 0, tsc.stdout);
    const server = await startServe(ws, 'collector');
    const runtime = (await import(pathToFileURL(join(ws, 'node_modules/@grpcforge/runtime/dist/index.js')).href)) as Runtime;
    const pb = join(ws, 'services/collector/src/gen/pb/opentelemetry/proto/collector/trace/v1/trace_service.ts');
    const { TraceServiceDefinition } = (await import(pathToFileURL(pb).href)) as Record<string, TsProtoServiceDefinition>;
    const client = runtime.createServiceClient(TraceServiceDefinition!, { target: server.address, deadlineMs: 5000 });
    const span = { traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'GET /' };
    const response = (await (client as unknown as Record<string, (request: object) => Promise<unknown>>).export!({
      resourceSpans: [{ scopeSpans: [{ spans: [span, { ...span, name: 'POST /' }] }] }],
    })) as { partialSuccess?: { errorMessage: string } };
    assert.equal(response.partialSuccess?.errorMessage, 'accepted 2');
    runtime.closeServiceClient(client);
    assert.equal(await server.stop(), 0);
  });
});
