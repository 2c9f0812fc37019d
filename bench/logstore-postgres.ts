// Log store figures on PostgreSQL (issues 11 and 23), side by side in one run: ingest through the store
// (createLogStore({ url }) → store.logs.record → writer thread → rows + rollups) against two anchors: raw `pg` +
// pg-copy-streams writing the same rows with `COPY … FROM STDIN (FORMAT binary)` (encoded as the store encodes them),
// --rows-per-copy rows per COPY, each its own transaction; and raw `pg` inserting them with the store's former
// `INSERT … SELECT FROM unnest(…)` statement, 1,000 rows per statement, each statement its own transaction. Both write
// a plain request_logs-shaped table (no index but the primary key). Then, for stores of each size (24 hours of calls
// however many there are, the calls of bench/logstore.ts), `stats`, breakdown, per-method, timeline, `stats` of one
// service, the latest 50 logs and a lookup by request id (medians and max of --rounds rounds, interleaved), with the
// database size per row and EXPLAIN ANALYZE of the statements read.
//   npx tsx bench/logstore-postgres.ts [--sizes 1000000,10000000] [--rounds 5] [--url postgres://…] [--anchor-rows N]
//     [--unnest-anchor-rows N (0: none)] [--rows-per-copy 50000]
// Without --url (or GRPCFORGE_TEST_PG_URL) it starts a throwaway cluster with durable settings (fsync and
// synchronous_commit on) on a free 127.0.0.1 port, and removes it at the end. With --url, databases are created beside
// that one and dropped at the end.
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createLogStore, type CallRecord } from '../packages/runtime/src/index.ts';
import { COPY_REQUEST_LOGS, encodeRequestLogRows } from '../packages/runtime/src/logstore/dialects/postgres/copy-binary.ts';
import { RowBatchBuilder } from '../packages/runtime/src/logstore/row-batch.ts';
import { coverOf } from '../packages/runtime/src/logstore/statistics.ts';
import { startTestPostgres, type TestPostgres } from '../test/helpers/postgres.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000000,10000000' },
    rounds: { type: 'string', default: '5' },
    url: { type: 'string' },
    'anchor-rows': { type: 'string', default: '1000000' },
    // 0 leaves the unnest anchor out (it takes ~15 s per million rows).
    'unnest-anchor-rows': { type: 'string', default: '1000000' },
    'rows-per-copy': { type: 'string', default: '50000' },
    checkpoint: { type: 'string', default: '1000000' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const rounds = Number(values.rounds);
const anchorRows = Number(values['anchor-rows']);
const unnestAnchorRows = Number(values['unnest-anchor-rows']);
const rowsPerCopy = Number(values['rows-per-copy']);
const checkpoint = Number(values.checkpoint);
const targetMs = 100;
const log = (message: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

// 24 hours of calls, spread evenly whatever the row count (as bench/logstore.ts): a 24 h window reads the same
// rollups at 1M and 10M. The one difference: request ids are UUIDv7s that carry the call's start (as the logger's
// do), so `logs.get` finds them through the time index; the index makes them unique and time-ordered.
const methods = ['Login', 'ValidateToken', 'ListSessions', 'GetUser', 'ListUsers', 'ImportUsers', 'SyncUsers'];
const dayMs = 24 * 3_600_000;
const start = Math.floor((Date.now() - dayMs) / 60_000) * 60_000;
function requestIdOf(index: number, startedAt: number): string {
  const time = startedAt.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7000-8000-${index.toString(16).padStart(12, '0')}`;
}
function call(index: number, total: number): CallRecord {
  const startedAt = start + Math.floor((index / total) * dayMs);
  return {
    requestId: requestIdOf(index, startedAt),
    startedAt,
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

const clockTick = 100; // USER_HZ on Linux
/** CPU seconds of a thread or process from /proc (utime + stime); 0 when unreadable (another host). */
function procCpuSeconds(path: string): number {
  try {
    const fields = readFileSync(path, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTick;
  } catch {
    return 0;
  }
}
/** CPU seconds of this process: its main thread, and every other thread (the writer worker, GC, libuv). */
function ownCpu(): { main: number; others: number } {
  let total = 0;
  for (const tid of readdirSync('/proc/self/task')) total += procCpuSeconds(`/proc/self/task/${tid}/stat`);
  const main = procCpuSeconds(`/proc/self/task/${process.pid}/stat`);
  return { main, others: total - main };
}
/** CPU seconds of the server's processes this cluster lists (backends, WAL writer, checkpointer, …), by pid. */
async function serverCpu(client: pg.Client): Promise<Map<number, number>> {
  const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity');
  return new Map(rows.map(({ pid }) => [pid, procCpuSeconds(`/proc/${pid}/stat`)]));
}
const cpuSince = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, seconds]) => sum + (before.has(pid) ? seconds - (before.get(pid) ?? 0) : seconds), 0);
const walLsn = async (client: pg.Client) =>
  (await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]?.lsn ?? '0/0';
const walBytes = async (client: pg.Client, from: string) =>
  Number((await client.query<{ n: string }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::bigint as n', [from])).rows[0]?.n);
const databaseBytes = async (client: pg.Client) =>
  Number((await client.query<{ n: string }>('select pg_database_size(current_database()) as n')).rows[0]?.n);
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** What an ingest cost: wall time, rows/s, CPU per row on each side, WAL bytes per row. */
interface IngestCost {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  clientCpuUsPerRow: { main: number; otherThreads: number };
  serverCpuUsPerRow: number;
  walBytesPerRow: number;
}
async function measured(client: pg.Client, rows: number, work: () => Promise<void>): Promise<IngestCost> {
  const lsn = await walLsn(client);
  const server = await serverCpu(client);
  const own = ownCpu();
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const ownAfter = ownCpu();
  const serverSeconds = cpuSince(server, await serverCpu(client));
  const us = (value: number) => Number(((value * 1e6) / rows).toFixed(1));
  return {
    rows,
    seconds: Number(seconds.toFixed(1)),
    rowsPerSecond: Math.round(rows / seconds),
    clientCpuUsPerRow: { main: us(ownAfter.main - own.main), otherThreads: us(ownAfter.others - own.others) },
    serverCpuUsPerRow: us(serverSeconds),
    walBytesPerRow: Math.round((await walBytes(client, lsn)) / rows),
  };
}

/** An anchor's table: `request_logs`' first 15 columns with only the primary key, then `moreColumns` (SQL). */
const createAnchorTable = (client: pg.Client, moreColumns = '') =>
  client.query(`create table request_logs (id bigserial primary key, request_id text not null,
    started_at bigint not null, service text not null, method text not null, kind text not null,
    status_code integer not null, duration_ms double precision not null, principal text, api_key_id text, peer text,
    request_bytes integer not null default 0, response_bytes integer not null default 0,
    request_messages integer not null default 0, response_messages integer not null default 0,
    error_message text${moreColumns})`);

/** Anchor: the same rows, raw pg, request_logs' shape with only the primary key, 1,000 rows per statement, autocommit. */
async function anchorIngest(url: string, rows: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await createAnchorTable(client);
    const insert = `insert into request_logs (request_id, started_at, service, method, kind, status_code, duration_ms,
        principal, api_key_id, peer, request_bytes, response_bytes, request_messages, response_messages, error_message)
      select * from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::integer[],
        $7::double precision[], $8::text[], $9::text[], $10::text[], $11::integer[], $12::integer[], $13::integer[],
        $14::integer[], $15::text[])`;
    const cost = await measured(client, rows, async () => {
      for (let from = 0; from < rows; from += 1000) {
        const calls = Array.from({ length: Math.min(1000, rows - from) }, (_, i) => call(from + i, rows));
        const column = <K extends keyof CallRecord>(key: K) => calls.map((c) => c[key]);
        await client.query(insert, [
          column('requestId'),
          column('startedAt'),
          column('service'),
          column('method'),
          column('kind'),
          column('statusCode'),
          column('durationMs'),
          column('principal'),
          column('apiKeyId'),
          column('peer'),
          column('requestBytes'),
          column('responseBytes'),
          column('requestMessages'),
          column('responseMessages'),
          column('errorMessage'),
        ]);
      }
    });
    const bytes = await databaseBytes(client);
    return { ...cost, bytesPerRow: Math.round(bytes / rows) };
  } finally {
    await client.end();
  }
}

/**
 * Anchor at COPY speed: the same rows, raw pg + pg-copy-streams, `COPY … FROM STDIN (FORMAT binary)` into a table of
 * `request_logs`' full shape (19 columns) with only the primary key, `rowsPerCopy` rows per COPY, each COPY its own
 * transaction (autocommit). The rows are built and encoded as the store does (RowBatchBuilder, the store's encoder),
 * so the client side costs what the store's does; no rollups, no secondary index, no writer thread.
 */
async function copyAnchorIngest(url: string, rows: number, rowsPerCopy: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await createAnchorTable(client, ', trace_id text, raw_path text, error_reason text, violation_field text');
    const cost = await measured(client, rows, async () => {
      for (let from = 0; from < rows; from += rowsPerCopy) {
        const builder = new RowBatchBuilder(rowsPerCopy);
        for (let index = from; index < Math.min(from + rowsPerCopy, rows); index++) builder.push(call(index, rows));
        const chunks = [...encodeRequestLogRows([builder.take()])];
        const stream = client.query(copyFrom(COPY_REQUEST_LOGS));
        for (const chunk of chunks) stream.write(chunk);
        stream.end();
        await finished(stream);
      }
    });
    const bytes = await databaseBytes(client);
    return { ...cost, rowsPerCopy, bytesPerRow: Math.round(bytes / rows) };
  } finally {
    await client.end();
  }
}

/** Runs every query once per round, round r starting at query r; median and max of each, in ms. */
async function timeQueries(queries: Record<string, () => Promise<unknown>>) {
  const names = Object.keys(queries);
  const samples = new Map<string, number[]>(names.map((name) => [name, []]));
  for (const name of names) await queries[name]?.(); // warm-up: plans, connections, the buffer cache
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length] ?? '';
      const t0 = performance.now();
      await queries[name]?.();
      samples.get(name)?.push(performance.now() - t0);
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const sorted = (samples.get(name) ?? []).sort((a, b) => a - b);
      const medianMs = Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1));
      return [name, { medianMs, maxMs: Number((sorted.at(-1) ?? 0).toFixed(1)), ok: medianMs <= targetMs }];
    }),
  );
}

/** EXPLAIN (ANALYZE, BUFFERS) of a statement: the plan's lines. */
async function explain(client: pg.Client, statement: string, parameters: unknown[] = []): Promise<string[]> {
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${statement}`, parameters);
  return rows.map((row) => row['QUERY PLAN']);
}

