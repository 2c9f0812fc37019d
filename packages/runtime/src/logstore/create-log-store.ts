import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { inspect } from 'node:util';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  verifyApiKey,
  type ApiKeyRecord,
  type ApiKeyRejection,
  type CreateApiKeyOptions,
  type CreateApiKeyResult,
} from './api-keys.js';
import type { LogStoreDatabase } from './database.js';
import { instanceRow, listInstances, type InstanceRegistration, type ServerInstance } from './instances.js';
import {
  LogWriter,
  inlineTransport,
  startWriterWorker,
  workerTransport,
  type LogWriterCounters,
  type LogWriterOptions,
  type WriterOptions,
} from './log-writer.js';
import { migrationProvider } from './migrations/index.js';
import { createRequestLogReader, type RequestLogs } from './request-logs.js';
import { openPostgresPool, redactConnectionString, type PostgresSettings } from './postgres-connection.js';
import { openSqliteConnection } from './sqlite-connection.js';
import { explainNativeAddonMismatch } from './native-addon.js';
import { createSqliteWriter } from './sqlite-writer.js';
import { createLogStatistics, type LogStatistics } from './statistics.js';

/** Options of {@link createLogStore}. */
export interface LogStoreOptions extends LogWriterOptions {
  /**
   * Where the store is: `sqlite:<path>` (created with its folder when missing), `sqlite::memory:`, a path ending in
   * `.db`, or `postgres://USER@HOST:PORT/DATABASE` (or `postgresql://`; what it leaves out, the password for one,
   * comes from libpq's environment variables: PGPASSWORD, PGHOST, PGUSER, ...). The database must exist.
   */
  readonly url: string;
  /** PostgreSQL only: the reading pool's size and the statement timeout (see {@link PostgresSettings}). */
  readonly postgres?: Omit<PostgresSettings, 'connectionString'>;
  /**
   * Start the writer thread (needed to record calls, count key use and register instances). Commands that only
   * read (`stats`, `logs`, `status`) leave it off. @defaultValue true
   */
  readonly writer?: boolean;
  /** Delete calls and rollups older than this many ms, at open and every hour, in chunks. @defaultValue none (keep everything) */
  readonly retentionMs?: number;
  /** How long the writer retries a batch while another connection holds the write lock, in ms. @defaultValue 60000 */
  readonly maxLockWaitMs?: number;
  /** Told what a long migration is doing (backfilling the rollups of a store written by an earlier version). */
  readonly onMigrationProgress?: (message: string) => void;
}

/** API keys: created and revoked by the CLI, verified by `serve` (reads), usage counted through the writer. */
export interface ApiKeyStore {
  /** A new key, or why none was created (see {@link CreateApiKeyResult}): the caller branches on `kind`. */
  create(options: CreateApiKeyOptions): Promise<CreateApiKeyResult>;
  list(): Promise<ApiKeyRecord[]>;
  /** @returns false when no active key has this id or name. */
  revoke(idOrName: string): Promise<boolean>;
  verify(key: string): Promise<{ ok: true; record: ApiKeyRecord } | { ok: false; reason: ApiKeyRejection }>;
  /** Counts one use of a key in memory; written about once a second, not per call. */
  countUse(id: string, at: number): void;
}

/** Server instances: registered and kept alive by `serve` (through the writer), listed by `status`. */
export interface InstanceStore {
  register(instance: InstanceRegistration): Promise<void>;
  /** Stores the heartbeat time, the row counters of this process and, when given, a new status. */
  heartbeat(id: string, status?: 'serving' | 'stopping' | 'stopped'): Promise<void>;
  list(limit?: number): Promise<ServerInstance[]>;
}

/**
 * The log store, by concern: request logs (written off the request thread), statistics (from rollups), API keys and
 * server instances. The interface `serve`, the CLI and the dashboard depend on, not SQL.
 */
export interface LogStore {
  /** The kysely instance (reads), for queries this interface does not cover. */
  readonly db: Kysely<LogStoreDatabase>;
  readonly logs: RequestLogs;
  readonly statistics: LogStatistics;
  readonly apiKeys: ApiKeyStore;
  readonly instances: InstanceStore;
  /** Commits every queued row and API key use. */
  flush(): Promise<void>;
  /** Flushes, then closes the writer and the database. */
  close(): Promise<void>;
  /** recorded = written + dropped + queued. */
  counters(): LogWriterCounters;
}

/** SQLite's answers when a file or its folder cannot be written (the -wal and -shm files live beside it). */
function isNotWritable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (
    (typeof code === 'string' && /^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code)) ||
    /readonly database|unable to open database file/.test(message)
  );
}

