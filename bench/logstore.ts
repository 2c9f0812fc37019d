// Log store figures, side by side in one run: ingest through the store (LogStore.logs.record → writer thread →
// rows + rollups) against its anchor, raw better-sqlite3 inserting the same rows without secondary indexes in one
// transaction per 1,000 rows; then `stats`, per-method, timeline and stats of one service (medians of 5) at each
// checkpoint (1M rows, ..., 10M rows), with the bytes per row of the file.
//   node --import tsx bench/logstore.ts [--rows 10000000] [--checkpoint 1000000] [--anchor-rows 1000000]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { createLogStore, type CallRecord } from '../src/runtime/index.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    checkpoint: { type: 'string', default: '1000000' },
    'anchor-rows': { type: 'string', default: '1000000' },
  },
});
const rows = Number(values.rows);
const checkpoint = Number(values.checkpoint);
const anchorRows = Number(values['anchor-rows']);
const dir = mkdtempSync(join(tmpdir(), 'grpcforge-bench-'));

// 24 hours of calls, spread evenly whatever the row count: the rollups a 24 h window reads are the same at 1M and 10M.
const methods = ['Login', 'ValidateToken', 'ListSessions', 'GetUser', 'ListUsers', 'ImportUsers', 'SyncUsers'];
const dayMs = 24 * 3_600_000;
const start = Math.floor((Date.now() - dayMs) / 60_000) * 60_000;
function call(index: number): CallRecord {
  return {
    // Time-ordered like the logger's UUIDv7 ids: the request-id index appends.
    requestId: `${String(index).padStart(8, '0')}-0000-7000-8000-000000000000`,
    startedAt: start + Math.floor((index / rows) * dayMs),
    service: index % 7 < 3 ? 'auth.v1.AuthService' : 'user.v1.UserService',
    method: methods[index % 7] ?? 'Login',
    kind: 'unary',
    statusCode: index % 50 === 0 ? 5 : 0,
    durationMs: Math.round(0.05 * Math.exp(((index * 7919) % 100_000) / 10_000) * 1000) / 1000,
    principal: index % 3 === 0 ? 'apiKey:ci-bot' : null,
    apiKeyId: null,
    peer: '127.0.0.1:50000',
    requestBytes: 42,
    responseBytes: 128,
    requestMessages: 1,
    responseMessages: 1,
    errorMessage: index % 50 === 0 ? 'not found' : null,
  };
}

const fileBytes = (path: string) =>
  ['', '-wal'].reduce((sum, suffix) => sum + (statSync(path + suffix, { throwIfNoEntry: false })?.size ?? 0), 0);

// Anchor: the same rows, raw better-sqlite3, no secondary index, one transaction per 1,000 rows.
function anchorIngest(): { rowsPerSecond: number; bytesPerRow: number } {
  const path = join(dir, 'anchor.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`create table request_logs (id integer primary key autoincrement, request_id text not null, started_at bigint not null,
    service text not null, method text not null, kind text not null, status_code integer not null, duration_ms real not null,
    principal text, api_key_id text, peer text, request_bytes integer not null, response_bytes integer not null,
    request_messages integer not null, response_messages integer not null, error_message text)`);
  const insert = db.prepare('insert into request_logs values (null, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const batch = db.transaction((from: number) => {
    for (let index = from; index < from + 1000; index++) {
      const c = call(index);
      insert.run(
        c.requestId,
        c.startedAt,
        c.service,
        c.method,
        c.kind,
        c.statusCode,
        c.durationMs,
        c.principal,
        c.apiKeyId,
        c.peer,
        c.requestBytes,
        c.responseBytes,
        c.requestMessages,
        c.responseMessages,
        c.errorMessage,
      );
    }
  });
  const t0 = performance.now();
  for (let from = 0; from < anchorRows; from += 1000) batch(from);
  const seconds = (performance.now() - t0) / 1000;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { rowsPerSecond: Math.round(anchorRows / seconds), bytesPerRow: Math.round(fileBytes(path) / anchorRows) };
}

const median = async (run: () => Promise<unknown>) => {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return Number((samples[2] ?? 0).toFixed(1));
};

const anchor = anchorIngest();
const path = join(dir, 'store.db');
const store = await createLogStore({ url: `sqlite:${path}`, maxQueue: 200_000, batchSize: 2000 });
const reader = await createLogStore({ url: `sqlite:${path}`, writer: false });
const checkpoints: Record<string, unknown>[] = [];
let chunkStart = performance.now();
for (let index = 0; index < rows; index++) {
  store.logs.record(call(index));
  // The request path never waits; a producer faster than any server would outrun the queue, so it pauses here.
  if (store.counters().queued >= 100_000) await store.flush();
  if ((index + 1) % checkpoint === 0) {
    await store.flush();
    const chunkSeconds = (performance.now() - chunkStart) / 1000;
    const window = { since: start };
    checkpoints.push({
      rows: index + 1,
      ingestRowsPerSecond: Math.round(checkpoint / chunkSeconds),
      bytesPerRow: Math.round(fileBytes(path) / (index + 1)),
      statsMs: await median(() => reader.statistics.summary(window)),
      methodsMs: await median(() => reader.statistics.methods(window)),
      timelineMs: await median(() => reader.statistics.timeline(window, 3_600_000)),
      timeline5mMs: await median(() => reader.statistics.timeline(window, 300_000)),
      statsOneServiceMs: await median(() => reader.statistics.summary({ ...window, service: 'auth.v1.AuthService' })),
      recentErrorsMs: await median(() => reader.logs.list({ ...window, errorsOnly: true, limit: 10 })),
    });
    console.error(JSON.stringify(checkpoints.at(-1)));
    chunkStart = performance.now();
  }
}
const counters = store.counters();
const totals = await reader.statistics.summary({ since: start });
await reader.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify(
    {
      node: process.version,
      anchor,
      checkpoints,
      dropped: counters.dropped,
      totals: { calls: totals.calls, p50Ms: totals.p50Ms, p99Ms: totals.p99Ms },
    },
    null,
    2,
  ),
);
