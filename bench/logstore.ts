// Log store figures: batched ingest through LogStore.record (rows/s), then `stats` (totals, exact p50/p95/p99,
// per method, timeline) over 1,000,000 rows in a SQLite file.
//   node --import tsx bench/logstore.ts [--rows 1000000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createLogStore, type RequestLogRecord } from '../src/runtime/index.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } });
const rows = Number(values.rows);
const dir = mkdtempSync(join(tmpdir(), 'grpcforge-bench-'));
const store = await createLogStore({ url: `sqlite:${join(dir, 'bench.db')}`, maxQueue: 1_000_000, batchSize: 1000 });

const methods = ['Login', 'ValidateToken', 'ListSessions', 'GetUser', 'ListUsers', 'ImportUsers', 'SyncUsers'];
const start = Date.now() - 24 * 3_600_000;
function row(index: number): RequestLogRecord {
  return {
    request_id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    started_at: start + Math.floor((index / rows) * 24 * 3_600_000),
    service: index % 7 < 3 ? 'auth.v1.AuthService' : 'user.v1.UserService',
    method: methods[index % 7]!,
    kind: 'unary',
    status_code: index % 50 === 0 ? 5 : 0,
    duration_ms: ((index * 7919) % 100_000) / 1000,
    principal: index % 3 === 0 ? 'apiKey:ci-bot' : null,
    api_key_id: null,
    peer: '127.0.0.1:50000',
    request_bytes: 42,
    response_bytes: 128,
    request_messages: 1,
    response_messages: 1,
    error_message: index % 50 === 0 ? 'not found' : null,
  };
}

// Ingest: record() as the request logger does, flushing as the writer's timer would.
const ingestStart = performance.now();
for (let index = 0; index < rows; index++) {
  store.record(row(index));
  if (index % 50_000 === 49_999) await store.flush();
}
await store.flush();
const ingestSeconds = (performance.now() - ingestStart) / 1000;
const counters = store.counters();

const time = async (label: string, run: () => Promise<unknown>) => {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return [label, Number(samples[2]!.toFixed(1))] as const;
};
const since = { since: start };
const timings = Object.fromEntries([
  await time('statsMs', () => store.stats(since)),
  await time('methodStatsMs', () => store.methodStats(since)),
  await time('timelineMs', () => store.timeline(3_600_000, since)),
  await time('recentErrorsMs', () => store.logs({ ...since, errorsOnly: true, limit: 10 })),
  await time('statsOneServiceMs', () => store.stats({ ...since, service: 'auth.v1.AuthService' })),
]);
const totals = await store.stats(since);
await store.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify(
    {
      node: process.version,
      rows,
      ingestRowsPerSecond: Math.round(counters.written / ingestSeconds),
      dropped: counters.dropped,
      ...timings,
      totals,
    },
    null,
    2,
  ),
);
