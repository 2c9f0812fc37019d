/**
 * Entry of the log store's writer thread: imports the store's dialect, opens its own connection (SQLite: a
 * better-sqlite3 connection, WAL lets the main thread's connection read meanwhile; PostgreSQL: a pool of 2) and
 * answers each request in order through the writer core. Blocking here (fsync, a lock held by another process, the
 * network) delays rows, never a call.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { LogStoreDialect } from './dialect.js';
import { fromWorkerMessage, type WorkerMessage, type WriterOptions } from './log-writer.js';
import { createWriterCore, startWriterLoop } from './writer-core.js';
import type { WriterRequest } from './writer-protocol.js';

const options = workerData as WriterOptions;
const port = parentPort;
if (!port) throw new Error('writer-worker.ts runs as a worker thread');

/** Everything queued now: consecutive row batches then share one transaction. */
function drain(messages: MessagePort, first: WorkerMessage): WriterRequest[] {
  const requests = [fromWorkerMessage(first)];
  for (let next = receiveMessageOnPort(messages); next; next = receiveMessageOnPort(messages))
    requests.push(fromWorkerMessage(next.message as WorkerMessage));
  return requests;
}

// The dialect comes from its own module: objects do not cross threads, and the registry would load every engine.
const dialect = ((await import(options.dialect.url)) as Record<string, LogStoreDialect | undefined>)[options.dialect.exportName];
if (!dialect?.openWriter) throw new Error(`${options.dialect.url} exports no log store dialect "${options.dialect.exportName}"`);
const connection = await dialect.openWriter(options.location, options.connect ?? {});
const push = startWriterLoop(
  createWriterCore(dialect, connection, options),
  (reply) => port.postMessage(reply),
  () => port.close(),
);
port.on('message', (first: WorkerMessage) => push(drain(port, first)));
