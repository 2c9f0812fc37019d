import type BetterSqlite3 from 'better-sqlite3';

/**
 * Opens a connection the way every connection of the store is opened: WAL (readers never wait for the writer),
 * `synchronous = NORMAL` (a committed batch survives kill -9; a power loss may lose the last transactions but never
 * corrupts the file), and a busy timeout, after which the writer retries on its own schedule.
 */
export function openSqliteConnection(Database: typeof BetterSqlite3, path: string, busyTimeoutMs = 1000): BetterSqlite3.Database {
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
  return sqlite;
}
