import type { CallRecord } from './call-record.js';
import type { RequestLogTable } from './database.js';
import { STORED_TEXT_MAX_BYTES as MAX, truncateUtf8 } from '../vocabulary/stored-calls.js';

/**
 * A batch of calls as it crosses to the writer thread: columnar, so one `postMessage` carries a whole batch. Numbers
 * sit in one Float64Array (transferred, not copied), strings in one array; row `i`'s values are at
 * `i * NUMBER_STRIDE + column` and `i * STRING_STRIDE + column`.
 */
export interface RowBatch {
  readonly count: number;
  readonly numbers: Float64Array;
  readonly strings: (string | null)[];
}

/** Offsets of the numeric columns of a row. */
export const N = {
  startedAt: 0,
  statusCode: 1,
  durationMs: 2,
  requestBytes: 3,
  responseBytes: 4,
  requestMessages: 5,
  responseMessages: 6,
} as const;
export const NUMBER_STRIDE = 7;

/** Offsets of the string columns of a row. */
export const S = {
  requestId: 0,
  service: 1,
  method: 2,
  kind: 3,
  principal: 4,
  apiKeyId: 5,
  peer: 6,
  errorMessage: 7,
  traceId: 8,
  rawPath: 9,
  errorReason: 10,
  violationField: 11,
} as const;
export const STRING_STRIDE = 12;

/**
 * Collects records into a {@link RowBatch} of at most `capacity` rows. Every row of the store is made here: its service,
 * method, principal, error message, raw path, error reason and violation field are cut to {@link STORED_TEXT_MAX_BYTES} (UTF-8, at a character
 * boundary), whatever their source (a client's path, a credential's subject, a handler's message).
 */
export class RowBatchBuilder {
  readonly #capacity: number;
  #numbers: Float64Array;
  #strings: (string | null)[] = [];
  #count = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#numbers = new Float64Array(capacity * NUMBER_STRIDE);
  }

  get length(): number {
    return this.#count;
  }

  get full(): boolean {
    return this.#count >= this.#capacity;
  }

  push(record: CallRecord): void {
    const n = this.#count * NUMBER_STRIDE;
    const numbers = this.#numbers;
    numbers[n + N.startedAt] = record.startedAt;
    numbers[n + N.statusCode] = record.statusCode;
    numbers[n + N.durationMs] = record.durationMs;
    numbers[n + N.requestBytes] = record.requestBytes;
    numbers[n + N.responseBytes] = record.responseBytes;
    numbers[n + N.requestMessages] = record.requestMessages;
    numbers[n + N.responseMessages] = record.responseMessages;
    this.#strings.push(
      record.requestId,
      truncateUtf8(record.service, MAX.service),
      truncateUtf8(record.method, MAX.method),
      record.kind,
      boundText(record.principal, MAX.principal),
      record.apiKeyId,
      record.peer,
      boundText(record.errorMessage, MAX.errorMessage),
      record.traceId ?? null,
      boundText(record.rawPath, MAX.rawPath),
      boundText(record.errorReason, MAX.errorReason),
      boundText(record.violationField, MAX.violationField),
    );
    this.#count++;
  }

  /** The rows so far as a batch; the builder starts empty again. */
  take(): RowBatch {
    const batch: RowBatch = {
      count: this.#count,
      numbers: this.#count === this.#capacity ? this.#numbers : this.#numbers.slice(0, this.#count * NUMBER_STRIDE),
      strings: this.#strings,
    };
    this.#numbers = new Float64Array(this.#capacity * NUMBER_STRIDE);
    this.#strings = [];
    this.#count = 0;
    return batch;
  }
}

/**
 * The rows of `batches` as `request_logs` rows (without the store's own `id`), in batch order: for an engine that
 * inserts row objects (kysely's `insertInto('request_logs').values(rows)`) instead of reading the columns itself.
 */
export function* requestLogRowsOf(batches: readonly RowBatch[]): Generator<Omit<RequestLogTable, 'id'>> {
  for (const { numbers, strings, count } of batches)
    for (let row = 0; row < count; row++) {
      const text = (offset: number) => strings[row * STRING_STRIDE + offset] ?? null;
      const number = (offset: number) => numbers[row * NUMBER_STRIDE + offset] ?? 0;
      yield {
        request_id: text(S.requestId) ?? '',
        started_at: number(N.startedAt),
        service: text(S.service) ?? '',
        method: text(S.method) ?? '',
        kind: text(S.kind) ?? '',
        status_code: number(N.statusCode),
        duration_ms: number(N.durationMs),
        principal: text(S.principal),
        api_key_id: text(S.apiKeyId),
        peer: text(S.peer),
        request_bytes: number(N.requestBytes),
        response_bytes: number(N.responseBytes),
        request_messages: number(N.requestMessages),
        response_messages: number(N.responseMessages),
        error_message: text(S.errorMessage),
        trace_id: text(S.traceId),
        raw_path: text(S.rawPath),
        error_reason: text(S.errorReason),
        violation_field: text(S.violationField),
      };
    }
}

/** `text` cut to `maxBytes` of UTF-8; null for null or absent. */
function boundText(text: string | null | undefined, maxBytes: number): string | null {
  return text == null ? null : truncateUtf8(text, maxBytes);
}

/**
 * A {@link RowBatch} as it crosses to the writer thread: each distinct text once (`dictionary`), the rows' texts as
 * indexes into it (`indices`, -1 for null, transferable like `numbers`). A batch's texts repeat (a method, a peer, a
 * principal per row): copying 12 strings per row into the message cost more than the rest of recording a call.
 */
export interface PackedRowBatch {
  readonly count: number;
  readonly numbers: Float64Array;
  readonly dictionary: readonly string[];
  readonly indices: Int32Array;
}

/** `batch` packed for the writer thread (see {@link PackedRowBatch}). */
export function packRowBatch(batch: RowBatch): PackedRowBatch {
  const { strings } = batch;
  const ids = new Map<string, number>();
  const dictionary: string[] = [];
  const indices = new Int32Array(strings.length);
  for (let at = 0; at < strings.length; at++) {
    const text = strings[at];
    if (text == null) {
      indices[at] = -1;
      continue;
    }
    // A request id is never repeated: not worth a lookup.
    let id = at % STRING_STRIDE === S.requestId ? undefined : ids.get(text);
    if (id === undefined) {
      id = dictionary.push(text) - 1;
      if (at % STRING_STRIDE !== S.requestId) ids.set(text, id);
    }
    indices[at] = id;
  }
  return { count: batch.count, numbers: batch.numbers, dictionary, indices };
}

/** The batch {@link packRowBatch} packed. */
export function unpackRowBatch(packed: PackedRowBatch): RowBatch {
  const { dictionary, indices } = packed;
  const strings = new Array<string | null>(indices.length);
  for (let at = 0; at < indices.length; at++) {
    const id = indices[at]!;
    strings[at] = id < 0 ? null : dictionary[id]!;
  }
  return { count: packed.count, numbers: packed.numbers, strings };
}
