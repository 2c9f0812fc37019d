import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, SqliteDialect, type KyselyPlugin, type Migration } from 'kysely';
import { createApiKey } from '../../packages/runtime/src/logstore/api-keys.ts';
import type { CallRecord } from '../../packages/runtime/src/logstore/call-record.ts';
import { createLogStore } from '../../packages/runtime/src/logstore/create-log-store.ts';
import { createRequestId } from '../../packages/runtime/src/logstore/request-id.ts';
import { LogWriter, startWriterWorker, workerTransport } from '../../packages/runtime/src/logstore/log-writer.ts';
import { createMigration0001 } from '../../packages/runtime/src/logstore/migrations/0001_initial.ts';
import { sqliteDialect } from '../../packages/runtime/src/logstore/dialects/sqlite/dialect.ts';
import { migration0002 } from '../../packages/runtime/src/logstore/migrations/0002_stats_indexes.ts';
import { repoRoot, tempDir } from '../helpers/workspace.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

function call(index: number, overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    requestId: `r${index}`,
    startedAt: T0 + index * 1000,
    service: 'auth.v1.AuthService',
    method: index % 2 === 0 ? 'Login' : 'ValidateToken',
    kind: 'unary',
    statusCode: index % 10 === 0 ? 16 : 0,
    durationMs: index,
    principal: null,
    apiKeyId: null,
    peer: '127.0.0.1:1',
    requestBytes: 10,
    responseBytes: 20,
    requestMessages: 1,
    responseMessages: 1,
    errorMessage: index % 10 === 0 ? 'unauthenticated' : null,
    traceId: null,
    rawPath: null,
    errorReason: null,
    violationField: null,
    ...overrides,
  };
}

const within = (actual: number, expected: number, relative: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= relative * expected,
    `${what}: ${actual} is not within ${relative * 100}% of ${expected}`,
  );

