import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { inspect } from 'node:util';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteAdapter, SqliteDialect, type DialectAdapter } from 'kysely';
import type { LogStoreDatabase } from '../../database.js';
import { explainNativeAddonMismatch } from '../../native-addon.js';

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

/** better-sqlite3, loaded when a store is opened, not at import: services that never open one never load the addon. */
export async function loadBetterSqlite3(): Promise<typeof BetterSqlite3> {
  return (await import('better-sqlite3')).default;
}

/** SQLite's answers when a file or its folder cannot be written (the -wal and -shm files live beside it). */
export function isNotWritable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (
    (typeof code === 'string' && /^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code)) ||
    /readonly database|unable to open database file/.test(message)
  );
}

/** An error that says which file, what SQLite answered, and what to check. */
export function sqliteStoreError(path: string, error: unknown): Error {
  const mismatch = explainNativeAddonMismatch(error, 'better-sqlite3');
  if (mismatch !== undefined) return new Error(`the log store ${path} cannot be opened: ${mismatch}`, { cause: error });
  const reason = error instanceof Error ? error.message : inspect(error);
  if (!isNotWritable(error)) return new Error(`the log store ${path} cannot be opened: ${reason}`, { cause: error });
  return new Error(
    `the log store ${path} cannot be written (${reason}): check that this user may write the file and its folder ` +
      '(SQLite creates -wal and -shm files beside it), or set logStore.url to another path',
    { cause: error },
  );
}

/** How long a process waits for another one's migration of the same SQLite store, in ms. */
const MIGRATION_LOCK_WAIT_MS = 120_000;

/**
 * kysely's SQLite adapter with a migration lock between processes, where kysely puts one: kysely locks migrations
 * on PostgreSQL, and on SQLite relies on its single connection, so two processes opening a store that needs
 * migrating at once (replicas, `grpcforge dev` starting every service) would both migrate. The lock is an exclusive
 * transaction on `<store>-migrate.lock`, a tiny SQLite file beside the store: the operating system's lock, released
 * even when a process dies. Another process waits for it, then finds the migrations done.
 */
class MigrationLockingAdapter extends SqliteAdapter {
  readonly #path: string;
  readonly #Database: typeof BetterSqlite3;
  #lock: BetterSqlite3.Database | undefined;

  constructor(path: string, Database: typeof BetterSqlite3) {
    super();
    this.#path = path;
    this.#Database = Database;
  }

  override async acquireMigrationLock(): Promise<void> {
    const lock = new this.#Database(`${this.#path}-migrate.lock`, { timeout: 0 });
    // Polled, not waited for inside SQLite: a wait there would block this thread, and with it a migration of the
    // same store this process is running.
    for (const start = Date.now(); ;) {
      try {
        lock.exec('begin exclusive');
        this.#lock = lock;
        return;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() - start > MIGRATION_LOCK_WAIT_MS) {
          lock.close();
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  // kysely calls this in a `finally`, also when acquiring failed: then there is nothing to release.
  override async releaseMigrationLock(): Promise<void> {
    const lock = this.#lock;
    this.#lock = undefined;
    if (!lock) return;
    try {
      lock.exec('commit');
    } finally {
      lock.close();
    }
  }
}

/** kysely's SQLite dialect whose adapter takes {@link MigrationLockingAdapter}'s lock (none for `:memory:`). */
class LockingSqliteDialect extends SqliteDialect {
  readonly #adapter: DialectAdapter;

  constructor(database: BetterSqlite3.Database, path: string, Database: typeof BetterSqlite3) {
    super({ database });
    this.#adapter = path === ':memory:' ? new SqliteAdapter() : new MigrationLockingAdapter(path, Database);
  }

  override createAdapter(): DialectAdapter {
    return this.#adapter;
  }
}

/**
 * The reading connection of a store (its folder created when missing) and kysely over it, whose migrations take the
 * lock file. @throws Error from {@link sqliteStoreError}.
 */
export async function openSqliteReader(
  path: string,
): Promise<{ readonly sqlite: BetterSqlite3.Database; readonly db: Kysely<LogStoreDatabase> }> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const Database = await loadBetterSqlite3();
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = openSqliteConnection(Database, path, 5000);
  } catch (error) {
    throw sqliteStoreError(path, error);
  }
  return { sqlite, db: new Kysely<LogStoreDatabase>({ dialect: new LockingSqliteDialect(sqlite, path, Database) }) };
}
