import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import type { CallRecord } from '../../packages/runtime/src/logstore/call-record.ts';
import { createLogStore } from '../../packages/runtime/src/logstore/create-log-store.ts';
import { SketchMerger, decodeSketch, newLatencySketch } from '../../packages/runtime/src/logstore/latency-sketch.ts';
import { createMigration0008 } from '../../packages/runtime/src/logstore/migrations/0008_coarser_rollups.ts';
import { ROLLUP_BUCKETS_MS } from '../../packages/runtime/src/logstore/rollups.ts';
import { coverOf } from '../../packages/runtime/src/logstore/statistics.ts';
import type { Kysely } from 'kysely';
import { callRecord } from '../helpers/dashboard.ts';
import type { LogStoreDatabase } from '../../packages/runtime/src/logstore/database.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// Not on an hour: windows start and end inside every resolution's buckets.
const T0 = Date.UTC(2026, 0, 1, 3, 17, 23);

/** Calls over 8 days, a few per 7 minutes, 2 methods and 2 codes, durations of a few shapes. */
function calls(count: number): CallRecord[] {
  let seed = 11;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: count }, (_, index) =>
    callRecord(index, {
      startedAt: T0 + Math.floor(index * ((8 * 24 * HOUR) / count)),
      service: 'user.v1.UserService',
      method: index % 3 === 0 ? 'GetUser' : 'ListUsers',
      statusCode: index % 17 === 0 ? 5 : 0,
      durationMs: 0.1 * Math.exp(random() * Math.log(50_000)),
    }),
  );
}

/** The rollups of `bucketMs`, in key order, sketches decoded (to compare bins, not bytes). */
async function rollupsOf(db: Kysely<LogStoreDatabase>, bucketMs: number) {
  const rows = await db
    .selectFrom('call_rollups')
    .selectAll()
    .where('bucket_ms', '=', bucketMs)
    .orderBy('bucket_start')
    .orderBy('service')
    .orderBy('method')
    .orderBy('status_code')
    .execute();
  return rows.map(({ latency_sketch, ...row }) => {
    const sketch = decodeSketch(latency_sketch);
    return { ...row, sketch: { ...sketch, contiguous: [...Array.from(sketch.contiguous)] } };
  });
}