async function storeRun(url: string, size: number) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const store = await createLogStore({ url });
  try {
    const chunkRates: number[] = [];
    let chunkStart = performance.now();
    const ingest = await measured(admin, size, async () => {
      for (let index = 0; index < size; index++) {
        store.logs.record(call(index, size));
        // The queue holds 100,000 rows: the producer (faster than any server) waits for the writer every ~50,000.
        if (store.counters().queued >= 50_000) await store.flush();
        if ((index + 1) % checkpoint === 0) {
          await store.flush();
          chunkRates.push(Math.round(checkpoint / ((performance.now() - chunkStart) / 1000)));
          log(
            `${size} rows: ${index + 1} written, last ${checkpoint} at ${chunkRates.at(-1) ?? 0} rows/s (load ${loadAverage()})`,
          );
          chunkStart = performance.now();
        }
      }
      await store.flush();
    });
    const counters = store.counters();
    const count = async (table: 'request_logs' | 'call_rollups') =>
      Number((await admin.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]?.n);
    const rollupRows = await count('call_rollups');
    const storedRows = await count('request_logs');
    const bytes = await databaseBytes(admin);
    const tableBytes = Object.fromEntries(
      (
        await admin.query<{ name: string; bytes: string }>(
          `select relname as name, pg_total_relation_size(oid) as bytes from pg_class
           where relname in ('request_logs', 'call_rollups') order by relname`,
        )
      ).rows.map((row) => [row.name, Math.round(Number(row.bytes) / size)]),
    );

    const window = { since: start };
    const oneService = { since: start, service: 'auth.v1.AuthService' };
    const lookup = call(Math.floor(size / 2), size);
    const totals = await store.statistics.summary(window);
    const found = await store.logs.get(lookup.requestId);
    // The statement behind `stats`, as the store sends it (explained on the admin connection below).
    const rollupSql = store.db
      .selectFrom('call_rollups')
      .select([
        'bucket_start',
        'service',
        'method',
        'status_code',
        'calls',
        'duration_sum_ms',
        'duration_min_ms',
        'duration_max_ms',
        'request_bytes',
        'response_bytes',
        'latency_sketch',
      ])
      .where((eb) =>
        eb.or(
          coverOf(window.since, undefined).map((cover) =>
            eb.and([
              eb('bucket_ms', '=', cover.bucketMs),
              eb('bucket_start', '>=', cover.from),
              ...(cover.to === undefined ? [] : [eb('bucket_start', '<', cover.to)]),
            ]),
          ),
        ),
      )
      .compile();
    const queries = await timeQueries({
      stats: () => store.statistics.summary(window),
      breakdown: () => store.statistics.breakdown(window),
      methods: () => store.statistics.methods(window),
      timeline1h: () => store.statistics.timeline(window, 3_600_000),
      statsOneService: () => store.statistics.summary(oneService),
      list50: () => store.logs.list({ limit: 50 }),
      getById: () => store.logs.get(lookup.requestId),
      // Not a target: the rollup rows `stats` reads, fetched without decoding (SQL + transfer + pg's parsing).
      rollupFetch24h: () => store.db.executeQuery(rollupSql),
    });

    const rollupRowsRead = Number(
      (await admin.query<{ n: string }>(`select count(*) as n from (${rollupSql.sql}) r`, [...rollupSql.parameters])).rows[0]?.n,
    );
    const plans = {
      stats: await explain(admin, rollupSql.sql, [...rollupSql.parameters]),
      list50: await explain(admin, 'select * from request_logs order by id desc limit 50'),
      getById: await explain(admin, 'select * from request_logs where started_at = $1 and request_id = $2', [
        lookup.startedAt,
        lookup.requestId,
      ]),
    };
    const activity = (
      await admin.query<{ relname: string; last_autovacuum: Date | null; last_autoanalyze: Date | null }>(
        `select relname, last_autovacuum, last_autoanalyze from pg_stat_user_tables where relname in ('request_logs', 'call_rollups')`,
      )
    ).rows;
    return {
      rows: size,
      ingest: { ...ingest, chunkRowsPerSecond: chunkRates },
      recorded: counters.recorded,
      written: counters.written,
      dropped: counters.dropped,
      droppedBy: counters.droppedBy,
      storedRows,
      rollupRows,
      rollupRowsRead24h: rollupRowsRead,
      databaseBytes: bytes,
      bytesPerRow: Math.round(bytes / size),
      tableBytesPerRow: tableBytes,
      totals: { calls: totals.calls, p50Ms: totals.p50Ms, p99Ms: totals.p99Ms },
      lookupFound: found?.requestId === lookup.requestId,
      queries,
      plans,
      autovacuum: activity,
    };
  } finally {
    await store.close();
    await admin.end();
  }
}