/** An error that says which file, what SQLite answered, and what to check. */
function storeError(path: string, error: unknown): Error {
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
 * Runs `migrate` holding an exclusive lock on `<store>-migrate.lock` (a tiny SQLite file beside the store: its lock
 * is the operating system's, released even when a process dies). Another process waits for it, then finds the
 * migrations done.
 */
async function withSqliteMigrationLock<T>(path: string, migrate: () => Promise<T>): Promise<T> {
  const { default: Database } = await import('better-sqlite3');
  const lock = new Database(`${path}-migrate.lock`, { timeout: 0 });
  try {
    // Polled, not waited for inside SQLite: a wait there would block this thread, and with it a migration of the
    // same store this process is running.
    for (const start = Date.now(); ;) {
      try {
        lock.exec('begin exclusive');
        break;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() - start > MIGRATION_LOCK_WAIT_MS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    try {
      return await migrate();
    } finally {
      lock.exec('commit');
    }
  } finally {
    lock.close();
  }
}

/** Where a store URL points: a SQLite file (or `:memory:`), or a PostgreSQL database. */
export type StoreLocation =
  { readonly dialect: 'sqlite'; readonly path: string } | { readonly dialect: 'postgres'; readonly connectionString: string };

/**
 * Reads a store URL: `sqlite:<path>`, a `.db` path, `:memory:`, or `postgres://` / `postgresql://`.
 * @throws Error for anything else, naming the accepted forms.
 */
export function storeLocationOf(url: string): StoreLocation {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', connectionString: url };
  if (url.startsWith('sqlite:')) return { dialect: 'sqlite', path: url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') };
  if (url.endsWith('.db') || url === ':memory:') return { dialect: 'sqlite', path: url };
  // Named by its scheme only: a URL of another database may carry a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new Error(
    `unsupported log store URL${scheme ? ` (scheme ${scheme}:)` : ''} (expected sqlite:<path>, sqlite::memory: or postgres://…)`,
  );
}

/** The database and, for SQLite, the connection this thread reads with (and an in-memory store writes with). */
interface OpenedDatabase {
  readonly db: Kysely<LogStoreDatabase>;
  readonly sqlite?: BetterSqlite3.Database;
  /** Names the store in messages (the path, or the URL without its password). */
  readonly label: string;
  /** Turns a failure into the error to throw (which file or database, what to check). */
  readonly explain: (error: unknown) => Error;
}

async function openSqlite(path: string): Promise<OpenedDatabase> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  // Loaded here, not at import: services that never open a store never load the native addon.
  const { default: Database } = await import('better-sqlite3');
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = openSqliteConnection(Database, path, 5000);
  } catch (error) {
    throw storeError(path, error);
  }
  return {
    db: new Kysely<LogStoreDatabase>({ dialect: new SqliteDialect({ database: sqlite }) }),
    sqlite,
    label: path,
    explain: (error) => storeError(path, error),
  };
}

async function openPostgres(settings: PostgresSettings): Promise<OpenedDatabase> {
  const label = redactConnectionString(settings.connectionString);
  const explain = (error: unknown) => {
    const reason = error instanceof Error ? error.message : inspect(error);
    return new Error(
      `the log store ${label} cannot be used (${reason}): check that the server is up, that the database exists and ` +
        'that the role may connect and write (a password comes from PGPASSWORD, or ~/.pgpass)',
      { cause: error },
    );
  };
  const pool = await openPostgresPool(settings, 'reader');
  const db = new Kysely<LogStoreDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy();
    throw explain(error);
  }
  return { db, label, explain };
}

/**
 * Opens (and migrates) a log store. Writes go to a worker thread with its own connection; this thread reads.
 * @throws Error naming the failing migration, the unsupported URL, or why the store cannot be written.
 */
export async function createLogStore(options: LogStoreOptions): Promise<LogStore> {
  const location = storeLocationOf(options.url);
  const retry = options.maxLockWaitMs !== undefined ? { maxLockWaitMs: options.maxLockWaitMs } : {};
  const writerOptions: WriterOptions =
    location.dialect === 'postgres'
      ? { dialect: 'postgres', settings: { ...options.postgres, connectionString: location.connectionString }, ...retry }
      : { dialect: 'sqlite', path: location.path, ...retry };
  const { db, sqlite, label, explain } =
    writerOptions.dialect === 'postgres' ? await openPostgres(writerOptions.settings) : await openSqlite(writerOptions.path);

  const migrator = new Migrator({ db, provider: migrationProvider(location.dialect, options.onMigrationProgress) });
  const migrate = () => migrator.migrateToLatest();
  // kysely locks migrations on PostgreSQL; on SQLite it relies on a single connection, so two processes opening a
  // store that needs migrating at once (replicas, `grpcforge dev` starting every service) take a lock file first.
  const needsLock =
    writerOptions.dialect === 'sqlite' &&
    writerOptions.path !== ':memory:' &&
    (await migrator.getMigrations()).some((migration) => migration.executedAt === undefined);
  let outcome: Awaited<ReturnType<typeof migrate>>;
  try {
    outcome = needsLock ? await withSqliteMigrationLock(writerOptions.path, migrate) : await migrate();
  } catch (error) {
    await db.destroy();
    throw explain(error);
  }
  const { error, results } = outcome;
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    await db.destroy();
    if (location.dialect === 'sqlite' && isNotWritable(error)) throw explain(error);
    const reason = error instanceof Error ? error.message : inspect(error);
    throw new Error(`log store migration ${failed?.migrationName ?? '(unknown)'} of ${label} failed: ${reason}`, {
      cause: error,
    });
  }

  const writer = new LogWriter(options);
  const writes = options.writer ?? true;
  if (writes) {
    // An in-memory database exists only on this connection: its writer runs here, after the current turn.
    const inline =
      writerOptions.dialect === 'sqlite' && writerOptions.path === ':memory:' && sqlite
        ? createSqliteWriter(sqlite, writerOptions)
        : undefined;
    writer.attach(
      inline
        ? // The connection is this thread's: kysely closes it.
          inlineTransport(writer, (request) =>
            request.type === 'close'
              ? { type: 'done', seq: request.seq }
              : (inline([request])[0] ?? { type: 'done', seq: request.seq }),
          )
        : workerTransport(writer, startWriterWorker(writerOptions)),
    );
    const probe = await writer.request((seq) => ({ type: 'probe', seq }));
    if (probe.type === 'failed') {
      await writer.close();
      await db.destroy();
      throw explain(new Error(probe.message));
    }
  }

  const usage = new Map<string, { count: number; lastUsedAt: number }>();
  const flushUsage = async () => {
    if (usage.size === 0) return;
    const uses = [...usage].map(([id, { count, lastUsedAt }]) => [id, count, lastUsedAt] as const);
    usage.clear();
    await writer.request((seq) => ({ type: 'keyUsage', seq, uses }));
  };
  // Only a store that writes counts key use; the CLI's read-only stores need no timer.
  const usageTimer = writes ? setInterval(() => void flushUsage(), 1000) : undefined;
  usageTimer?.unref();

  let retentionTimer: NodeJS.Timeout | undefined;
  let pruning: Promise<void> | undefined;
  if (options.retentionMs !== undefined && writes) {
    const retentionMs = options.retentionMs;
    // Chunk by chunk, each its own transaction and request: row batches interleave, nothing waits for the whole delete.
    const prune = async () => {
      const before = Date.now() - retentionMs;
      for (;;) {
        const reply = await writer.request((seq) => ({ type: 'prune', seq, before }));
        if (reply.type === 'failed' || (reply.deleted ?? 0) === 0) return;
      }
    };
    const schedule = () => {
      pruning ??= prune().finally(() => (pruning = undefined));
    };
    schedule();
    retentionTimer = setInterval(schedule, 3_600_000);
    retentionTimer.unref();
  }

  let closed = false;
  const flush = async () => {
    await flushUsage();
    await writer.flush();
  };
  const reader = createRequestLogReader(db);
  return {
    db,
    logs: { record: writer.record, list: reader.list, get: reader.get },
    statistics: createLogStatistics(db),
    apiKeys: {
      create: (createOptions) => createApiKey(db, createOptions),
      list: () => listApiKeys(db),
      revoke: (idOrName) => revokeApiKey(db, idOrName),
      verify: (key) => verifyApiKey(db, key),
      countUse: (id, at) => {
        const entry = usage.get(id);
        if (entry) {
          entry.count++;
          entry.lastUsedAt = Math.max(entry.lastUsedAt, at);
        } else usage.set(id, { count: 1, lastUsedAt: at });
      },
    },
    instances: {
      register: async (instance) => {
        const reply = await writer.request((seq) => ({ type: 'registerInstance', seq, instance: instanceRow(instance) }));
        if (reply.type === 'failed') throw new Error(`cannot register the instance: ${reply.message}`);
      },
      heartbeat: async (id, status) => {
        await writer.flush(); // the counters it stores are then of committed rows
        const counters = writer.counters();
        await writer.request((seq) => ({ type: 'heartbeat', seq, id, now: Date.now(), counters, ...(status ? { status } : {}) }));
      },
      list: (limit) => listInstances(db, limit),
    },
    flush,
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(usageTimer);
      if (retentionTimer) clearInterval(retentionTimer);
      await pruning;
      await flush();
      await writer.close();
      await db.destroy();
    },
    counters: () => writer.counters(),
  };
}
