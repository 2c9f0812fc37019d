import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Migrator } from 'kysely';
import { createLogStore, type CallRecord, type LogStore, type LogStoreDialect } from '../../packages/runtime/src/index.ts';
import { migrationProvider } from '../../packages/runtime/src/logstore/migrations/index.ts';
import { STORED_TEXT_MAX_BYTES } from '../../packages/runtime/src/vocabulary.ts';
import { requestIdOf } from './dashboard.ts';
import { createTestApiKey } from './api-keys.ts';
import { zeroDefenceCounts } from '../../packages/runtime/src/vocabulary.ts';

/**
 * One engine as the shared suite sees it: its name, capabilities (what the shared code does differently for it), and
 * what the upgrade test needs to migrate a store to an earlier version (column types, location, reader).
 */
export interface SuiteDialect extends Pick<
  LogStoreDialect,
  'name' | 'capabilities' | 'columnTypes' | 'locationOf' | 'openReader'
> {
  /** A new, empty store's URL. */
  fresh(): Promise<string>;
}

export const MINUTE = 60_000;
const base = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;

/**
 * Call `index`: every 7th NOT_FOUND (the even ones with the reason `USER_NOT_FOUND`), every 11th INTERNAL; durations
 * 1..100 ms; two principals.
 */
export function call(index: number, startedAt = base + index * 997): CallRecord {
  const statusCode = index % 11 === 0 ? 13 : index % 7 === 0 ? 5 : 0;
  return {
    requestId: requestIdOf(startedAt, index),
    startedAt,
    service: index % 3 === 0 ? 'user.v1.UserService' : 'auth.v1.AuthService',
    method: index % 3 === 0 ? 'GetUser' : 'Login',
    kind: 'unary',
    statusCode,
    durationMs: (index % 100) + 1 + 0.25,
    principal: index % 2 === 0 ? 'apikey:ci-bot' : null,
    apiKeyId: index % 2 === 0 ? 'key-1' : null,
    peer: '127.0.0.1:5000',
    requestBytes: index,
    responseBytes: 2 * index,
    requestMessages: 1,
    responseMessages: 1,
    errorMessage: statusCode === 0 ? null : `failed ${index}`,
    traceId: index % 5 === 0 ? index.toString(16).padStart(32, '0') : null,
    rawPath: null,
    errorReason: statusCode === 5 && index % 2 === 0 ? 'USER_NOT_FOUND' : null,
    violationField: null,
  };
}

const CALLS = Array.from({ length: 1500 }, (_, index) => call(index));