describe('log store (SQLite file, writer thread)', () => {
  test('rows and rollups are committed by the writer thread, counted, and read back after a reopen', async () => {
    const url = `sqlite:${join(await tempDir(), 'store/logs.db')}`;
    const store = await createLogStore({ url, batchSize: 7, flushIntervalMs: 5 });
    for (let index = 1; index <= 100; index++) assert.equal(store.logs.record(call(index)), true);
    await store.close();
    assert.deepEqual(store.counters(), {
      recorded: 100,
      written: 100,
      dropped: 0,
      droppedBy: { queueFull: 0, writeError: 0, storeGone: 0 },
      queued: 0,
    });

    const reopened = await createLogStore({ url, writer: false });
    const window = { since: T0 };
    const summary = await reopened.statistics.summary(window);
    assert.equal(summary.calls, 100);
    assert.equal(summary.ok, 90);
    assert.equal(summary.errors, 10);
    assert.equal(summary.successRate, 0.9);
    assert.equal(summary.avgMs, 50.5);
    assert.equal(summary.minMs, 1);
    assert.equal(summary.maxMs, 100);
    assert.equal(summary.requestBytes, 1000);
    assert.deepEqual(summary.byStatus, [
      { statusCode: 0, calls: 90 },
      { statusCode: 16, calls: 10 },
    ]);
    within(summary.p50Ms, 50, 0.02, 'p50');
    within(summary.p99Ms, 99, 0.02, 'p99');
    assert.equal(summary.exact, false);
    const exact = await reopened.statistics.exactSummary(window);
    assert.deepEqual([exact.p50Ms, exact.p95Ms, exact.p99Ms, exact.calls, exact.exact], [50, 95, 99, 100, true]);

    const methods = await reopened.statistics.methods(window);
    assert.deepEqual(
      methods.map((m) => [m.method, m.calls, m.errors]),
      [
        ['Login', 50, 10],
        ['ValidateToken', 50, 0],
      ],
    );
    // 100 calls one second apart from 10:00:01: minutes 10:00 (59 calls) and 10:01 (41).
    const timeline = await reopened.statistics.timeline(window, 60_000);
    assert.deepEqual(
      timeline.map((bucket) => [bucket.start - T0, bucket.calls]),
      [
        [0, 59],
        [60_000, 41],
      ],
    );
    const hourly = await reopened.statistics.timeline(window, 3_600_000);
    assert.deepEqual(
      hourly.map((bucket) => [bucket.start, bucket.calls]),
      [[T0, 100]],
    );
    await assert.rejects(reopened.statistics.timeline(window, 1000), /whole number of minutes/);

    const errors = await reopened.logs.list({ errorsOnly: true, limit: 3 });
    assert.deepEqual(
      errors.map((log) => log.requestId),
      ['r100', 'r90', 'r80'],
    );
    const next = await reopened.logs.list({ errorsOnly: true, limit: 3, beforeId: errors.at(-1)?.id ?? 0 });
    assert.deepEqual(
      next.map((log) => log.requestId),
      ['r70', 'r60', 'r50'],
    );
    const one = await reopened.logs.get('r42'); // not a UUIDv7: found by a scan
    assert.deepEqual(one && { ...one, id: 0 }, { ...call(42), id: 0 });
    const v7 = await reopened.logs.get(createRequestId(T0 + 7000)); // the right time, another random part
    assert.equal(v7, undefined);
    assert.equal((await reopened.statistics.summary({ since: T0 + 60_000 })).calls, 41);
    assert.equal((await reopened.statistics.summary({ since: T0, service: 'auth.v1.AuthService', method: 'Login' })).calls, 50);
    await reopened.close();
  });

  test('a call is found by its request id through the time index (the id is a UUIDv7 of its start)', async () => {
    const store = await createLogStore({ url: 'sqlite::memory:' });
    const timed = call(1, { requestId: createRequestId(T0 + 1000) });
    store.logs.record(timed);
    store.logs.record(call(2, { requestId: createRequestId(T0 + 1000) }));
    await store.flush();
    assert.deepEqual(await store.logs.get(timed.requestId), { ...timed, id: 1 });
    const query = store.db
      .selectFrom('request_logs')
      .select('id')
      .where('started_at', '=', T0 + 1000)
      .where('request_id', '=', timed.requestId)
      .compile();
    const plan = await store.db.executeQuery(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
    assert.match(JSON.stringify(plan.rows), /USING INDEX request_logs_started_at/);
    await store.close();
  });

  test('percentiles from rollups stay within 1% of the exact ones on a known distribution', async () => {
    const store = await createLogStore({ url: 'sqlite::memory:', batchSize: 5000 });
    // Log-uniform durations from 0.05 ms to 5 s over 6 hours and 3 methods: minute and hour rollups both in play.
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let index = 0; index < 60_000; index++) {
      const durationMs = 0.05 * Math.exp(random() * Math.log(100_000));
      store.logs.record(call(index, { startedAt: T0 + index * 360, durationMs, method: `M${index % 3}`, statusCode: 0 }));
    }
    await store.flush();
    for (const window of [
      { since: T0 },
      { since: T0 + 17 * 60_000, until: T0 + 4 * 3_600_000 + 5 * 60_000 },
      { since: T0, method: 'M1' },
    ]) {
      const sketched = await store.statistics.summary(window);
      const exact = await store.statistics.exactSummary(window);
      assert.equal(sketched.calls, exact.calls);
      assert.ok(sketched.calls > 10_000);
      within(sketched.p50Ms, exact.p50Ms, 0.01, 'p50');
      within(sketched.p95Ms, exact.p95Ms, 0.01, 'p95');
      within(sketched.p99Ms, exact.p99Ms, 0.01, 'p99');
      within(sketched.avgMs, exact.avgMs, 1e-9, 'avg');
    }
    await store.close();
  });

  test('retention deletes old rows and rollups in chunks, keeping recent ones', async () => {
    const url = `sqlite:${join(await tempDir(), 'retention.db')}`;
    const store = await createLogStore({ url });
    const now = Date.now();
    for (let index = 0; index < 12_000; index++) store.logs.record(call(index, { startedAt: now - 3 * 86_400_000 + index }));
    store.logs.record(call(99_999, { startedAt: now - 60_000 }));
    await store.close();
    const reopened = await createLogStore({ url, retentionMs: 86_400_000 });
    await reopened.close(); // waits for the prune that started at open
    const check = await createLogStore({ url, writer: false });
    assert.deepEqual(
      (await check.logs.list()).map((log) => log.requestId),
      ['r99999'],
    );
    assert.equal((await check.statistics.summary({ since: 0 })).calls, 1);
    await check.close();
  });

  test('a full queue drops and counts instead of growing, with the reason', async () => {
    const errors: string[] = [];
    const store = await createLogStore({
      url: 'sqlite::memory:',
      maxQueue: 10,
      batchSize: 1000,
      flushIntervalMs: 10_000,
      onError: (message) => errors.push(message),
    });
    let accepted = 0;
    for (let index = 0; index < 25; index++) if (store.logs.record(call(index))) accepted++;
    assert.equal(accepted, 10);
    await store.flush();
    const counters = store.counters();
    assert.equal(counters.written, 10);
    assert.deepEqual(counters.droppedBy, { queueFull: 15, writeError: 0, storeGone: 0 });
    assert.equal(errors.length, 1, 'reported once');
    assert.match(errors[0] ?? '', /queue is full/);
    await store.close();
  });

  test('a store written by the previous version is migrated: rollups backfilled from its rows', async () => {
    const path = join(await tempDir(), 'v2.db');
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(path) }) });
    const previous = {
      '0001_initial': createMigration0001(sqliteDialect.columnTypes),
      '0002_stats_indexes': migration0002,
    } satisfies Record<string, Migration>;
    const { error } = await new Migrator({ db: old, provider: { getMigrations: async () => previous } }).migrateToLatest();
    assert.equal(error, undefined);
    const rows = Array.from({ length: 500 }, (_, index) => {
      const record = call(index + 1);
      return {
        request_id: record.requestId,
        started_at: record.startedAt,
        service: record.service,
        method: record.method,
        kind: record.kind,
        status_code: record.statusCode,
        duration_ms: record.durationMs,
        principal: null,
        api_key_id: null,
        peer: record.peer,
        request_bytes: 10,
        response_bytes: 20,
        request_messages: 1,
        response_messages: 1,
        error_message: record.errorMessage,
      };
    });
    await (old as Kysely<{ request_logs: (typeof rows)[number] }>).insertInto('request_logs').values(rows).execute();
    await old.destroy();

    const store = await createLogStore({ url: `sqlite:${path}`, writer: false });
    const summary = await store.statistics.summary({ since: 0 });
    assert.equal(summary.calls, 500);
    assert.equal(summary.errors, 50);
    within(summary.p50Ms, 250, 0.01, 'p50');
    const indexes = await store.db
      .selectFrom('sqlite_master' as never)
      .select(['name' as never, 'sql' as never])
      .where('type' as never, '=', 'index' as never)
      .where('tbl_name' as never, '=', 'request_logs' as never)
      .orderBy('name' as never)
      .execute();
    // An OK call costs one index append: the only other index (errors by reason) holds failed calls only.
    assert.deepEqual(
      (indexes as { name: string; sql: string }[]).map((index) => [index.name, /where "status_code" <> 0$/.test(index.sql)]),
      [
        ['request_logs_errors', true],
        ['request_logs_started_at', false],
      ],
      'no index over every row exists only for statistics',
    );
    await store.close();
  });

  test('two stores writing one file (two serve processes) lose no count: rollups of the same keys merge', async () => {
    const url = `sqlite:${join(await tempDir(), 'shared.db')}`;
    const [first, second] = [
      await createLogStore({ url, flushIntervalMs: 1 }),
      await createLogStore({ url, flushIntervalMs: 1 }),
    ];
    for (let index = 0; index < 2000; index++) {
      (index % 2 === 0 ? first : second).logs.record(call(index % 100, { requestId: `s${index}` }));
      if (index % 250 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await Promise.all([first.close(), second.close()]);
    const store = await createLogStore({ url, writer: false });
    const summary = await store.statistics.summary({ since: 0 });
    assert.equal(summary.calls, 2000);
    const exact = await store.statistics.exactSummary({ since: 0 });
    assert.equal(exact.calls, 2000);
    within(summary.p50Ms, exact.p50Ms, 0.01, 'p50');
    await store.close();
  });

  test('a write lock held by another connection delays rows, not this thread; the batch is retried, not dropped', async () => {
    const path = join(await tempDir(), 'locked.db');
    const store = await createLogStore({ url: `sqlite:${path}`, flushIntervalMs: 5 });
    const other = new Database(path);
    other.pragma('busy_timeout = 0');
    other.exec('begin immediate');
    let maxGapMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    }, 5);
    for (let index = 0; index < 50; index++) {
      store.logs.record(call(index));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(store.counters().written, 0, 'nothing is written while the lock is held');
    other.exec('commit');
    other.close();
    await store.flush();
    clearInterval(ticker);
    assert.equal(store.counters().written, 50);
    assert.equal(store.counters().dropped, 0);
    assert.ok(maxGapMs < 200, `the event loop stalled for ${maxGapMs.toFixed(0)} ms`);
    await store.close();
  });

  test('a database file deleted while the store is open is reported, and its rows counted as dropped', async () => {
    const path = join(await tempDir(), 'gone.db');
    const errors: string[] = [];
    const store = await createLogStore({ url: `sqlite:${path}`, flushIntervalMs: 5, onError: (message) => errors.push(message) });
    store.logs.record(call(1));
    await store.flush();
    rmSync(path);
    for (let index = 2; index <= 5; index++) store.logs.record(call(index));
    await store.flush();
    assert.equal(store.counters().written, 1);
    assert.deepEqual(store.counters().droppedBy, { queueFull: 0, writeError: 0, storeGone: 4 });
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /gone\.db was deleted or replaced while the store was open/);
    await store.close();
  });

  test('a writer thread that dies is reported once; later rows are counted as dropped', async () => {
    const path = join(await tempDir(), 'died.db');
    await (await createLogStore({ url: `sqlite:${path}`, writer: false })).close(); // migrated
    const errors: string[] = [];
    const writer = new LogWriter({ batchSize: 10, flushIntervalMs: 1000, onError: (message) => errors.push(message) });
    const worker = startWriterWorker({ dialect: sqliteDialect.module, location: path });
    writer.attach(workerTransport(writer, worker));
    for (let index = 0; index < 10; index++) writer.record(call(index));
    await writer.flush();
    for (let index = 10; index < 25; index++) writer.record(call(index)); // one batch in flight, five queued
    await worker.terminate();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(writer.record(call(99)), false);
    const counters = writer.counters();
    assert.equal(counters.recorded, 26);
    assert.equal(counters.written + counters.dropped, 26);
    assert.ok(counters.droppedBy.storeGone >= 6, JSON.stringify(counters));
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /writer thread exited/);
    await writer.close();
  });
});

