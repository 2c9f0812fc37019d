import type { LogStoreDialect } from '../../dialect.js';
import { isNotWritable, loadBetterSqlite3, openSqliteConnection, openSqliteReader, sqliteStoreError } from './connection.js';
import { createSqliteWriteConnection } from './writer.js';

/** SQLite's codes for a lock held by another connection: the write is retried until `maxLockWaitMs`. */
const BUSY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED']);

/**
 * SQLite through better-sqlite3: `sqlite:<path>` (the folder created when missing), `sqlite::memory:`, or a bare path
 * ending in `.db`. WAL: the writer thread's connection writes while this thread's reads. The column types are the
 * ones the migrations always wrote, so existing stores stay as they are.
 */
export const sqliteDialect: LogStoreDialect = {
  name: 'sqlite',
  schemes: ['sqlite'],
  module: { url: import.meta.url, exportName: 'sqliteDialect' },
  columnTypes: { rowId: 'integer', double: 'real', bytes: 'blob', autoIncrement: true, clusteredRollups: true },
  capabilities: { commitMayBeLost: false, acceptsNulInText: true },
  maxRetryPauseMs: 250,
  acceptsUrl: (url) => url.endsWith('.db') || url === ':memory:',
  locationOf: (url) => (url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : url),
  openReader: async (path) => {
    const { sqlite, db } = await openSqliteReader(path);
    return {
      db,
      label: path,
      explain: (error) => sqliteStoreError(path, error),
      isAccessError: isNotWritable,
      // An in-memory database exists only on this connection: its writer runs here. The connection is this
      // thread's: kysely closes it.
      ...(path === ':memory:' ? { openInlineWriter: () => createSqliteWriteConnection(sqlite, path, false, db) } : {}),
    };
  },
  openWriter: async (path) => {
    const sqlite = openSqliteConnection(await loadBetterSqlite3(), path);
    // The writer's own connection: a 64 MiB page cache keeps the indexes' right edges and the current rollups in
    // memory, and checkpoints of ~40 MiB instead of 4 MiB cost less per row.
    sqlite.pragma('cache_size = -65536');
    sqlite.pragma('wal_autocheckpoint = 10000');
    return createSqliteWriteConnection(sqlite, path);
  },
  isTransient: (error) => BUSY_CODES.has(String((error as { code?: unknown } | null)?.code)),
  redactUrl: (url) => url,
};
