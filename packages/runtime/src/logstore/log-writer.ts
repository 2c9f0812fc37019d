import { Worker } from 'node:worker_threads';
import type { CallRecord } from './call-record.js';
import type { LogStoreConnectOptions, LogStoreDialect } from './dialect.js';
import { RowBatchBuilder, packRowBatch, unpackRowBatch, type PackedRowBatch } from './row-batch.js';
import { startWriterLoop, type WriterCoreOptions, type WriterHandler } from './writer-core.js';
import {
  totalDropped,
  type DropReason,
  type DroppedBy,
  type RowsRequest,
  type WriterReply,
  type WriterRequest,
} from './writer-protocol.js';

/** Options of the request-log writer. */
export interface LogWriterOptions {
  /** Rows per batch (one message to the writer thread, one transaction). @defaultValue 1000 */
  readonly batchSize?: number;
  /** Longest a row waits before its batch is sent, in ms. @defaultValue 100 */
  readonly flushIntervalMs?: number;
  /** Rows queued at most (not yet committed, in this thread or the writer's); past that rows are dropped. @defaultValue 100000 */
  readonly maxQueue?: number;
  /** Where problems are reported (once per kind). @defaultValue stderr */
  readonly onError?: (message: string) => void;
}

/** Counters of a writer. `written + dropped + queued === recorded` always holds. */
export interface LogWriterCounters {
  readonly recorded: number;
  readonly written: number;
  readonly dropped: number;
  /** Dropped rows by reason: the queue was full, their batch failed, or the store is gone (file deleted or replaced, writer thread died). */
  readonly droppedBy: DroppedBy;
  readonly queued: number;
}

/** How requests reach the writer: a worker thread, or a function on this thread (`:memory:` stores). */
export interface WriterTransport {
  send(request: WriterRequest, transfer?: ArrayBuffer[]): void;
  /** Ends the transport after the writer answered `close`. */
  end(): Promise<void>;
}

type Pending = { resolve: (reply: WriterReply) => void; rows: number; done: Promise<WriterReply> };

/**
 * The store's write path on the request thread: `record` appends to a columnar batch and returns; full or timed-out
 * batches go to the writer in one message. Everything else the store writes (API key usage, heartbeats, retention)
 * goes through the same writer, so this thread never waits on the database's lock.
 */
export class LogWriter {
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #maxQueue: number;
  readonly #onError: (message: string) => void;
  #transport: WriterTransport | undefined;
  #builder: RowBatchBuilder;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  readonly #pending = new Map<number, Pending>();
  #inFlightRows = 0;
  #recorded = 0;
  #written = 0;
  readonly #droppedBy: Record<DropReason, number> = { queueFull: 0, writeError: 0, storeGone: 0 };
  #dead: string | undefined;
  readonly #reported = new Set<string>();

  constructor(options: LogWriterOptions = {}) {
    this.#batchSize = options.batchSize ?? 1000;
    this.#intervalMs = options.flushIntervalMs ?? 100;
    this.#maxQueue = options.maxQueue ?? 100_000;
    this.#onError = options.onError ?? ((message) => process.stderr.write(`grpcforge log store: ${message}\n`));
    this.#builder = new RowBatchBuilder(this.#batchSize);
  }

  /** Connects the transport; replies are handed to {@link LogWriter.receive}. */
  attach(transport: WriterTransport): void {
    this.#transport = transport;
  }