describe('a store that cannot be written', () => {
  test('is a clear error when it opens, naming the file and what to check (read-only file, run as a user who may not write it)', async () => {
    const dir = await tempDir();
    const path = join(dir, 'readonly.db');
    await (await createLogStore({ url: `sqlite:${path}`, writer: false })).close();
    chmodSync(path, 0o444);
    chmodSync(dir, 0o755);
    // root may write any file: as root, the check runs without CAP_DAC_OVERRIDE (util-linux's setpriv), so the
    // file's mode applies as it does for the users who hit this. Not as `nobody`: that user cannot read a checkout in
    // a private folder (a mode-700 `mktemp -d`, or /root); CAP_DAC_READ_SEARCH is kept, so reading works anywhere.
    const asRoot = process.getuid?.() === 0;
    const script = `import { createLogStore } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'packages/runtime/src/logstore/create-log-store.ts')).href)};
      try { await createLogStore({ url: ${JSON.stringify(`sqlite:${path}`)} }); console.log('opened'); process.exit(0); } catch (error) { console.log(error.message); }`;
    const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
    const [command, ...args] = asRoot ? ['setpriv', '--inh-caps=-dac_override', '--bounding-set=-dac_override', ...node] : node;
    const child = spawnSync(command ?? process.execPath, args, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.error, undefined, `as root this test needs setpriv (Debian's util-linux): ${String(child.error)}`);
    assert.equal(child.status, 0, child.stderr);
    assert.match(
      child.stdout,
      /the log store .*readonly\.db cannot be written \(attempt to write a readonly database\): check that this user may write/,
    );
  });
});

