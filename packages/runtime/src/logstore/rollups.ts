import type { CallRollupTable } from './database.js';
import { SketchMerger, newLatencySketch, type LatencySketch } from './latency-sketch.js';
// Rollup resolutions: one minute and one hour. Queries read hours where a window covers whole hours.
import { HOUR_MS, MINUTE_MS } from '../vocabulary/time.js';

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
 * Sums calls into per-minute and per-hour rollup deltas. Per call it touches one minute key; hours are summed from
 * the minutes once, in {@link RollupAccumulator.deltas}.
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

  /** The minute deltas, then the hour deltas summed from them. */
  *deltas(): Generator<RollupDelta> {
    const hours = new Map<string, RollupDelta>();
    // Hours are summed first: a caller merges stored rows into each delta it is handed.
    for (const minute of this.#minutes.values()) {
      const hour = minute.bucketStart - (minute.bucketStart % HOUR_MS);
      const key = `${hour}\u0000${minute.service}\u0000${minute.method}\u0000${minute.statusCode}`;
      let delta = hours.get(key);
      if (!delta) {
        delta = emptyDelta(HOUR_MS, hour, minute.service, minute.method, minute.statusCode);
        hours.set(key, delta);
      }
      addDelta(delta, minute);
    }
    yield* this.#minutes.values();
    yield* hours.values();
  }
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
