// Log store figures, side by side in one run: ingest through the store (LogStore.logs.record → writer thread →
// rows + rollups) against its anchor, raw better-sqlite3 inserting the same rows without secondary indexes in one
// transaction per 1,000 rows; then, for stores of each size (24 hours of calls however many there are), `stats`,
// per-method, timeline and stats of one service (medians of 5), with the bytes per row of the file.
//   node --import tsx bench/logstore.ts [--sizes 1000000,10000000] [--checkpoint 1000000] [--anchor-rows 1000000]
// With --retention-days N: N days of load at --rows per day with retention of one day, pruning after each day as
// `serve` does (at open and hourly); prints the file size after each day (freed pages are reused: it should level).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { createLogStore, type CallRecord } from '../packages/runtime/src/index.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000000,10000000' },
    rows: { type: 'string', default: '1000000' },
    checkpoint: { type: 'string', default: '1000000' },
    'anchor-rows': { type: 'string', default: '1000000' },
    'retention-days': { type: 'string' },
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
function call(index: number, total = rows): CallRecord {
  return {
    // Time-ordered like the logger's UUIDv7 ids: the request-id index appends.
    requestId: `${String(index).padStart(8, '0')}-0000-7000-8000-000000000000`,
    startedAt: start + Math.floor((index / total) * dayMs),
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

const median = async (run: () => Promise<unknown>, rounds = 5) => {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return Number((samples[Math.floor(rounds / 2)] ?? 0).toFixed(1));
};

if (values['retention-days'] !== undefined) {
  const days = Number(values['retention-days']);
  const path = join(dir, 'retention.db');
  const sizes: Record<string, unknown>[] = [];
  for (let day = 0; day < days; day++) {
    // Day `day` of `days`, ending now: the store keeps one day, so older days are pruned when it reopens.
    const dayStart = Date.now() - (days - day) * dayMs;
    const store = await createLogStore({ url: `sqlite:${path}`, maxQueue: 200_000, batchSize: 2000, retentionMs: dayMs });
    for (let index = 0; index < rows; index++) {
      store.logs.record({
        ...call(index),
        startedAt: dayStart + Math.floor((index / rows) * dayMs),
        requestId: `${day}-${index}`,
      });
      if (store.counters().queued >= 100_000) await store.flush();
    }
    await store.close();
    const pruned = await createLogStore({ url: `sqlite:${path}`, retentionMs: dayMs });
    await pruned.close(); // waits for the prune that started at open
    const reader = await createLogStore({ url: `sqlite:${path}`, writer: false });
    const kept = (await reader.statistics.summary({ since: 0 })).calls;
    await reader.close();
    sizes.push({ day: day + 1, rowsKept: kept, fileMiB: Number((fileBytes(path) / 1_048_576).toFixed(1)) });
    console.error(JSON.stringify(sizes.at(-1)));
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ node: process.version, rowsPerDay: rows, retentionDays: 1, sizes }, null, 2));
  process.exit(0);
}

const anchor = anchorIngest();
const runs: Record<string, unknown>[] = [];
for (const size of values.sizes.split(',').map(Number)) {
  const path = join(dir, `store-${size}.db`);
  const store = await createLogStore({ url: `sqlite:${path}`, maxQueue: 200_000, batchSize: 2000 });
  const chunkRates: number[] = [];
  const fillStart = performance.now();
  let chunkStart = fillStart;
  for (let index = 0; index < size; index++) {
    store.logs.record(call(index, size));
    // The request path never waits; a producer faster than any server would outrun the queue, so it pauses here.
    if (store.counters().queued >= 100_000) await store.flush();
    if ((index + 1) % checkpoint === 0) {
      await store.flush();
      chunkRates.push(Math.round(checkpoint / ((performance.now() - chunkStart) / 1000)));
      console.error(`${size} rows: ${index + 1} written, last ${checkpoint} at ${chunkRates.at(-1) ?? 0} rows/s`);
      chunkStart = performance.now();
    }
  }
  await store.flush();
  const ingestRowsPerSecond = Math.round(size / ((performance.now() - fillStart) / 1000));
  const counters = store.counters();
  await store.close();
  const reader = await createLogStore({ url: `sqlite:${path}`, writer: false });
  const window = { since: start };
  const totals = await reader.statistics.summary(window);
  runs.push({
    rows: size,
    ingestRowsPerSecond,
    chunkRowsPerSecond: chunkRates,
    dropped: counters.dropped,
    bytesPerRow: Math.round(fileBytes(path) / size),
    rollupRows: (
      await reader.db
        .selectFrom('call_rollups')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
    statsMs: await median(() => reader.statistics.summary(window)),
    methodsMs: await median(() => reader.statistics.methods(window)),
    timeline1hMs: await median(() => reader.statistics.timeline(window, 3_600_000)),
    timeline5mMs: await median(() => reader.statistics.timeline(window, 300_000)),
    statsOneServiceMs: await median(() => reader.statistics.summary({ ...window, service: 'auth.v1.AuthService' })),
    exactStatsMs: await median(() => reader.statistics.exactSummary(window), 1), // seconds at 10M: one run
    recentErrorsMs: await median(() => reader.logs.list({ ...window, errorsOnly: true, limit: 10 })),
    totals: { calls: totals.calls, p50Ms: totals.p50Ms, p99Ms: totals.p99Ms },
  });
  console.error(JSON.stringify(runs.at(-1)));
  await reader.close();
  rmSync(path, { force: true });
}
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ node: process.version, anchor, runs }, null, 2));
