import type { CallRollupTable } from './database.js';
import { SketchMerger, newLatencySketch, type LatencySketch } from './latency-sketch.js';
import { HOUR_MS, MINUTE_MS } from '../vocabulary/time.js';

/**
 * The rollup resolutions (bucket sizes in ms), finest first: each divides the next, so a window is covered by the
 * coarsest buckets that fit and finer ones at its edges (`statistics.coverOf`). One minute is what every call is
 * summed into; 5 minutes serve the 6-hour timeline's buckets, hours the day, 6 hours the week (a 7-day window reads
 * ~30 rollups per key instead of ~170). Each resolution costs the writer one more rollup row per key and batch.
 */
export const ROLLUP_BUCKETS_MS = [MINUTE_MS, 5 * MINUTE_MS, HOUR_MS, 6 * HOUR_MS] as const;

/** The totals of one (bucket, service, method, status code) key that a batch adds. */
export interface RollupDelta {
  readonly bucketMs: number;
  readonly bucketStart: number;
  readonly service: string;
  readonly method: string;
  readonly statusCode: number;
  calls: number;
  durationSumMs: number;
  durationMinMs: number;
  durationMaxMs: number;
  requestBytes: number;
  responseBytes: number;
  requestMessages: number;
  responseMessages: number;
  readonly sketch: LatencySketch;
}

function emptyDelta(bucketMs: number, bucketStart: number, service: string, method: string, statusCode: number): RollupDelta {
  return {
    bucketMs,
    bucketStart,
    service,
    method,
    statusCode,
    calls: 0,
    durationSumMs: 0,
    durationMinMs: Number.POSITIVE_INFINITY,
    durationMaxMs: 0,
    requestBytes: 0,
    responseBytes: 0,
    requestMessages: 0,
    responseMessages: 0,
    sketch: newLatencySketch(),
  };
}

/**
 * Sums calls into rollup deltas of every resolution of {@link ROLLUP_BUCKETS_MS}. Per call it touches one minute
 * key; the coarser buckets are summed from the minutes once, in {@link RollupAccumulator.deltas}.
 */
export class RollupAccumulator {
  readonly #minutes = new Map<string, RollupDelta>();

  /** Adds one call. Times in ms since the epoch, duration in ms, sizes in bytes. */
  add(
    startedAt: number,
    service: string,
    method: string,
    statusCode: number,
    durationMs: number,
    requestBytes: number,
    responseBytes: number,
    requestMessages: number,
    responseMessages: number,
  ): void {
    const minute = startedAt - (startedAt % MINUTE_MS);
    const key = `${minute}\u0000${service}\u0000${method}\u0000${statusCode}`;
    let delta = this.#minutes.get(key);
    if (!delta) {
      delta = emptyDelta(MINUTE_MS, minute, service, method, statusCode);
      this.#minutes.set(key, delta);
    }
    delta.calls++;
    delta.durationSumMs += durationMs;
    if (durationMs < delta.durationMinMs) delta.durationMinMs = durationMs;
    if (durationMs > delta.durationMaxMs) delta.durationMaxMs = durationMs;
    delta.requestBytes += requestBytes;
    delta.responseBytes += responseBytes;
    delta.requestMessages += requestMessages;
    delta.responseMessages += responseMessages;
    delta.sketch.accept(durationMs);
  }

  get size(): number {
    return this.#minutes.size;
  }

