/**
 * Entry of the log store's writer thread: owns its own better-sqlite3 connection (WAL lets the main thread's
 * connection read meanwhile) and answers each request in order. Blocking here (fsync, a lock held by another
 * process) delays rows, never a call.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { openSqliteConnection } from './sqlite-connection.js';
import { createSqliteWriter, type SqliteWriterOptions } from './sqlite-writer.js';
import type { WriterRequest } from './writer-protocol.js';

const options = workerData as SqliteWriterOptions;
const port = parentPort;
if (!port) throw new Error('writer-worker.ts runs as a worker thread');
const handle = createSqliteWriter(openSqliteConnection(Database, options.path), options);
port.on('message', (request: WriterRequest) => {
  const reply = handle(request);
  port.postMessage(reply);
  if (request.type === 'close') port.close();
});