async function withStore<T>(url: string, use: (store: LogStore) => Promise<T>): Promise<T> {
  const store = await createLogStore({ url });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/**
 * Registers the shared log-store suite for one dialect: calls read back, statistics, two writers on one store, a NUL
 * in text, API keys, instances, retention. Every engine runs the same tests.
 */
export function describeLogStoreDialect(dialect: SuiteDialect): void {
  describe(`log store on ${dialect.name}`, { timeout: 120_000 }, () => {
    let url: string;
    before(async () => {
      url = await dialect.fresh();
      await withStore(url, async (store) => {
        for (const record of CALLS) assert.equal(store.logs.record(record), true);
        await store.flush();
        assert.equal(store.counters().written, CALLS.length);
      });
    });

    test('calls read back column for column; filters and pages', async () => {
      await withStore(url, async (store) => {
        const sample = CALLS[77];
        assert.ok(sample);
        const stored = await store.logs.get(sample.requestId);
        assert.ok(stored);
        const { id, ...record } = stored;
        assert.deepEqual(record, sample);
        assert.equal(typeof id, 'number');

        const newest = await store.logs.list({ limit: 3 });
        assert.deepEqual(
          newest.map((log) => log.requestId),
          CALLS.slice(-3)
            .reverse()
            .map((record) => record.requestId),
        );
        const next = await store.logs.list({ limit: 3, beforeId: newest.at(-1)?.id ?? 0 });
        assert.equal(next[0]?.requestId, CALLS.at(-4)?.requestId);

        const expectCount = async (
          query: Parameters<LogStore['logs']['list']>[0],
          predicate: (record: CallRecord) => boolean,
        ) => {
          const logs = await store.logs.list({ ...query, limit: 5000 });
          assert.equal(logs.length, CALLS.filter(predicate).length, JSON.stringify(query));
        };
        await expectCount({ statusCode: 5 }, (record) => record.statusCode === 5);
        await expectCount({ errorsOnly: true }, (record) => record.statusCode !== 0);
        await expectCount({ service: 'user.v1.UserService', method: 'GetUser' }, (record) => record.method === 'GetUser');
        await expectCount({ principal: 'apikey:ci-bot' }, (record) => record.principal === 'apikey:ci-bot');
        await expectCount({ minDurationMs: 90 }, (record) => record.durationMs >= 90);
        await expectCount({ since: base + 600_000 }, (record) => record.startedAt >= base + 600_000);
      });
    });

    test('statistics from the rollups: totals, per service and method, timeline, exact', async () => {
      await withStore(url, async (store) => {
        const window = { since: base };
        const summary = await store.statistics.summary(window);
        const errors = CALLS.filter((record) => record.statusCode !== 0).length;
        assert.deepEqual([summary.calls, summary.errors, summary.minMs, summary.maxMs], [CALLS.length, errors, 1.25, 100.25]);
        assert.deepEqual(summary.byStatus, [
          { statusCode: 0, calls: CALLS.filter((record) => record.statusCode === 0).length },
          { statusCode: 5, calls: CALLS.filter((record) => record.statusCode === 5).length },
          { statusCode: 13, calls: CALLS.filter((record) => record.statusCode === 13).length },
        ]);
        assert.equal(
          summary.requestBytes,
          CALLS.reduce((sum, record) => sum + record.requestBytes, 0),
        );
        const exact = await store.statistics.exactSummary(window);
        assert.ok(Math.abs(summary.p95Ms - exact.p95Ms) <= exact.p95Ms * 0.02, `${summary.p95Ms} vs ${exact.p95Ms}`);

        const breakdown = await store.statistics.breakdown(window, { both: ['auth.v1.AuthService', 'user.v1.UserService'] });
        assert.deepEqual(
          breakdown.services.map((service) => [service.service, service.calls]),
          [
            ['auth.v1.AuthService', CALLS.filter((record) => record.method === 'Login').length],
            ['user.v1.UserService', CALLS.filter((record) => record.method === 'GetUser').length],
          ],
        );
        assert.equal(breakdown.groups.both?.calls, CALLS.length);
        assert.deepEqual(
          (await store.statistics.methods(window)).map((method) => method.method),
          ['Login', 'GetUser'],
        );
        const timeline = await store.statistics.timeline(window, 5 * MINUTE);
        assert.equal(
          timeline.reduce((sum, bucket) => sum + bucket.calls, 0),
          CALLS.length,
        );
        assert.ok(timeline.every((bucket) => bucket.start % (5 * MINUTE) === 0));
      });
    });

    test('two writers on one store (replicas) add up, in the same minutes', async () => {
      const shared = await dialect.fresh();
      const [first, second] = await Promise.all([createLogStore({ url: shared }), createLogStore({ url: shared })]);
      try {
        const now = Math.floor(Date.now() / MINUTE) * MINUTE;
        for (let index = 0; index < 2000; index++) {
          const record = { ...call(index, now - 120_000 + (index % 60) * 1000), requestId: requestIdOf(now, index) };
          (index % 2 === 0 ? first : second).logs.record(record);
          if (index % 250 === 0) await Promise.all([first.flush(), second.flush()]);
        }
        await Promise.all([first.flush(), second.flush()]);
        const summary = await first.statistics.summary({ since: now - 180_000 });
        assert.equal(summary.calls, 2000);
        assert.deepEqual([first.counters().written, second.counters().written], [1000, 1000]);
        assert.equal((await second.logs.list({ limit: 5000 })).length, 2000);
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    });

    test('a NUL in a text column loses no row (where text refuses U+0000, as PostgreSQL does, it is stored as U+FFFD)', async () => {
      const store = await createLogStore({ url: await dialect.fresh() });
      try {
        const hostile = { ...call(1), errorMessage: 'bad\u0000input', principal: 'jwt:ev\u0000il' };
        for (let index = 2; index < 10; index++) store.logs.record(call(index));
        store.logs.record(hostile);
        await store.flush();
        assert.deepEqual([store.counters().written, store.counters().dropped], [9, 0]);
        const stored = await store.logs.get(hostile.requestId);
        const nul = dialect.capabilities.acceptsNulInText ? '\u0000' : '\uFFFD';
        assert.deepEqual([stored?.errorMessage, stored?.principal], [`bad${nul}input`, `jwt:ev${nul}il`]);
      } finally {
        await store.close();
      }
    });

    test('a call to a method not served keeps its raw path; over-long texts are cut to their bound, whole characters', async () => {
      const store = await createLogStore({ url: await dialect.fresh() });
      try {
        // 'é' is 2 bytes and '😀' 4 (a surrogate pair): the cut never splits one.
        const long = (unit: string) => `x${unit.repeat(5000)}`;
        const unknown = { ...call(1), service: '_unknown', method: '_unknown', kind: 'unknown', rawPath: long('😀') } as const;
        const hostile = { ...call(2), service: long('é'), method: long('m'), principal: long('😀'), errorMessage: long('é') };
        store.logs.record(unknown);
        store.logs.record(hostile);
        await store.flush();
        const [storedUnknown, storedHostile] = await Promise.all([
          store.logs.get(unknown.requestId),
          store.logs.get(hostile.requestId),
        ]);
        assert.ok(storedUnknown && storedHostile);
        const bytes = (text: string | null | undefined) => Buffer.byteLength(text ?? '');
        // 1 + 4k bytes: the largest under the bound ends on a whole emoji.
        assert.equal(storedUnknown.rawPath, `x${'😀'.repeat((STORED_TEXT_MAX_BYTES.rawPath - 1) >> 2)}`);
        assert.deepEqual([storedUnknown.service, storedUnknown.method, storedUnknown.kind], ['_unknown', '_unknown', 'unknown']);
        assert.equal(storedHostile.rawPath, null);
        assert.equal(storedHostile.service, `x${'é'.repeat((STORED_TEXT_MAX_BYTES.service - 1) >> 1)}`);
        assert.equal(bytes(storedHostile.method), STORED_TEXT_MAX_BYTES.method);
        assert.ok(bytes(storedHostile.principal) <= STORED_TEXT_MAX_BYTES.principal);
        assert.ok(!storedHostile.principal?.includes('\uFFFD'), 'no half character');
        assert.equal(storedHostile.errorMessage, `x${'é'.repeat((STORED_TEXT_MAX_BYTES.errorMessage - 1) >> 1)}`);
        // The rollups carry the cut names too: statistics group them as the rows do.
        const methods = await store.statistics.methods({ since: 0 });
        assert.ok(methods.some((entry) => entry.service === storedHostile.service && entry.method === storedHostile.method));
      } finally {
        await store.close();
      }
    });

    test('errors by reason: per method, status and reason, largest first; errors without a reason as null', async () => {
      await withStore(url, async (store) => {
        // The shared calls: the counts of every (service, method, status, reason), computed here from the records.
        const expected = new Map<string, number>();
        for (const record of CALLS.filter((entry) => entry.statusCode !== 0)) {
          const key = JSON.stringify([record.service, record.method, record.statusCode, record.errorReason ?? null]);
          expected.set(key, (expected.get(key) ?? 0) + 1);
        }
        const groups = await store.statistics.errorsByReason({ since: base });
        assert.deepEqual(
          new Map(
            groups.map((group) => [JSON.stringify([group.service, group.method, group.statusCode, group.reason]), group.calls]),
          ),
          expected,
        );
        assert.deepEqual(
          groups.map((group) => group.calls),
          groups.map((group) => group.calls).sort((a, b) => b - a),
          'largest first',
        );
        const summary = await store.statistics.summary({ since: base });
        assert.equal(
          groups.reduce((sum, group) => sum + group.calls, 0),
          summary.errors,
          'the groups add up to the errors',
        );
        const getUser = await store.statistics.errorsByReason({ since: base, service: 'user.v1.UserService', method: 'GetUser' });
        assert.ok(getUser.length > 0 && getUser.every((group) => group.method === 'GetUser'));
        assert.equal((await store.statistics.errorsByReason({ since: base, limit: 2 })).length, 2);
      });
      const store = await createLogStore({ url: await dialect.fresh() });
      try {
        const now = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
        let index = 0;
        const record = (overrides: Partial<CallRecord>, startedAt = now + index * 100) =>
          store.logs.record({ ...call(index, startedAt), requestId: requestIdOf(startedAt, index++), ...overrides });
        const getUser = { service: 'user.v1.UserService', method: 'GetUser' };
        const login = { service: 'auth.v1.AuthService', method: 'Login' };
        for (let n = 0; n < 3; n++) record({ ...getUser, statusCode: 5, errorReason: 'USER_NOT_FOUND', violationField: null });
        record({ ...getUser, statusCode: 5, errorReason: null, violationField: null });
        for (let n = 0; n < 2; n++) record({ ...login, statusCode: 3, errorReason: null, violationField: 'username' });
        for (let n = 0; n < 2; n++)
          record({ ...login, statusCode: 16, errorReason: 'INVALID_CREDENTIALS', violationField: null });
        for (let n = 0; n < 5; n++) record({ ...login, statusCode: 0, errorReason: null, violationField: null });
        // Before the window: not counted.
        record({ ...getUser, statusCode: 5, errorReason: 'USER_NOT_FOUND' }, now - 60 * MINUTE);
        // Over-long texts are cut to their bounds, whole characters.
        const hostile = { ...getUser, statusCode: 9, errorReason: `R${'é'.repeat(100)}`, violationField: `f${'😀'.repeat(200)}` };
        record(hostile);
        await store.flush();
        const cutReason = `R${'é'.repeat((STORED_TEXT_MAX_BYTES.errorReason - 1) >> 1)}`;
        assert.deepEqual(await store.statistics.errorsByReason({ since: now }), [
          { ...getUser, statusCode: 5, reason: 'USER_NOT_FOUND', calls: 3 },
          { ...login, statusCode: 3, reason: null, calls: 2 },
          { ...login, statusCode: 16, reason: 'INVALID_CREDENTIALS', calls: 2 },
          { ...getUser, statusCode: 5, reason: null, calls: 1 },
          { ...getUser, statusCode: 9, reason: cutReason, calls: 1 },
        ]);
        const failed = await store.logs.list({ errorsOnly: true, service: 'auth.v1.AuthService', statusCode: 3 });
        assert.deepEqual(
          failed.map((log) => [log.errorReason, log.violationField]),
          [
            [null, 'username'],
            [null, 'username'],
          ],
        );
        const [stored] = await store.logs.list({ statusCode: 9 });
        assert.ok(stored);
        assert.equal(stored.errorReason, cutReason);
        assert.equal(stored.violationField, `f${'😀'.repeat((STORED_TEXT_MAX_BYTES.violationField - 1) >> 2)}`);
      } finally {
        await store.close();
      }
    });

    test('a store of the previous version (migrated to 0006) upgrades: its rows read without a reason, new ones with', async () => {
      const upgraded = await dialect.fresh();
      const opened = await dialect.openReader(dialect.locationOf(upgraded), {});
      const now = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
      const old = call(7, now);
      try {
        const migrator = new Migrator({ db: opened.db, provider: migrationProvider(dialect.columnTypes) });
        const { error } = await migrator.migrateTo('0006_defence_counters');
        assert.equal(error, undefined);
        // A row as 0006 stored it: no reason, no violation columns yet.
        await opened.db
          .insertInto('request_logs')
          .values({
            request_id: old.requestId,
            started_at: old.startedAt,
            service: old.service,
            method: old.method,
            kind: old.kind,
            status_code: old.statusCode,
            duration_ms: old.durationMs,
            principal: old.principal,
            api_key_id: old.apiKeyId,
            peer: old.peer,
            request_bytes: old.requestBytes,
            response_bytes: old.responseBytes,
            request_messages: old.requestMessages,
            response_messages: old.responseMessages,
            error_message: old.errorMessage,
            trace_id: old.traceId ?? null,
            raw_path: null,
          })
          .execute();
      } finally {
        await opened.db.destroy();
      }
      await withStore(upgraded, async (store) => {
        const fresh = { ...call(8, now + 1000), statusCode: 5, errorReason: 'USER_NOT_FOUND', violationField: null };
        store.logs.record(fresh);
        await store.flush();
        assert.deepEqual(
          [(await store.logs.get(old.requestId))?.errorReason, (await store.logs.get(fresh.requestId))?.errorReason],
          [null, 'USER_NOT_FOUND'],
        );
        assert.deepEqual(
          (await store.statistics.errorsByReason({ since: now })).map((group) => [group.statusCode, group.reason, group.calls]),
          [
            [5, 'USER_NOT_FOUND', 1],
            [5, null, 1],
          ],
        );
      });
    });

    test('API keys: created, verified, use counted through the writer, revoked', async () => {
      await withStore(url, async (store) => {
        const { key, record } = await createTestApiKey(store, { name: 'dialect-bot', roles: ['admin'], now: Date.now() });
        const verified = await store.apiKeys.verify(key);
        assert.equal(verified.ok, true);
        for (let use = 0; use < 3; use++) store.apiKeys.countUse(record.id, 1_700_000_000_000 + use);
        await store.flush();
        const listed = (await store.apiKeys.list()).find((entry) => entry.id === record.id);
        assert.deepEqual([listed?.requestCount, listed?.lastUsedAt, listed?.roles], [3, 1_700_000_000_002, ['admin']]);
        assert.equal(await store.apiKeys.revoke('dialect-bot'), true);
        assert.deepEqual(await store.apiKeys.verify(key), { ok: false, reason: 'revoked' });
      });
    });

    test('server instances: registered, kept alive with counters, listed', async () => {
      await withStore(url, async (store) => {
        const startedAt = Date.now();
        for (const id of ['replica-a', 'replica-b']) {
          await store.instances.register({
            id,
            service: 'auth',
            address: '127.0.0.1:50051',
            pid: 42,
            host: 'ci',
            startedAt,
            services: ['auth.v1.AuthService'],
          });
        }
        const defences = { ...zeroDefenceCounts(), handshakeTimeouts: 2_000, streamsReset: 3_000_000_000 };
        await store.instances.heartbeat('replica-b', 'stopped', defences);
        const instances = await store.instances.list();
        const byId = new Map(instances.map((instance) => [instance.id, instance]));
        assert.equal(byId.get('replica-a')?.state, 'serving');
        assert.equal(byId.get('replica-b')?.state, 'stopped');
        assert.deepEqual(byId.get('replica-a')?.services, ['auth.v1.AuthService']);
        // The defence counters, a column each (past 2^31: they are bigint); zero until a heartbeat brings them.
        assert.deepEqual(byId.get('replica-b')?.defences, defences);
        assert.deepEqual(byId.get('replica-a')?.defences, zeroDefenceCounts());
      });
    });

    test('retention removes old calls and their rollups, in chunks', async () => {
      const pruned = await dialect.fresh();
      const old = Date.now() - 3 * 86_400_000;
      await withStore(pruned, async (store) => {
        for (let index = 0; index < 300; index++) store.logs.record(call(index, old + index));
        store.logs.record(call(999, Date.now()));
        await store.flush();
      });
      // Opened with a retention of a day: the first prune runs at open; close waits for it.
      await (await createLogStore({ url: pruned, retentionMs: 86_400_000 })).close();
      await withStore(pruned, async (store) => {
        assert.equal((await store.logs.list({ limit: 1000 })).length, 1);
        assert.equal((await store.statistics.summary({ since: old - MINUTE })).calls, 1);
      });
    });
  });
}
