// The server under attack, in its own process (pinned to CPU 0 by soak.ts): grpcforge's startServer with the echo
// service, API-key auth, the request logger and a SQLite log store on a file, every limit and defence at its default
// (SOAK_SERVER_LIMITS, JSON, is passed as `limits` to try other values). Prints `listening on HOST:PORT`, `key <api
// key>`, then `ready`. Lines on stdin:
//   `stats` -> `stats {json}`: rows stored and distinct methods in the statistics (after a flush), rows by status, the
//              process's open file descriptors, the server's defence counters.
//   `stop`  -> shuts down, closes the store, prints `stopped`, exits.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLogStore, defineService, startServer, type ServerLimits } from '../../packages/runtime/src/index.ts';
import { EchoDefinition, type EchoMessage } from '../../test/helpers/json-definition.ts';
import { createTestApiKey } from '../../test/helpers/api-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'grpcforge-soak-'));
const store = await createLogStore({ url: `sqlite:${join(dir, 'soak.db')}` });
const { key } = await createTestApiKey(store, { name: 'soak' });
const limits = process.env.SOAK_SERVER_LIMITS ? (JSON.parse(process.env.SOAK_SERVER_LIMITS) as ServerLimits) : undefined;
const server = await startServer({
  host: '127.0.0.1',
  port: 0,
  services: [
    defineService(EchoDefinition, {
      echo: async (request: EchoMessage) => ({ text: request.text ?? '' }),
      repeat: async function* () {},
      collect: async () => ({}),
      chat: async function* () {},
    }),
  ],
  recordCall: store.logs.record,
  auth: {
    policy: {},
    apiKeys: { verify: (k) => store.apiKeys.verify(k), countUse: (id, at) => store.apiKeys.countUse(id, at) },
  },
  ...(limits ? { limits } : {}),
  health: false,
  reflection: false,
});

async function stats() {
  await store.flush();
  const byStatus = await store.db
    .selectFrom('request_logs')
    .select(['status_code', (eb) => eb.fn.countAll<number>().as('rows')])
    .groupBy('status_code')
    .execute();
  const methods = await store.statistics.methods({ since: 0 });
  return {
    rows: byStatus.reduce((sum, entry) => sum + entry.rows, 0),
    rowsByStatus: Object.fromEntries(byStatus.map((entry) => [entry.status_code, entry.rows])),
    methods: methods.length,
    fds: readdirSync('/proc/self/fd').length,
    defences: server.defenceCounts(),
  };
}

console.log(`listening on ${server.address}`);
console.log(`key ${key}`);
console.log('ready');
let stopping = false;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stats') void stats().then((figures) => console.log(`stats ${JSON.stringify(figures)}`));
  else if (line === 'stop' && !stopping) {
    stopping = true;
    void server.shutdown(2000).then(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      console.log('stopped');
      process.exit(0);
    });
  }
});
// The parent going away closes stdin: stop too.
process.stdin.on('end', () => {
  if (!stopping) process.exit(0);
});