async function main() {
  if (values.url) process.env.GRPCFORGE_TEST_PG_URL = values.url;
  log(`load average before: ${loadAverage()}`);
  const loadBefore = loadAverage();
  let server: TestPostgres | undefined;
  const databases: string[] = [];
  const stop = async () => {
    const current = server;
    server = undefined;
    if (!current) return;
    // Databases beside a given server are dropped; a throwaway cluster goes with its databases.
    if (values.url) {
      const client = new pg.Client({ connectionString: values.url });
      await client.connect();
      for (const url of databases) await client.query(`drop database if exists ${new URL(url).pathname.slice(1)}`);
      await client.end();
    }
    await current.stop();
  };
  const onSignal = () => {
    log('interrupted: stopping the cluster');
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    server = await startTestPostgres({ fast: false });
    log(`PostgreSQL: ${server.origin}`);
    const infoUrl = await server.createDatabase('bench_info');
    databases.push(infoUrl);
    const versionClient = new pg.Client({ connectionString: infoUrl });
    await versionClient.connect();
    const settings = (
      await versionClient.query<{ name: string; setting: string }>(
        `select name, setting from pg_settings where name in ('server_version', 'fsync', 'synchronous_commit',
          'full_page_writes', 'shared_buffers', 'wal_level', 'max_wal_size', 'checkpoint_timeout')`,
      )
    ).rows.map(({ name, setting }) => `${name}=${setting}`);
    await versionClient.end();

    const anchorUrl = await server.createDatabase('bench_anchor');
    databases.push(anchorUrl);
    log(`COPY anchor: ${anchorRows} rows, ${rowsPerCopy} per COPY`);
    const anchor = await copyAnchorIngest(anchorUrl, anchorRows, rowsPerCopy);
    log(`COPY anchor: ${JSON.stringify(anchor)}`);
    let unnestAnchor: Awaited<ReturnType<typeof anchorIngest>> | undefined;
    if (unnestAnchorRows > 0) {
      const unnestUrl = await server.createDatabase('bench_anchor_unnest');
      databases.push(unnestUrl);
      log(`unnest anchor: ${unnestAnchorRows} rows`);
      unnestAnchor = await anchorIngest(unnestUrl, unnestAnchorRows);
      log(`unnest anchor: ${JSON.stringify(unnestAnchor)}`);
    }
    const runs: Awaited<ReturnType<typeof storeRun>>[] = [];
    for (const size of sizes) {
      const url = await server.createDatabase(`bench_store_${size}`);
      databases.push(url);
      log(`store: ${size} rows (load ${loadAverage()})`);
      const run = await storeRun(url, size);
      runs.push(run);
      log(`store ${size}: ${JSON.stringify({ ...run, plans: undefined })}`);
      for (const [name, plan] of Object.entries(run.plans)) log(`plan ${name} @${size}:\n  ${plan.join('\n  ')}`);
    }
    const loadAfter = loadAverage();
    log(`load average after: ${loadAfter}`);
    const ratio = (rate: number) => Number((rate / anchor.rowsPerSecond).toFixed(2));
    console.log(
      JSON.stringify(
        {
          node: process.version,
          postgres: settings,
          load: { before: loadBefore, after: loadAfter },
          anchor,
          unnestAnchor,
          runs: runs.map((run) => ({
            ...run,
            storeToAnchor: ratio(run.ingest.rowsPerSecond),
            ...(unnestAnchor
              ? { storeToUnnestAnchor: Number((run.ingest.rowsPerSecond / unnestAnchor.rowsPerSecond).toFixed(2)) }
              : {}),
          })),
        },
        null,
        2,
      ),
    );
  } finally {
    await stop();
  }
}

await main();
