import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createLogStore, type RequestLogRecord } from '../../src/runtime/logstore/create-log-store.ts';
import { tempDir } from '../helpers/workspace.ts';

function row(index: number, overrides: Partial<RequestLogRecord> = {}): RequestLogRecord {
  return {
    request_id: `r${index}`,
    started_at: 1_700_000_000_000 + index * 1000,
    service: 'auth.v1.AuthService',
    method: index % 2 === 0 ? 'Login' : 'ValidateToken',
    kind: 'unary',
    status_code: index % 10 === 0 ? 16 : 0,
    duration_ms: index,
    principal: null,
    api_key_id: null,
    peer: '127.0.0.1:1',
    request_bytes: 10,
    response_bytes: 20,
    request_messages: 1,
    response_messages: 1,
    error_message: index % 10 === 0 ? 'unauthenticated' : null,
    ...overrides,
  };
}

describe('log store (SQLite file)', () => {
  test('batched rows are committed, counted, and survive a reopen; stats are exact', async () => {
    const url = `sqlite:${join(await tempDir(), 'store/logs.db')}`;
    const store = await createLogStore({ url, batchSize: 7, flushIntervalMs: 5 });
    for (let index = 1; index <= 100; index++) assert.equal(store.record(row(index)), true);
    await store.close();
    assert.deepEqual(store.counters(), { recorded: 100, written: 100, dropped: 0, queued: 0 });

    const reopened = await createLogStore({ url });
    const stats = await reopened.stats();
    assert.deepEqual(stats, { total: 100, ok: 90, successRate: 0.9, avgMs: 50.5, p50Ms: 50, p95Ms: 95, p99Ms: 99 });
    const methods = await reopened.methodStats();
    assert.deepEqual(
      methods.map((m) => [m.method, m.total, m.errors]),
      [
        ['Login', 50, 10],
        ['ValidateToken', 50, 0],
      ],
    );
    const timeline = await reopened.timeline(10_000);
    assert.equal(
      timeline.reduce((sum, bucket) => sum + bucket.total, 0),
      100,
    );
    const errors = await reopened.logs({ errorsOnly: true, limit: 3 });
    assert.deepEqual(
      errors.map((log) => log.request_id),
      ['r100', 'r90', 'r80'],
    );
    assert.equal((await reopened.stats({ since: 1_700_000_000_000 + 51_000 })).total, 50);
    assert.equal(await reopened.deleteLogsBefore(1_700_000_000_000 + 11_000), 10);
    await reopened.close();
  });

  test('retention deletes rows older than retentionMs when the store opens', async () => {
    const url = `sqlite:${join(await tempDir(), 'retention.db')}`;
    const store = await createLogStore({ url });
    const now = Date.now();
    store.record(row(1, { started_at: now - 3 * 86_400_000 }));
    store.record(row(2, { started_at: now - 60_000 }));
    await store.close();
    const reopened = await createLogStore({ url, retentionMs: 86_400_000 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first prune runs as the store opens
    assert.deepEqual(
      (await reopened.logs()).map((log) => log.request_id),
      ['r2'],
    );
    await reopened.close();
  });

  test('a full queue drops and counts instead of growing', async () => {
    const store = await createLogStore({ url: 'sqlite::memory:', maxQueue: 10, batchSize: 1000, flushIntervalMs: 10_000 });
    let accepted = 0;
    for (let index = 0; index < 25; index++) if (store.record(row(index))) accepted++;
    assert.equal(accepted, 10);
    await store.flush();
    const counters = store.counters();
    assert.equal(counters.written + counters.dropped, 25);
    assert.equal(counters.dropped, 15);
    await store.close();
  });

  test('API keys: shown once, stored as a hash, refused when unknown, revoked or expired; usage batched', async () => {
    const store = await createLogStore({ url: 'sqlite::memory:' });
    const { key, record } = await store.createApiKey({ name: 'ci-bot', roles: ['admin', 'reader'] });
    assert.match(key, /^gfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(record.prefix, key.slice(0, 16));
    const stored = await store.db.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(stored).includes(key.slice(17)), 'the secret part is never stored');

    const verified = await store.verifyApiKey(key);
    assert.ok(verified.ok);
    assert.deepEqual(verified.record.roles, ['admin', 'reader']);
    assert.deepEqual(await store.verifyApiKey(`${key.slice(0, -1)}x`), { ok: false, reason: 'unknown' });
    assert.deepEqual(await store.verifyApiKey('hello'), { ok: false, reason: 'malformed' });

    store.countApiKeyUse(record.id, 1000);
    store.countApiKeyUse(record.id, 2000);
    await store.flush();
    const [listed] = await store.listApiKeys();
    assert.ok(listed);
    assert.equal(listed.requestCount, 2);
    assert.equal(listed.lastUsedAt, 2000);

    assert.equal(await store.revokeApiKey('ci-bot'), true);
    assert.deepEqual(await store.verifyApiKey(key), { ok: false, reason: 'revoked' });
    const expiring = await store.createApiKey({ name: 'old', expiresAt: Date.now() - 1 });
    assert.deepEqual(await store.verifyApiKey(expiring.key), { ok: false, reason: 'expired' });
    await assert.rejects(store.createApiKey({ name: 'old' }), /an API key named "old" exists/);
    await store.close();
  });
});
