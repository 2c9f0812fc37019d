// A benchmark server in its own process: `bare` is plain nice-grpc; `pipeline` is grpcforge's startServer with
// the full pipeline (request logger -> API-key auth -> error mapping) and a SQLite log store.
// Prints `listening on 127.0.0.1:PORT`, then `key <api key>` for the pipeline; on SIGTERM prints the store counters.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'nice-grpc';
import { createLogStore, defineService, startServer } from '../src/runtime/index.ts';
import { EchoDefinition, type EchoMessage } from '../test/helpers/json-definition.ts';

const implementation = {
  echo: async (request: EchoMessage) => ({ text: request.text }),
  repeat: async function* () {},
  collect: async () => ({}),
  chat: async function* () {},
};

// SIGUSR2 prints this process's CPU time so far (user + system, µs): the bench reads it before and after a run.
process.on('SIGUSR2', () => {
  const { user, system } = process.cpuUsage();
  console.log(`cpu ${user + system}`);
});

const mode = process.argv[2];
if (mode === 'bare') {
  const server = createServer();
  server.add(EchoDefinition as never, implementation as never);
  const port = await server.listen('127.0.0.1:0');
  console.log(`listening on 127.0.0.1:${port}`);
  process.on('SIGTERM', () => void server.shutdown().then(() => process.exit(0)));
} else if (mode === 'pipeline') {
  const dir = mkdtempSync(join(tmpdir(), 'grpcforge-bench-'));
  const store = await createLogStore({
    url: `sqlite:${join(dir, 'bench.db')}`,
    flushIntervalMs: Number(process.env.BENCH_FLUSH_MS ?? 100),
    batchSize: Number(process.env.BENCH_BATCH ?? 500),
  });
  const { key } = await store.createApiKey({ name: 'bench' });
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    services: [defineService(EchoDefinition as never, implementation as never)],
    ...(process.env.BENCH_NO_LOG ? {} : { recordCall: store.record }),
    ...(process.env.BENCH_NO_AUTH
      ? {}
      : {
          auth: {
            policy: {},
            apiKeys: { verify: (k) => store.verifyApiKey(k), countUse: (id, at) => store.countApiKeyUse(id, at) },
          },
        }),
    health: false,
    reflection: false,
  });
  console.log(`listening on ${server.address}`);
  console.log(`key ${key}`);
  process.on(
    'SIGTERM',
    () =>
      void server.shutdown(5000).then(async () => {
        await store.close();
        console.log(`counters ${JSON.stringify(store.counters())}`);
        process.exit(0);
      }),
  );
} else {
  console.error('usage: server.ts bare|pipeline');
  process.exit(2);
}
