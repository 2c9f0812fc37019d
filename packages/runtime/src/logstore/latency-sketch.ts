import { DDSketch } from '@datadog/sketches-js';
// The library's own codec of the DDSketch protobuf format (what its toProto/fromProto use). Its public API merges
// only decoded sketches, and fromProto rebuilds a store bin by bin (~50 µs per sketch, 8× the decode), which would
// dominate `stats` over thousands of rollups; merging decoded bins here keeps that at a few µs per rollup.
import sketchProto from '@datadog/sketches-js/dist/ddsketch/proto/compiled.js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

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

/** The fields of the DDSketch protobuf messages (sketches.proto of DataDog/sketches-go) this module reads. */
interface ProtoStore {
  binCounts?: Record<string, number> | null;
  contiguousBinCounts?: number[] | null;
  contiguousBinIndexOffset?: number | null;
}
interface ProtoMapping {
  gamma?: number | null;
  indexOffset?: number | null;
  interpolation?: number | null;
}
interface ProtoSketch {
  mapping?: ProtoMapping | null;
  positiveValues?: ProtoStore | null;
  negativeValues?: ProtoStore | null;
  zeroCount?: number | null;
}
const codec = (sketchProto as unknown as { DDSketch: ProtoCodec }).DDSketch;
interface ProtoCodec {
  decode(bytes: Uint8Array): ProtoSketch;
  create(message: ProtoSketch): ProtoSketch;
  encode(message: ProtoSketch): { finish(): Uint8Array };
}

/** The index mapping of every sketch the store writes (logarithmic, 1%). */
const MAPPING: ProtoMapping = codec.decode(newLatencySketch().toProto()).mapping ?? {};

/** The bins of an encoded sketch: contiguous counts from index `first`, sparse `[index, count]` pairs, zeros. */
export interface DecodedSketch {
  readonly first: number;
  readonly contiguous: ArrayLike<number>;
  readonly sparse: readonly (readonly [number, number])[];
  readonly zeros: number;
}

/** A `Store` message: its contiguous counts, its sparse ones. */
interface WireStore {
  first: number;
  contiguous: Float64Array;
  sparse: [number, number][];
}

/** Whether `reader` has fields left. */
const more = (reader: BinaryReader) => reader.pos < reader.len;

function readStore(bytes: Uint8Array): WireStore {
  const reader = new BinaryReader(bytes);
  const store: WireStore = { first: 0, contiguous: new Float64Array(0), sparse: [] };
  const unpacked: number[] = [];
  while (more(reader)) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) {
      // map<sint32, double> binCounts: each entry a message { 1: key, 2: value }.
      const entry = new BinaryReader(reader.bytes());
      let key = 0;
      let count = 0;
      while (more(entry)) {
        const [entryField, entryType] = entry.tag();
        if (entryField === 1 && entryType === WireType.Varint) key = entry.sint32();
        else if (entryField === 2 && entryType === WireType.Bit64) count = entry.double();
        else entry.skip(entryType);
      }
      store.sparse.push([key, count]);
    } else if (field === 2 && wireType === WireType.LengthDelimited) {
      // Packed doubles, read straight into one Float64Array (the library's generated decoder makes a JS array).
      const packed = reader.bytes();
      if (packed.byteLength % 8 !== 0) throw new Error('a truncated latency sketch');
      const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
      const counts = new Float64Array(packed.byteLength / 8);
      for (let index = 0; index < counts.length; index++) counts[index] = view.getFloat64(index * 8, true);
      store.contiguous = counts;
    } else if (field === 2 && wireType === WireType.Bit64) {
      unpacked.push(reader.double());
    } else if (field === 3 && wireType === WireType.Varint) {
      store.first = reader.sint32();
    } else {
      reader.skip(wireType);
    }
  }
  if (unpacked.length > 0) store.contiguous = Float64Array.from([...store.contiguous, ...unpacked]);
  return store;
}

/**
 * Decodes a sketch in the DDSketch protobuf format (sketches.proto of DataDog/sketches-go), read with protobuf-es's
 * `BinaryReader` only as far as needed: statistics decode thousands of rollup sketches per request, and the
 * library's generated decoder builds an object per message and JS arrays of the counts.
 * @throws Error when the bytes are not a DDSketch of this store's mapping (another relative accuracy), hold
 * negative values (durations never are), or are truncated.
 */
export function decodeSketch(encoded: Uint8Array): DecodedSketch {
  try {
    return decodeSketchFields(encoded);
  } catch (error) {
    // A read past the end (BinaryReader's "premature EOF", DataView's bounds) says where, not what.
    if (error instanceof RangeError) throw new Error('a truncated latency sketch', { cause: error });
    throw error;
  }
}

