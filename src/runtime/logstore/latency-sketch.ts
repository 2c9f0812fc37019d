import { DDSketch } from '@datadog/sketches-js';

/**
 * Relative accuracy of every latency percentile the store reports: a percentile read from rollups is within 1% of the
 * exact value at the same rank (DDSketch's guarantee, Masson, Rim & Lee, VLDB 2019), whatever the number of calls.
 */
export const LATENCY_RELATIVE_ACCURACY = 0.01;

/** A mergeable latency distribution (durations in ms). */
export type LatencySketch = DDSketch;

/** An empty sketch. */
export function newLatencySketch(): LatencySketch {
  return new DDSketch({ relativeAccuracy: LATENCY_RELATIVE_ACCURACY });
}

/** The sketch in the DDSketch protobuf format (`DDSketch.toProto`), readable by every DDSketch implementation. */
export function encodeLatencySketch(sketch: LatencySketch): Uint8Array {
  return sketch.toProto();
}

/**
 * Adds an encoded sketch into `into`.
 * @throws Error when the bytes are not a DDSketch or were made with another relative accuracy.
 */
export function mergeEncodedSketch(into: LatencySketch, encoded: Uint8Array): void {
  into.merge(DDSketch.fromProto(encoded));
}

/**
 * The value at `quantile` (0..1) by nearest rank — the value at position ceil(q·n) of the sorted durations, as
 * `exactSummary` computes it — within 1%, clamped to the exact `min`/`max` kept beside the sketch (a bucket's value
 * may lie up to 1% outside them), rounded to the µs. 0 for an empty sketch.
 */
export function sketchQuantile(sketch: LatencySketch, quantile: number, min: number, max: number): number {
  const count = sketch.count;
  if (count === 0) return 0;
  // DDSketch reads rank q·(n-1) (0-based, rank r covers [r, r+1)); aim at the middle of the nearest rank's slot.
  const rank = Math.max(0, Math.ceil(quantile * count) - 1);
  const value = sketch.getValueAtQuantile(count === 1 ? 0 : Math.min(1, (rank + 0.5) / (count - 1)));
  return Math.round(Math.min(max, Math.max(min, value)) * 1000) / 1000;
}
