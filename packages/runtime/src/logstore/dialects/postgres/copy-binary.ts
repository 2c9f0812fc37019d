import { N, NUMBER_STRIDE, S, STRING_STRIDE, type RowBatch } from '../../row-batch.js';

/**
 * The `request_logs` columns a COPY writes, in the order {@link encodeRequestLogRows} encodes them (every column but
 * the store's own `id`). The statement names them, so the table's own column order does not matter.
 */
export const COPY_REQUEST_LOGS =
  'copy request_logs (request_id, started_at, service, method, kind, status_code, duration_ms, principal, api_key_id, ' +
  'peer, request_bytes, response_bytes, request_messages, response_messages, error_message, trace_id, raw_path, ' +
  'error_reason, violation_field) from stdin (format binary)';

/** Fields per tuple: the 19 columns above. */
const FIELDS = 19;
/** `PGCOPY\n\377\r\n\0`, then the flags (0: no OIDs) and the header extension's length (0), both int32. */
const HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** The file trailer: a field count of -1. */
const TRAILER = Buffer.from([0xff, 0xff]);
/** Bytes of one tuple without its text: the field count, 19 lengths, an int8, a float8 and five int4s. */
const FIXED_BYTES = 2 + 4 * FIELDS + 8 + 8 + 4 * 5;
/** The most bytes UTF-8 takes for one UTF-16 code unit (a surrogate pair is 2 units for 4 bytes). */
const UTF8_PER_UNIT = 3;
/** Where a chunk is handed on: big enough that the per-message cost vanishes, small enough to stream. */
const CHUNK_BYTES = 256 * 1024;

/**
 * Encodes COPY's binary format (PostgreSQL's "Binary Format" of COPY: a header, then per row an int16 field count and
 * each field as an int32 byte length, -1 for NULL, and its bytes in the type's binary send format, big-endian) into
 * buffers of about {@link CHUNK_BYTES}. No text is escaped or parsed on either side, and numbers cross as their bytes.
 */
class CopyBinaryWriter {
  #buffer = Buffer.allocUnsafe(CHUNK_BYTES * 2);
  #at = 0;
  readonly #chunks: Buffer[] = [];

  constructor() {
    this.#at = HEADER.copy(this.#buffer, 0);
  }

  /** Makes room for `bytes` more: a full chunk is handed on and a new buffer started. */
  reserve(bytes: number): void {
    if (this.#at + bytes <= this.#buffer.length) return;
    this.hand();
    if (bytes > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(bytes);
  }

  /** Hands the bytes so far on as a chunk (see {@link CopyBinaryWriter.takeChunks}) and starts a new buffer. */
  hand(): void {
    if (this.#at === 0) return;
    this.#chunks.push(this.#buffer.subarray(0, this.#at));
    this.#buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES * 2, this.#buffer.length));
    this.#at = 0;
  }

  /** Whether the current buffer holds a chunk's worth: hand it on between rows. */
  get chunkFull(): boolean {
    return this.#at >= CHUNK_BYTES;
  }

  fieldCount(count: number): void {
    this.#at = this.#buffer.writeInt16BE(count, this.#at);
  }

  /** A text field (UTF-8), or NULL. The caller reserved `4 + 3 × length` bytes. */
  text(value: string | null | undefined): void {
    const buffer = this.#buffer;
    if (value == null) {
      this.#at = buffer.writeInt32BE(-1, this.#at);
      return;
    }
    const written = value.length === 0 ? 0 : buffer.write(value, this.#at + 4);
    buffer.writeInt32BE(written, this.#at);
    this.#at += 4 + written;
  }

  /** An int8 field: a whole number of ms (far below 2^53), as two int32 halves. */
  int8(value: number): void {
    const buffer = this.#buffer;
    const high = Math.floor(value / 0x1_0000_0000);
    buffer.writeInt32BE(8, this.#at);
    buffer.writeInt32BE(high, this.#at + 4);
    buffer.writeUInt32BE(value - high * 0x1_0000_0000, this.#at + 8);
    this.#at += 12;
  }

  /**
   * An int4 field.
   * @throws RangeError when `value` is outside int4 (as the insert failed on an out-of-range integer).
   */
  int4(value: number): void {
    this.#buffer.writeInt32BE(4, this.#at);
    this.#at = this.#buffer.writeInt32BE(value, this.#at + 4);
  }

  /** A float8 field. */
  float8(value: number): void {
    this.#buffer.writeInt32BE(8, this.#at);
    this.#at = this.#buffer.writeDoubleBE(value, this.#at + 4);
  }

  /** Every chunk, the trailer included. */
  end(): Buffer[] {
    this.reserve(TRAILER.length);
    this.#at += TRAILER.copy(this.#buffer, this.#at);
    this.hand();
    return this.#chunks.splice(0);
  }

  /** The chunks handed on so far (they leave the writer). */
  takeChunks(): Buffer[] {
    return this.#chunks.splice(0);
  }
}

/**
 * The rows of `batches` as the stream of a `COPY request_logs (…) FROM STDIN (FORMAT binary)` ({@link COPY_REQUEST_LOGS}),
 * in batch order, as buffers of about 256 KiB (their concatenation is the whole stream: header, tuples, trailer).
 * Each chunk is yielded as soon as it is full, so the server can start on it while the rest is encoded, and the
 * caller can stop between chunks. Text is written as it is (the writer core already replaced U+0000).
 * @throws RangeError when an integer column's value is outside int4.
 */
export function* encodeRequestLogRows(batches: readonly RowBatch[]): Generator<Buffer, void, undefined> {
  const out = new CopyBinaryWriter();
  for (const { numbers, strings, count } of batches)
    for (let row = 0; row < count; row++) {
      const n = row * NUMBER_STRIDE;
      const s = row * STRING_STRIDE;
      let textUnits = 0;
      for (let column = 0; column < STRING_STRIDE; column++) textUnits += strings[s + column]?.length ?? 0;
      out.reserve(FIXED_BYTES + 4 * STRING_STRIDE + UTF8_PER_UNIT * textUnits);
      out.fieldCount(FIELDS);
      out.text(strings[s + S.requestId]);
      out.int8(numbers[n + N.startedAt] ?? 0);
      out.text(strings[s + S.service]);
      out.text(strings[s + S.method]);
      out.text(strings[s + S.kind]);
      out.int4(numbers[n + N.statusCode] ?? 0);
      out.float8(numbers[n + N.durationMs] ?? 0);
      out.text(strings[s + S.principal]);
      out.text(strings[s + S.apiKeyId]);
      out.text(strings[s + S.peer]);
      out.int4(numbers[n + N.requestBytes] ?? 0);
      out.int4(numbers[n + N.responseBytes] ?? 0);
      out.int4(numbers[n + N.requestMessages] ?? 0);
      out.int4(numbers[n + N.responseMessages] ?? 0);
      out.text(strings[s + S.errorMessage]);
      out.text(strings[s + S.traceId]);
      out.text(strings[s + S.rawPath]);
      out.text(strings[s + S.errorReason]);
      out.text(strings[s + S.violationField]);
      if (out.chunkFull) {
        out.hand();
        yield* out.takeChunks();
      }
    }
  yield* out.end();
}