function decodeSketchFields(encoded: Uint8Array): DecodedSketch {
  const reader = new BinaryReader(encoded);
  let gamma: number | undefined;
  let indexOffset = 0;
  let positive: WireStore | undefined;
  let negative: WireStore | undefined;
  let zeros = 0;
  while (more(reader)) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) {
      const mapping = new BinaryReader(reader.bytes());
      while (more(mapping)) {
        const [mappingField, mappingType] = mapping.tag();
        if (mappingField === 1 && mappingType === WireType.Bit64) gamma = mapping.double();
        else if (mappingField === 2 && mappingType === WireType.Bit64) indexOffset = mapping.double();
        else mapping.skip(mappingType);
      }
    } else if (field === 2 && wireType === WireType.LengthDelimited) positive = readStore(reader.bytes());
    else if (field === 3 && wireType === WireType.LengthDelimited) negative = readStore(reader.bytes());
    else if (field === 4 && wireType === WireType.Bit64) zeros = reader.double();
    else reader.skip(wireType);
  }
  if (gamma !== MAPPING.gamma || indexOffset !== (MAPPING.indexOffset ?? 0)) {
    throw new Error(`a latency sketch with another mapping (gamma ${gamma ?? '?'}, expected ${MAPPING.gamma ?? '?'})`);
  }
  if (negative && (negative.contiguous.some((count) => count !== 0) || negative.sparse.length > 0)) {
    throw new Error('a latency sketch with negative durations');
  }
  return { first: positive?.first ?? 0, contiguous: positive?.contiguous ?? [], sparse: positive?.sparse ?? [], zeros };
}

/**
 * Merges sketches given as bytes (the DDSketch protobuf format) by adding their bins. Produces the merged sketch as
 * bytes (for a rollup row) or as a {@link LatencySketch} (for percentiles).
 */
export class SketchMerger {
  #offset = 0;
  #bins = new Float64Array(0);
  #zeroCount = 0;
  #count = 0;

  /** Calls merged so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds an encoded sketch.
   * @throws Error as {@link decodeSketch}.
   */
  addEncoded(encoded: Uint8Array): void {
    this.addDecoded(decodeSketch(encoded));
  }

  /** Adds a sketch decoded by {@link decodeSketch} (decode once, add to several mergers). */
  addDecoded({ first, contiguous, sparse, zeros }: DecodedSketch): void {
    if (contiguous.length > 0) {
      this.#ensure(first, first + contiguous.length - 1);
      const bins = this.#bins;
      const at = first - this.#offset;
      let count = 0;
      for (let index = 0; index < contiguous.length; index++) {
        const add = contiguous[index] ?? 0;
        bins[at + index] = (bins[at + index] ?? 0) + add;
        count += add;
      }
      this.#count += count;
    }
    for (const [key, count] of sparse) {
      this.#ensure(key, key);
      this.#add(key, count);
    }
    this.#zeroCount += zeros;
    this.#count += zeros;
  }

  /**
   * Adds a live sketch made by {@link newLatencySketch} (the writer's per-batch deltas), from its store's bins: no
   * encode and decode per rollup.
   */
  addSketch(sketch: LatencySketch): void {
    const store = sketch.store;
    if (store.count > 0) {
      this.#ensure(store.minKey, store.maxKey);
      for (let key = store.minKey; key <= store.maxKey; key++) this.#add(key, store.bins[key - store.offset] ?? 0);
    }
    this.#zeroCount += sketch.zeroCount;
    this.#count += sketch.zeroCount;
  }

  /** The merged sketch in the DDSketch protobuf format, readable by every DDSketch implementation. */
  encode(): Uint8Array {
    let from = 0;
    let to = this.#bins.length;
    while (from < to && this.#bins[from] === 0) from++;
    while (to > from && this.#bins[to - 1] === 0) to--;
    const message = codec.create({
      mapping: MAPPING,
      positiveValues: {
        contiguousBinCounts: Array.from(this.#bins.subarray(from, to)),
        contiguousBinIndexOffset: this.#offset + from,
      },
      negativeValues: { contiguousBinCounts: [], contiguousBinIndexOffset: 0 },
      zeroCount: this.#zeroCount,
    });
    return codec.encode(message).finish();
  }

  /** The merged sketch, to read percentiles from. */
  sketch(): LatencySketch {
    return this.#count === 0 ? newLatencySketch() : DDSketch.fromProto(this.encode());
  }

  #add(key: number, count: number): void {
    if (count === 0) return;
    const index = key - this.#offset;
    this.#bins[index] = (this.#bins[index] ?? 0) + count;
    this.#count += count;
  }

  /** Grows the bins to cover keys `min..max` (with room, so neighbouring sketches rarely grow them again). */
  #ensure(min: number, max: number): void {
    const length = this.#bins.length;
    if (length > 0 && min >= this.#offset && max < this.#offset + length) return;
    const from = length === 0 ? min - 64 : Math.min(this.#offset, min - 64);
    const to = length === 0 ? max + 64 : Math.max(this.#offset + length - 1, max + 64);
    const bins = new Float64Array(to - from + 1);
    if (length > 0) bins.set(this.#bins, this.#offset - from);
    this.#bins = bins;
    this.#offset = from;
  }
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