describe('API keys', () => {
  test('shown once, stored as a hash, refused when unknown, revoked or expired; usage written through the writer', async () => {
    const store = await createLogStore({ url: 'sqlite::memory:' });
    const { key, record } = await createTestApiKey(store, { name: 'ci-bot', roles: ['admin', 'reader'] });
    assert.match(key, /^gfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(record.prefix, key.slice(0, 16));
    const stored = await store.db.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(stored).includes(key.slice(17)), 'the secret part is never stored');

    const verified = await store.apiKeys.verify(key);
    assert.ok(verified.ok);
    assert.deepEqual(verified.record.roles, ['admin', 'reader']);
    assert.deepEqual(await store.apiKeys.verify(`${key.slice(0, -1)}x`), { ok: false, reason: 'unknown' });
    assert.deepEqual(await store.apiKeys.verify('hello'), { ok: false, reason: 'malformed' });

    store.apiKeys.countUse(record.id, 1000);
    store.apiKeys.countUse(record.id, 2000);
    await store.flush();
    const [listed] = await store.apiKeys.list();
    assert.ok(listed);
    assert.equal(listed.requestCount, 2);
    assert.equal(listed.lastUsedAt, 2000);

    assert.equal(await store.apiKeys.revoke('ci-bot'), true);
    assert.deepEqual(await store.apiKeys.verify(key), { ok: false, reason: 'revoked' });
    const expiring = await createTestApiKey(store, { name: 'old', expiresAt: Date.now() - 1 });
    assert.deepEqual(await store.apiKeys.verify(expiring.key), { ok: false, reason: 'expired' });
    assert.deepEqual(await store.apiKeys.create({ name: 'old' }), {
      kind: 'duplicate-name',
      existingId: expiring.record.id,
      message: `an API key named "old" exists (id ${expiring.record.id})`,
    });
    for (const name of ['ci\r\nbot', 'ci\u001b[31mbot', 'tab\tbot', ' ']) {
      const refused = await store.apiKeys.create({ name });
      assert.equal(refused.kind, 'invalid-name', `refused: ${JSON.stringify(name)}`);
      assert.match(
        'message' in refused ? refused.message : '',
        /^API key name ".*": expected a non-empty name without control characters/,
      );
    }
    assert.equal((await store.apiKeys.list()).length, 2, 'nothing was stored for the refused names');
    await store.close();
  });
});

