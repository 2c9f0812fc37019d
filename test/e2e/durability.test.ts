import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import type { TsProtoServiceDefinition } from 'nice-grpc';
import type * as RuntimeModule from '../../packages/runtime/src/index.ts';
import { linkWorkspace, runCli, publicContracts, startServe, tempDir, writeFiles } from '../helpers/workspace.ts';

// The log store under a real `grpcforge serve` process: SIGTERM during load loses no row; kill -9 during load
// leaves a database that passes integrity_check and keeps every row committed before the kill.

type Runtime = typeof RuntimeModule;
let ws: string;
let runtime: Runtime;
let Greeter: TsProtoServiceDefinition;

const SLOW_HANDLER = `import type { GreeterHandlers } from '../../gen/server/helloworld.Greeter.js';

/** Answers after 30 ms, so calls are in flight when the server is stopped. */
export const sayHello: GreeterHandlers['sayHello'] = async (request) => {
  await new Promise((resolve) => setTimeout(resolve, 30));
  return { message: \`Hello \${request.name}\` };
};
`;

function countRows(): number {
  return count('select count(*) as n from request_logs');
}

/** Calls in the minute rollups: the writer commits them with their rows, so they always agree. */
function countRolledUp(): number {
  return count('select coalesce(sum(calls), 0) as n from call_rollups where bucket_ms = 60000');
}

function count(query: string): number {
  const db = new Database(join(ws, '.grpcforge/grpcforge.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(query).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('log store durability under a real server', () => {
  before(async () => {
    ws = await tempDir();
    await cp(join(publicContracts, 'grpc-node/examples/protos/helloworld.proto'), join(ws, 'proto/helloworld.proto'));
    await writeFiles(ws, {
      'buf.yaml': 'version: v2\nmodules:\n  - path: proto\n',
      'package.json': '{ "private": true, "type": "module" }\n',
      'grpcforge.yaml':
        'version: 1\nservices:\n  greeter:\n    serves: [helloworld.Greeter]\n    listen: 127.0.0.1:0\nauth:\n  default: public\n',
      'services/greeter/src/handlers/helloworld.Greeter/say-hello.ts': SLOW_HANDLER,
    });
    await cp(join(process.cwd(), 'templates/workspace/buf.gen.yaml'), join(ws, 'buf.gen.yaml'));
    await linkWorkspace(ws);
    const generate = runCli(['generate'], ws);
    assert.equal(generate.code, 0, generate.stderr);
    runtime = (await import(pathToFileURL(join(ws, 'node_modules/@grpcforge/runtime/dist/index.js')).href)) as Runtime;
    const pb = (await import(pathToFileURL(join(ws, 'services/greeter/src/gen/pb/helloworld.ts')).href)) as Record<
      string,
      TsProtoServiceDefinition
    >;
    Greeter = pb.GreeterDefinition!;
  });

  test('SIGTERM the moment serve says "listening on": it drains and exits 0, every time', async () => {
    // A supervisor may signal as soon as it reads the line: the handler must already be installed.
    for (let round = 0; round < 6; round++) {
      const server = await startServe(ws, 'greeter', {}, ['--no-log-store']);
      assert.equal(await server.stop(), 0, `round ${round}: ${server.stderr()}`);
      assert.match(server.stderr(), /SIGTERM: draining in-flight calls/);
    }
  });

  test('SIGTERM during load: every call that reached a method is a row', async () => {
    const server = await startServe(ws, 'greeter');
    const client = runtime.createServiceClient(Greeter, { target: server.address }) as unknown as {
      sayHello(request: { name: string }): Promise<{ message: string }>;
    };
    await client.sayHello({ name: 'warm-up' }); // connect first, so the load is really in flight
    const calls = Array.from({ length: 1500 }, (_, index) => client.sayHello({ name: `n${index}` }));
    await new Promise((resolve) => setTimeout(resolve, 40));
    const exit = server.stop();
    const results = await Promise.allSettled(calls);
    assert.equal(await exit, 0);
    const answered = results.filter((result) => result.status === 'fulfilled').length;
    assert.ok(answered > 100, `calls were in flight when SIGTERM came (${answered} answered)`);
    // Calls that never reached a method (refused after shutdown began) are UNAVAILABLE and are not rows.
    for (const result of results) {
      if (result.status === 'rejected') assert.equal(runtime.Status[(result.reason as { code: number }).code], 'UNAVAILABLE');
    }
    assert.equal(countRows(), answered + 1);
    assert.equal(countRolledUp(), answered + 1);
    runtime.closeServiceClient(client);
  });

  test('kill -9 during load: integrity_check passes and every committed row is kept', async () => {
    const before = countRows();
    const server = await startServe(ws, 'greeter');
    const client = runtime.createServiceClient(Greeter, { target: server.address }) as unknown as {
      sayHello(request: { name: string }): Promise<unknown>;
    };
    const stop = new AbortController();
    const load = (async () => {
      while (!stop.signal.aborted) await Promise.allSettled(Array.from({ length: 200 }, () => client.sayHello({ name: 'x' })));
    })();
    let committed = before;
    const deadline = Date.now() + 10_000;
    while (committed < before + 1000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      committed = countRows(); // a second connection sees only committed transactions
    }
    assert.ok(committed >= before + 1000, `rows were committed during the load (${committed - before})`);
    process.kill(server.pid, 'SIGKILL');
    stop.abort();
    await load;
    runtime.closeServiceClient(client);
    const db = new Database(join(ws, '.grpcforge/grpcforge.db'));
    try {
      assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
      const after = (db.prepare('select count(*) as n from request_logs').get() as { n: number }).n;
      assert.ok(after >= committed, `kept ${after} of ${committed} committed rows`);
      const rolledUp = (db.prepare('select sum(calls) as n from call_rollups where bucket_ms = 60000').get() as { n: number }).n;
      assert.equal(rolledUp, after, 'rows and rollups are committed in one transaction');
    } finally {
      db.close();
    }
  });
});
