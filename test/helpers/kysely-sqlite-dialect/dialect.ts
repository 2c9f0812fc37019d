import Database from 'better-sqlite3';
import { Kysely, SqliteAdapter, SqliteDialect, sql, type DialectAdapter, type MigrationLockOptions } from 'kysely';
import type { LogStoreDatabase, LogStoreDialect } from '../../../packages/runtime/src/index.ts';
import { createKyselySqliteWriteConnection } from './writer.ts';

/**
 * A migration lock on kysely's own lock row (`kysely_migration_lock.is_locked`), polled: the way kysely locked
 * before engines had advisory locks. A process that dies holding it leaves it set (good enough for tests).
 */
class LockRowAdapter extends SqliteAdapter {
  #held = false;

  override async acquireMigrationLock(db: Kysely<unknown>, options: MigrationLockOptions): Promise<void> {
    for (;;) {
      const taken = await sql`update ${sql.table(options.lockTable)} set is_locked = 1
        where id = ${options.lockRowId} and is_locked = 0`.execute(db);
      if (Number(taken.numAffectedRows) === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.#held = true;
  }

  override async releaseMigrationLock(db: Kysely<unknown>, options: MigrationLockOptions): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    await sql`update ${sql.table(options.lockTable)} set is_locked = 0 where id = ${options.lockRowId}`.execute(db);
  }
}

/** kysely's SQLite dialect with {@link LockRowAdapter}. */
class LockRowSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new LockRowAdapter();
  }
}

/** kysely over a new WAL connection to `path`. */
function open(path: string): Kysely<LogStoreDatabase> {
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  return new Kysely<LogStoreDatabase>({ dialect: new LockRowSqliteDialect({ database }) });
}

/**
 * A third log-store engine that exists only in the tests, to prove the seam: SQLite files (`kysely-sqlite:<path>`)
 * written through kysely's query builder and SQLite driver alone, with kysely's lock row as the migration lock. It
 * lives in this folder only; the suite registers it with `registerLogStoreDialect`.
 */
export const kyselySqliteDialect: LogStoreDialect = {
  name: 'kysely-sqlite',
  schemes: ['kysely-sqlite'],
  module: { url: import.meta.url, exportName: 'kyselySqliteDialect' },
  columnTypes: { rowId: 'integer', double: 'real', bytes: 'blob', autoIncrement: true, clusteredRollups: false },
  capabilities: { commitMayBeLost: false, acceptsNulInText: true },
  maxRetryPauseMs: 100,
  locationOf: (url) => url.slice('kysely-sqlite:'.length),
  openReader: async (path) => ({
    db: open(path),
    label: path,
    explain: (error) => new Error(`the log store ${path} cannot be opened: ${String(error)}`, { cause: error }),
  }),
  openWriter: async (path) => createKyselySqliteWriteConnection(open(path)),
  isTransient: (error) => /^SQLITE_(BUSY|LOCKED)/.test(String((error as { code?: unknown } | null)?.code)),
  redactUrl: (url) => url,
};
