import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { CallRecord } from '../../packages/runtime/src/logstore/call-record.ts';
import { AUTH, callRecord, registerInstance, storeWorkspace, thisMinute, withStore } from '../helpers/dashboard.ts';
import { repoRoot, runCli } from '../helpers/workspace.ts';
import { zeroDefenceCounts } from '../../packages/runtime/src/vocabulary.ts';

// The `--json` shapes of logs, stats, status and keys (shape version 2) pinned by snapshots in
// fixtures/json-shapes/: a renamed or removed field fails here. `UPDATE_GOLDENS=1` rewrites them. Values that change
// from run to run (times, random ids) are replaced by placeholders before comparing; their format is checked first.

const SHAPES = join(repoRoot, 'fixtures/json-shapes');
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
let ws: string;
let thirdRequestId: string;

/** Placeholders for run-dependent values; asserts their format on the way. */
function normalise(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => normalise(item, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, normalise(item, name)]));
  }
  if (typeof value === 'string' && /At$|^since$|^start$/.test(key)) {
    assert.match(value, ISO_MS, `${key} is ISO 8601 with milliseconds`);
    return '<time>';
  }
  if (key === 'heartbeatAgeMs' || key === 'pid') return typeof value === 'number' ? '<number>' : value;
  if ((key === 'id' || key === 'prefix' || key === 'key') && typeof value === 'string') return `<${key}>`;
  if (key === 'requestId' && typeof value === 'string') {
    assert.match(value, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'requestId is a UUIDv7');
    return `<requestId ${value.slice(-1)}>`;
  }
  if (key === 'host' && typeof value === 'string') return '<host>';
  return value;
}

async function expectShape(name: string, stdout: string): Promise<void> {
  const actual = `${JSON.stringify(normalise(JSON.parse(stdout)), null, 2)}\n`;
  const path = join(SHAPES, `${name}.json`);
  if (process.env.UPDATE_GOLDENS === '1') await writeFile(path, actual);
  const expected = await readFile(path, 'utf8').catch(() => '(missing: run with UPDATE_GOLDENS=1)');
  assert.equal(actual, expected, `fixtures/json-shapes/${name}.json`);
}

function call(index: number, now: number): CallRecord {
  return callRecord(index, {
    startedAt: now - 120_000 + index * 1000,
    service: AUTH,
    method: index % 2 === 0 ? 'Login' : 'ValidateToken',
    statusCode: index === 3 ? 5 : 0,
    durationMs: index * 1.5,
    principal: index === 1 ? 'apiKey:ops' : null,
    requestBytes: 12,
    responseBytes: 30,
    errorMessage: index === 3 ? 'no such session' : null,
    errorReason: index === 3 ? 'SESSION_NOT_FOUND' : null,
  });
}

describe('--json shapes of the store commands (version 2)', () => {
  before(async () => {
    let storeUrl: string;
    ({ ws, storeUrl } = await storeWorkspace());
    // Whole-minute placement keeps the timeline's bucket count stable: all calls in one minute, two minutes ago.
    const now = thisMinute();
    thirdRequestId = call(3, now).requestId;
    await withStore(storeUrl, async (store) => {
      for (let index = 1; index <= 4; index++) store.logs.record(call(index, now));
      await registerInstance(store, 'instance-1', {
        address: '127.0.0.1:50051',
        pid: 4242,
        startedAt: now - 300_000,
        services: [AUTH],
      });
      await store.instances.heartbeat('instance-1', 'stopped', {
        ...zeroDefenceCounts(),
        handshakeTimeouts: 20,
        streamsReset: 1000,
      });
      await store.apiKeys.create({ name: 'ops', roles: ['admin'] });
    });
  });

  test('logs --json', async () => {
    const result = runCli(['logs', '--json', '--limit', '3'], ws);
    assert.equal(result.code, 0, result.stderr);
    await expectShape('logs', result.stdout);
  });

  test('logs --request-id --json', async () => {
    const result = runCli(['logs', '--request-id', thirdRequestId, '--json'], ws);
    assert.equal(result.code, 0, result.stderr);
    await expectShape('logs-request', result.stdout);
  });

  test('stats --json', async () => {
    const result = runCli(['stats', '--json', '--bucket', '1h'], ws);
    assert.equal(result.code, 0, result.stderr);
    await expectShape('stats', result.stdout);
  });

  test('stats --exact --json', async () => {
    const result = runCli(['stats', '--exact', '--json', '--since', '1h'], ws);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { totals: { percentiles: string; p50Ms: number; calls: number } };
    assert.deepEqual([report.totals.percentiles, report.totals.p50Ms, report.totals.calls], ['exact', 3, 4]);
  });

  test('stats and logs in text: errors by reason, and the reason on an error row', () => {
    const stats = runCli(['stats'], ws);
    assert.equal(stats.code, 0, stats.stderr);
    const section = stats.stdout.slice(stats.stdout.indexOf('errors by reason:'));
    assert.match(section, /^errors by reason:\n {2}METHOD +STATUS +REASON +CALLS\n/);
    assert.match(section, /\n {2}auth\.v1\.AuthService\/ValidateToken +NOT_FOUND +SESSION_NOT_FOUND +1\n/);
    const logs = runCli(['logs', '--errors'], ws);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /no such session \[reason SESSION_NOT_FOUND\]/);
  });

  test('status --all --json', async () => {
    // --all: the instance has stopped.
    const result = runCli(['status', '--all', '--json'], ws);
    assert.equal(result.code, 0, result.stderr);
    await expectShape('status', result.stdout);
  });

  test('keys list --json', async () => {
    const result = runCli(['keys', 'list', '--json'], ws);
    assert.equal(result.code, 0, result.stderr);
    await expectShape('keys', result.stdout);
  });

  test('logs filters and pages as its flags say: --principal, --slower-than, --before', () => {
    const ids = (args: string[]) => {
      const result = runCli(['logs', '--json', ...args], ws);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as { logs: { id: number; durationMs: number }[]; nextBefore: number | null };
    };
    assert.deepEqual(
      ids(['--principal', 'apiKey:ops']).logs.map((log) => log.durationMs),
      [1.5],
    );
    assert.deepEqual(
      ids(['--slower-than', '4']).logs.map((log) => log.durationMs),
      [6, 4.5],
    );
    const first = ids(['--limit', '2']);
    assert.equal(first.nextBefore, first.logs.at(-1)?.id);
    const next = ids(['--limit', '2', '--before', String(first.nextBefore)]);
    assert.deepEqual(
      next.logs.map((log) => log.durationMs),
      [3, 1.5],
    );
  });

  test('logs --request-id of no stored call exits 2 and says so', () => {
    const result = runCli(['logs', '--request-id', '0190a1b2-0000-7000-8000-000000000000'], ws);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no stored call has request id "0190a1b2-0000-7000-8000-000000000000"/);
  });

  test('a bucket that is not whole minutes is refused with exit 2', () => {
    const result = runCli(['stats', '--bucket', '30s'], ws);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--bucket: 30s is not a whole number of minutes/);
  });
});
