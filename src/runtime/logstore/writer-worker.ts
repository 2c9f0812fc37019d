/**
 * Entry of the log store's writer thread: owns its own better-sqlite3 connection (WAL lets the main thread's
 * connection read meanwhile) and answers each request in order. Blocking here (fsync, a lock held by another
 * process) delays rows, never a call.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { openSqliteConnection } from './sqlite-connection.js';
import { createSqliteWriter, type SqliteWriterOptions } from './sqlite-writer.js';
import type { WriterRequest } from './writer-protocol.js';

const options = workerData as SqliteWriterOptions;
const port = parentPort;
if (!port) throw new Error('writer-worker.ts runs as a worker thread');
const sqlite = openSqliteConnection(Database, options.path);
// The writer's own connection: a 64 MiB page cache keeps the indexes' right edges and the current rollups in memory,
// and checkpoints of ~40 MiB instead of 4 MiB cost less per row.
sqlite.pragma('cache_size = -65536');
sqlite.pragma('wal_autocheckpoint = 10000');
const handle = createSqliteWriter(sqlite, options);
port.on('message', (first: WriterRequest) => {
  // Whatever queued while the last write ran is taken now: consecutive row batches then share one transaction.
  const requests = [first];
  for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port))
    requests.push(next.message as WriterRequest);
  for (const reply of handle(requests)) port.postMessage(reply);
  if (requests.some((request) => request.type === 'close')) port.close();
});