  /** The minute deltas, then those of each coarser resolution, summed from the minutes. */
  *deltas(): Generator<RollupDelta> {
    // Every coarser bucket is summed first (a caller merges stored rows into each delta it is handed), each from the
    // resolution below it: fewer sketch merges than from the minutes every time.
    const tiers: RollupDelta[][] = [[...this.#minutes.values()]];
    for (const bucketMs of ROLLUP_BUCKETS_MS.slice(1)) tiers.push([...coarserDeltas(tiers.at(-1) ?? [], bucketMs).values()]);
    for (const deltas of tiers) yield* deltas;
  }
}

/** The deltas of `bucketMs` buckets summed from finer ones. */
function coarserDeltas(finer: Iterable<RollupDelta>, bucketMs: number): Map<string, RollupDelta> {
  const deltas = new Map<string, RollupDelta>();
  for (const from of finer) {
    const start = from.bucketStart - (from.bucketStart % bucketMs);
    const key = `${start}\u0000${from.service}\u0000${from.method}\u0000${from.statusCode}`;
    let delta = deltas.get(key);
    if (!delta) {
      delta = emptyDelta(bucketMs, start, from.service, from.method, from.statusCode);
      deltas.set(key, delta);
    }
    addDelta(delta, from);
  }
  return deltas;
}

function addDelta(into: RollupDelta, from: RollupDelta): void {
  into.calls += from.calls;
  into.durationSumMs += from.durationSumMs;
  into.durationMinMs = Math.min(into.durationMinMs, from.durationMinMs);
  into.durationMaxMs = Math.max(into.durationMaxMs, from.durationMaxMs);
  into.requestBytes += from.requestBytes;
  into.responseBytes += from.responseBytes;
  into.requestMessages += from.requestMessages;
  into.responseMessages += from.responseMessages;
  into.sketch.merge(from.sketch);
}

/**
 * The row to store for a delta, given the stored row of the same key (or none): sums added, min/max combined,
 * sketches merged. Read-merge-write runs inside the writer's transaction, so replicas writing one key cannot lose
 * each other's counts.
 */
export function mergedRollupRow(delta: RollupDelta, stored: CallRollupTable | undefined): CallRollupTable {
  const sketch = new SketchMerger();
  sketch.addSketch(delta.sketch);
  if (stored) sketch.addEncoded(stored.latency_sketch);
  return {
    bucket_ms: delta.bucketMs,
    bucket_start: delta.bucketStart,
    service: delta.service,
    method: delta.method,
    status_code: delta.statusCode,
    calls: delta.calls + (stored?.calls ?? 0),
    duration_sum_ms: delta.durationSumMs + (stored?.duration_sum_ms ?? 0),
    duration_min_ms: Math.min(delta.durationMinMs, stored?.duration_min_ms ?? Number.POSITIVE_INFINITY),
    duration_max_ms: Math.max(delta.durationMaxMs, stored?.duration_max_ms ?? 0),
    request_bytes: delta.requestBytes + (stored?.request_bytes ?? 0),
    response_bytes: delta.responseBytes + (stored?.response_bytes ?? 0),
    request_messages: delta.requestMessages + (stored?.request_messages ?? 0),
    response_messages: delta.responseMessages + (stored?.response_messages ?? 0),
    latency_sketch: sketch.encode(),
  };
}

/** The columns of a rollup that add up across buckets. */
const SUMMED_COLUMNS = [
  'calls',
  'duration_sum_ms',
  'request_bytes',
  'response_bytes',
  'request_messages',
  'response_messages',
] as const;

/**
 * One rollup row of `bucketMs` summing stored rollup rows of finer buckets inside it (of one key): what the writer
 * would have written had it known the coarser resolution (migration 0008's backfill). Sketches decoded once each,
 * merged bins encoded once.
 * @throws Error when a sketch cannot be decoded (see `decodeSketch`).
 */
export function summedRollupRow(bucketMs: number, bucketStart: number, rows: readonly CallRollupTable[]): CallRollupTable {
  const sketch = new SketchMerger();
  const first = rows[0];
  const sum: CallRollupTable = {
    bucket_ms: bucketMs,
    bucket_start: bucketStart,
    service: first?.service ?? '',
    method: first?.method ?? '',
    status_code: first?.status_code ?? 0,
    calls: 0,
    duration_sum_ms: 0,
    duration_min_ms: Number.POSITIVE_INFINITY,
    duration_max_ms: 0,
    request_bytes: 0,
    response_bytes: 0,
    request_messages: 0,
    response_messages: 0,
    latency_sketch: new Uint8Array(0),
  };
  for (const row of rows) {
    for (const column of SUMMED_COLUMNS) sum[column] += row[column];
    sum.duration_min_ms = Math.min(sum.duration_min_ms, row.duration_min_ms);
    sum.duration_max_ms = Math.max(sum.duration_max_ms, row.duration_max_ms);
    sketch.addEncoded(row.latency_sketch);
  }
  return { ...sum, latency_sketch: sketch.encode() };
}
