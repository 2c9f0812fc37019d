/** Options of {@link BatchWriter}. */
export interface BatchWriterOptions {
  /** Rows per transaction. @defaultValue 500 */
  readonly batchSize?: number;
  /** Longest a row waits in the queue before a flush starts, in ms. @defaultValue 100 */
  readonly flushIntervalMs?: number;
  /** Rows the queue holds at most; past that, rows are dropped and counted. @defaultValue 50000 */
  readonly maxQueue?: number;
  /** Called when a batch fails to write (the rows of that batch are counted as dropped). */
  readonly onError?: (error: unknown) => void;
}

/** Counters of a writer. `written + dropped + queued === recorded` always holds. */
export interface BatchWriterCounters {
  readonly recorded: number;
  readonly written: number;
  readonly dropped: number;
  readonly queued: number;
}

/**
 * A bounded queue flushed in batches, by size and by time, one batch at a time. `push` never waits on the disk:
 * it enqueues, or drops and counts when the queue is full, so a burst cannot grow memory without bound.
 */
export class BatchWriter<Row> {
  readonly #write: (rows: Row[]) => Promise<void>;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #maxQueue: number;
  readonly #onError: (error: unknown) => void;
  #queue: Row[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #recorded = 0;
  #written = 0;
  #dropped = 0;

  constructor(write: (rows: Row[]) => Promise<void>, options: BatchWriterOptions = {}) {
    this.#write = write;
    this.#batchSize = options.batchSize ?? 500;
    this.#intervalMs = options.flushIntervalMs ?? 100;
    this.#maxQueue = options.maxQueue ?? 50_000;
    this.#onError = options.onError ?? ((error) => process.stderr.write(`grpcforge log store: ${String(error)}\n`));
  }

  /** Enqueues a row. @returns false when the queue was full and the row was dropped. */
  push(row: Row): boolean {
    this.#recorded++;
    if (this.#queue.length >= this.#maxQueue) {
      this.#dropped++;
      return false;
    }
    this.#queue.push(row);
    if (this.#queue.length >= this.#batchSize) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#intervalMs);
    return true;
  }

  /** Writes every queued row; resolves when they are committed (or counted as dropped on error). */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#flushing = this.#flushing.then(async () => {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#batchSize);
        try {
          await this.#write(batch);
          this.#written += batch.length;
        } catch (error) {
          this.#dropped += batch.length;
          this.#onError(error);
        }
      }
    });
    return this.#flushing;
  }

  /** The counters now. */
  counters(): BatchWriterCounters {
    return { recorded: this.#recorded, written: this.#written, dropped: this.#dropped, queued: this.#queue.length };
  }
}
