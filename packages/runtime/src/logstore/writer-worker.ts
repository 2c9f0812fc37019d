/**
 * Entry of the log store's writer thread: owns its own connection (SQLite: a better-sqlite3 connection, WAL lets the
 * main thread's connection read meanwhile; PostgreSQL: a pool of 2) and answers each request in order. Blocking here
 * (fsync, a lock held by another process, the network) delays rows, never a call.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { WriterOptions } from './log-writer.js';
import type { WriterReply, WriterRequest } from './writer-protocol.js';

const options = workerData as WriterOptions;
const port = parentPort;
if (!port) throw new Error('writer-worker.ts runs as a worker thread');

/** Everything queued now: consecutive row batches then share one transaction. */
function drain(messages: MessagePort, first: WriterRequest): WriterRequest[] {
  const requests = [first];
  for (let next = receiveMessageOnPort(messages); next; next = receiveMessageOnPort(messages))
    requests.push(next.message as WriterRequest);
  return requests;
}

if (options.dialect === 'sqlite') {
  const [{ default: Database }, { openSqliteConnection }, { createSqliteWriter }] = await Promise.all([
    import('better-sqlite3'),
    import('./sqlite-connection.js'),
    import('./sqlite-writer.js'),
  ]);
  const sqlite = openSqliteConnection(Database, options.path);
  // The writer's own connection: a 64 MiB page cache keeps the indexes' right edges and the current rollups in
  // memory, and checkpoints of ~40 MiB instead of 4 MiB cost less per row.
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('wal_autocheckpoint = 10000');
  const handle = createSqliteWriter(sqlite, options);
  port.on('message', (first: WriterRequest) => {
    const requests = drain(port, first);
    for (const reply of handle(requests)) port.postMessage(reply);
    if (requests.some((request) => request.type === 'close')) port.close();
  });
} else {
  const [{ Kysely, PostgresDialect }, { openPostgresPool }, { createPostgresWriter }] = await Promise.all([
    import('kysely'),
    import('./postgres-connection.js'),
    import('./postgres-writer.js'),
  ]);
  const pool = await openPostgresPool(options.settings, 'writer');
  const handle = createPostgresWriter(new Kysely({ dialect: new PostgresDialect({ pool }) }), options);
  // Writes are awaited one run at a time; what arrives meanwhile waits in `queue` and goes in the next run.
  const queue: WriterRequest[] = [];
  let running = false;
  const run = async () => {
    running = true;
    try {
      while (queue.length > 0) {
        const requests = queue.splice(0);
        const replies: WriterReply[] = await handle(requests);
        for (const reply of replies) port.postMessage(reply);
        if (requests.some((request) => request.type === 'close')) {
          port.close();
          return;
        }
      }
    } finally {
      running = false;
    }
  };
  port.on('message', (first: WriterRequest) => {
    queue.push(...drain(port, first));
    if (!running) void run();
  });
}