  /**
   * Enqueues a call. @returns false when it was dropped (queue full, or the store is gone).
   * @throws Error when the store was opened without a writer (`writer: false`): a setup mistake, not a runtime state.
   */
  readonly record = (row: CallRecord): boolean => {
    if (!this.#transport) throw new Error('this log store was opened without a writer (writer: false): it cannot record calls');
    this.#recorded++;
    if (this.#dead !== undefined) {
      this.#droppedBy.storeGone++;
      return false;
    }
    if (this.#builder.length + this.#inFlightRows >= this.#maxQueue) {
      this.#droppedBy.queueFull++;
      this.#report('queueFull', `the queue is full (${this.#maxQueue} rows): calls are dropped until the writer catches up`);
      return false;
    }
    this.#builder.push(row);
    if (this.#builder.full) this.#sendRows();
    else this.#timer ??= setTimeout(() => this.#sendRows(), this.#intervalMs);
    return true;
  };

  /** Sends a request other than rows and resolves with its reply. */
  request(make: (seq: number) => WriterRequest): Promise<WriterReply> {
    const seq = ++this.#seq;
    if (this.#dead !== undefined || !this.#transport) {
      return Promise.resolve({ type: 'failed', seq, reason: 'storeGone', message: this.#dead ?? 'the store is closed' });
    }
    const pending = this.#track(seq, 0);
    this.#transport.send(make(seq));
    return pending.done;
  }

  /** Sends the rows queued here and resolves when every request sent so far was answered. */
  async flush(): Promise<void> {
    this.#sendRows();
    await Promise.all([...this.#pending.values()].map((pending) => pending.done));
  }

  /** Flushes, closes the writer's connection and ends the transport. */
  async close(): Promise<void> {
    await this.flush();
    if (this.#transport && this.#dead === undefined) await this.request((seq) => ({ type: 'close', seq }));
    this.#dead ??= 'the store is closed';
    await this.#transport?.end();
  }

  /** The counters now. */
  counters(): LogWriterCounters {
    return {
      recorded: this.#recorded,
      written: this.#written,
      dropped: totalDropped(this.#droppedBy),
      droppedBy: { ...this.#droppedBy },
      queued: this.#builder.length + this.#inFlightRows,
    };
  }

  /** Handles a reply of the writer. */
  receive(reply: WriterReply): void {
    const pending = this.#pending.get(reply.seq);
    if (!pending) return;
    this.#pending.delete(reply.seq);
    this.#inFlightRows -= pending.rows;
    if (reply.type === 'done') this.#written += reply.rows ?? 0;
    else {
      this.#droppedBy[reply.reason] += pending.rows;
      this.#report(reply.reason, reply.message + (pending.rows ? ` (${pending.rows} calls not written)` : ''));
    }
    pending.resolve(reply);
  }

  /** The writer is gone (its thread died): every row not committed is dropped, later ones too; reported once. */
  fail(message: string): void {
    if (this.#dead !== undefined) return;
    this.#dead = message;
    this.#report('storeGone', `${message}; calls are no longer written (counted as dropped), the server keeps serving`);
    for (const seq of [...this.#pending.keys()]) this.receive({ type: 'failed', seq, reason: 'storeGone', message });
    this.#droppedBy.storeGone += this.#builder.length;
    this.#builder.take();
  }

  #sendRows(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#builder.length === 0 || !this.#transport || this.#dead !== undefined) return;
    const batch = this.#builder.take();
    const seq = ++this.#seq;
    this.#inFlightRows += batch.count;
    this.#track(seq, batch.count);
    this.#transport.send({ type: 'rows', seq, batch }, [batch.numbers.buffer as ArrayBuffer]);
  }

  #track(seq: number, rows: number): Pending {
    let resolve: (reply: WriterReply) => void = () => {};
    const done = new Promise<WriterReply>((settle) => (resolve = settle));
    const pending = { resolve, rows, done };
    this.#pending.set(seq, pending);
    return pending;
  }

  #report(kind: string, message: string): void {
    if (this.#reported.has(kind)) return;
    this.#reported.add(kind);
    this.#onError(message);
  }
}

/** What the writer thread opens: the dialect (where the thread imports it), what it points at, and how it writes. */
export interface WriterOptions extends WriterCoreOptions {
  readonly dialect: LogStoreDialect['module'];
  /** The store, as the dialect opens it: a path, a connection string. */
  readonly location: string;
  readonly connect?: LogStoreConnectOptions;
}

/** Starts the writer thread (`writer-worker`, next to this module: `.ts` when running from source under tsx). */
export function startWriterWorker(options: WriterOptions): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: options });
  // From source (tests under tsx): a worker does not inherit the parent's module hooks, so it registers tsx first.
  const entry = JSON.stringify(new URL('./writer-worker.ts', import.meta.url).href);
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); });`;
  return new Worker(bootstrap, { eval: true, workerData: options });
}

/** A request as it crosses to the writer thread: rows packed (see {@link PackedRowBatch}). */
export type WorkerMessage =
  Exclude<WriterRequest, RowsRequest> | (Omit<RowsRequest, 'batch'> & { readonly batch: PackedRowBatch });

/** `request` for the writer thread. */
function toWorkerMessage(request: WriterRequest): WorkerMessage {
  return request.type === 'rows' ? { ...request, batch: packRowBatch(request.batch) } : request;
}

/** The request the writer thread received. */
export function fromWorkerMessage(message: WorkerMessage): WriterRequest {
  return message.type === 'rows' ? { ...message, batch: unpackRowBatch(message.batch) } : message;
}

/** A transport over a worker thread running `writer-worker`. */
export function workerTransport(writer: LogWriter, worker: Worker): WriterTransport {
  let ended = false;
  worker.on('message', (reply: WriterReply) => writer.receive(reply));
  worker.on('error', (error) => writer.fail(`the writer thread died: ${error.message}`));
  worker.on('exit', (code) => {
    if (!ended) writer.fail(`the writer thread exited (code ${code})`);
  });
  return {
    send: (request, transfer) => {
      const message = toWorkerMessage(request);
      worker.postMessage(
        message,
        message.type === 'rows' ? [...(transfer ?? []), message.batch.indices.buffer as ArrayBuffer] : (transfer ?? []),
      );
    },
    end: async () => {
      ended = true;
      await worker.terminate();
    },
  };
}

/** A transport that runs the writer on this thread, after the current turn (for `:memory:` stores). */
export function inlineTransport(writer: LogWriter, handle: WriterHandler): WriterTransport {
  const push = startWriterLoop(
    handle,
    (reply) => writer.receive(reply),
    () => {},
    setImmediate,
  );
  return {
    send: (request) => push([request]),
    end: async () => {},
  };
}