describe('rollup resolutions (minute, 5 minutes, hour, 6 hours)', () => {
  test("sketches decoded from the wire format hold the library's bins (its own encoding and the merger's)", () => {
    const live = newLatencySketch();
    for (let index = 0; index < 5000; index++) live.accept(index % 7 === 0 ? 0 : 0.01 * 1.003 ** index);
    const merger = new SketchMerger();
    merger.addEncoded(live.toProto());
    const again = new SketchMerger();
    again.addEncoded(merger.encode());
    for (const sketch of [merger.sketch(), again.sketch()]) {
      assert.equal(sketch.count, live.count);
      assert.equal(sketch.zeroCount, live.zeroCount);
      // The same bins; the library's value of a bin may differ in the last digits after a round trip of its mapping.
      for (const q of [0, 0.25, 0.5, 0.9, 0.99, 1]) {
        const expected = live.getValueAtQuantile(q);
        assert.ok(Math.abs(sketch.getValueAtQuantile(q) - expected) <= 1e-12 * expected, `quantile ${q}`);
      }
    }
    assert.throws(() => decodeSketch(live.toProto().subarray(0, 20)), /truncated/);
    const other = newLatencySketch();
    other.accept(-1);
    assert.throws(() => decodeSketch(other.toProto()), /negative/);
  });

  test('a cover reads every minute of a window once, from the coarsest buckets that fit', () => {
    for (const [since, until] of [
      [T0, undefined],
      [T0, T0 + 7 * 24 * HOUR + 31 * MINUTE],
      [T0 + 5 * HOUR, T0 + 5 * HOUR + 3 * MINUTE],
      [Date.UTC(2026, 0, 1, 6), Date.UTC(2026, 0, 2, 6)],
    ] as const) {
      const covers = coverOf(since, until);
      const minutes = new Set<number>();
      const last = until ?? since + 9 * 24 * HOUR;
      for (const cover of covers) {
        assert.ok(ROLLUP_BUCKETS_MS.includes(cover.bucketMs));
        assert.equal(cover.from % cover.bucketMs, 0);
        for (let minute = cover.from; minute < (cover.to ?? last); minute += MINUTE) {
          assert.ok(!minutes.has(minute), `minute ${minute} read twice`);
          minutes.add(minute);
        }
      }
      const start = Math.floor(since / MINUTE) * MINUTE;
      const end = Math.ceil(last / MINUTE) * MINUTE;
      assert.equal(minutes.size, (end - start) / MINUTE);
      assert.ok(Math.min(...minutes) === start);
    }
    // A week reads 6-hour buckets for most of it.
    assert.ok(coverOf(T0, undefined).some((cover) => cover.bucketMs === 6 * HOUR));
  });

  test('statistics over any window add up to the raw rows, whichever resolutions they read', async () => {
    const store = await createLogStore({ url: 'sqlite::memory:', batchSize: 3000 });
    for (const record of calls(20_000)) store.logs.record(record);
    await store.flush();
    for (const window of [
      { since: T0 },
      { since: T0 + 37 * MINUTE, until: T0 + 7 * 24 * HOUR + 2 * HOUR + 11 * MINUTE },
      { since: T0 + 26 * HOUR + 4 * MINUTE, until: T0 + 32 * HOUR + 59 * MINUTE },
      { since: T0 + 3 * MINUTE, until: T0 + 9 * MINUTE, method: 'GetUser' },
    ]) {
      const sketched = await store.statistics.summary(window);
      const exact = await store.statistics.exactSummary(window);
      assert.equal(sketched.calls, exact.calls);
      assert.deepEqual(sketched.byStatus, exact.byStatus);
      assert.equal(sketched.minMs, exact.minMs);
      assert.equal(sketched.maxMs, exact.maxMs);
      for (const bucketMs of [MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 6 * HOUR, 24 * HOUR]) {
        const timeline = await store.statistics.timeline(window, bucketMs);
        assert.ok(timeline.every((bucket) => bucket.start % bucketMs === 0));
        // Whole-hour buckets count whole hours (from the start of `since`'s hour), as before the coarser resolutions.
        const wholeHours = bucketMs % HOUR === 0;
        const expected = await store.statistics.exactSummary(
          wholeHours
            ? {
                ...window,
                since: Math.floor(window.since / HOUR) * HOUR,
                ...(window.until !== undefined ? { until: Math.ceil(window.until / HOUR) * HOUR } : {}),
              }
            : window,
        );
        const counted = timeline.reduce((sum, bucket) => sum + bucket.calls, 0);
        assert.equal(counted, expected.calls, `${bucketMs} ms buckets`);
      }
    }
    await store.close();
  });

  test('migration 0008 backfills the 5-minute and 6-hour rollups as the writer writes them', async () => {
    const store = await createLogStore({ url: 'sqlite::memory:', batchSize: 1000 });
    for (const record of calls(12_000)) store.logs.record(record);
    await store.flush();
    const written = [await rollupsOf(store.db, 5 * MINUTE), await rollupsOf(store.db, 6 * HOUR)];
    assert.ok((written[0]?.length ?? 0) > 1000 && (written[1]?.length ?? 0) > 50);
    await sql`delete from call_rollups where bucket_ms in (${5 * MINUTE}, ${6 * HOUR})`.execute(store.db);
    const progress: string[] = [];
    await createMigration0008((message) => progress.push(message)).up(store.db as Kysely<unknown>);
    const backfilled = [await rollupsOf(store.db, 5 * MINUTE), await rollupsOf(store.db, 6 * HOUR)];
    for (const [index, rows] of backfilled.entries()) {
      const expected = written[index] ?? [];
      assert.equal(rows.length, expected.length);
      rows.forEach((row, at) => {
        const want = expected[at];
        assert.ok(want);
        const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
        assert.ok(close(row.duration_sum_ms, want.duration_sum_ms));
        assert.deepEqual({ ...row, duration_sum_ms: 0 }, { ...want, duration_sum_ms: 0 });
      });
    }
    assert.equal(progress.length, 2);
    await store.close();
  });

  test('a bounded page of the requests walks at most scanRows rows and says where to go on', async () => {
    const store = await createLogStore({ url: 'sqlite::memory:', batchSize: 1000 });
    const records = calls(5000).map((record, index) => ({ ...record, principal: index < 30 ? 'jwt:rare' : null }));
    for (const record of records) store.logs.record(record);
    await store.flush();
    const found: number[] = [];
    let before: number | undefined;
    let pages = 0;
    for (;;) {
      const page = await store.logs.page({
        principal: 'jwt:rare',
        scanRows: 700,
        limit: 20,
        ...(before ? { beforeId: before } : {}),
      });
      pages++;
      assert.ok(page.logs.length <= 20);
      found.push(...page.logs.map((log) => log.id));
      if (page.nextBefore === null) break;
      assert.ok(before === undefined || page.nextBefore < before);
      before = page.nextBefore;
    }
    // Every match once, newest first, as the unbounded list finds them.
    const all = await store.logs.list({ principal: 'jwt:rare', limit: 100 });
    assert.deepEqual(
      found,
      all.map((log) => log.id),
    );
    assert.equal(found.length, 30);
    assert.ok(pages >= Math.ceil(5000 / 700));
    // Unbounded, the page is the list's, its cursor the last id of a full page.
    const full = await store.logs.page({ limit: 10 });
    assert.equal(full.logs.length, 10);
    assert.equal(full.nextBefore, full.logs.at(-1)?.id);
    // With `since`, the walk stops where the rows get older than the window: no empty pages to the table's start.
    const since = records[4500]!.startedAt; // the walk's first 700 rows reach back past it
    const recent = await store.logs.page({ principal: 'jwt:rare', since, scanRows: 700, limit: 20 });
    assert.deepEqual([recent.logs.length, recent.nextBefore], [0, null]);
    const longer = await store.logs.page({ since: records[4350]!.startedAt, scanRows: 700, limit: 1000 });
    assert.deepEqual([longer.logs.length, longer.nextBefore], [650, null]);
    const wider = await store.logs.page({ since: records[3000]!.startedAt, scanRows: 700, limit: 1000 });
    assert.deepEqual([wider.logs.length, wider.nextBefore], [700, wider.logs.at(-1)?.id]);
    await store.close();
  });
});