describe('API keys created by two processes at once', () => {
  test('a key of the same name inserted between the check and the insert is a duplicate name, not a database error', async () => {
    const path = join(await tempDir(), 'keys.db');
    const store = await createLogStore({ url: `sqlite:${path}`, writer: false });
    const other = new Database(path);
    try {
      // The other process's insert lands just before this one's (after this one found no key of the name).
      const otherId = 'aaaaaaaaaaaa';
      const racing: KyselyPlugin = {
        transformQuery: ({ node }) => {
          if (node.kind === 'InsertQueryNode' && node.into?.table.identifier.name === 'api_keys') {
            other
              .prepare(
                "insert into api_keys (id, name, prefix, hash, roles, created_at, request_count) values (?, 'ops', ?, ?, '[]', 0, 0)",
              )
              .run(otherId, `gfk_${otherId}`, 'other-hash');
          }
          return node;
        },
        transformResult: async ({ result }) => result,
      };
      assert.deepEqual(await createApiKey(store.db.withPlugin(racing), { name: 'ops' }), {
        kind: 'duplicate-name',
        existingId: otherId,
        message: `an API key named "ops" exists (id ${otherId})`,
      });
      assert.deepEqual(
        (await store.apiKeys.list()).map((record) => record.id),
        [otherId],
      );
    } finally {
      other.close();
      await store.close();
    }
  });
});
