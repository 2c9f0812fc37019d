import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { inspect } from 'node:util';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  verifyApiKey,
  type ApiKeyRecord,
  type ApiKeyRejection,
  type CreateApiKeyOptions,
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
} from './log-writer.js';
import { migrationProvider } from './migrations/index.js';
import { createRequestLogReader, type RequestLogs } from './request-logs.js';
import { openSqliteConnection } from './sqlite-connection.js';
import { createSqliteWriter, type SqliteWriterOptions } from './sqlite-writer.js';
import { createLogStatistics, type LogStatistics } from './statistics.js';

/** Options of {@link createLogStore}. */
export interface LogStoreOptions extends LogWriterOptions {
  /**
   * Where the store is: `sqlite:<path>` (created with its folder when missing), `sqlite::memory:`, or a path ending
   * in `.db`. PostgreSQL (`postgres://`) is not supported yet.
   */
  readonly url: string;
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
  create(options: CreateApiKeyOptions): Promise<{ key: string; record: ApiKeyRecord }>;
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
  const reason = error instanceof Error ? error.message : inspect(error);
  if (!isNotWritable(error)) return new Error(`the log store ${path} cannot be opened: ${reason}`, { cause: error });
  return new Error(
    `the log store ${path} cannot be written (${reason}): check that this user may write the file and its folder ` +
      '(SQLite creates -wal and -shm files beside it), or set logStore.url to another path',
    { cause: error },
  );
}

/** Path of the SQLite file of a `sqlite:` URL or `.db` path; `:memory:` for an in-memory store. */
export function sqlitePathOf(url: string): string {
  if (url.startsWith('sqlite:')) return url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  if (url.endsWith('.db') || url === ':memory:') return url;
  throw new Error(`unsupported log store URL "${url}" (expected sqlite:<path>; postgres:// is not supported yet)`);
}

/**
 * Opens (and migrates) a log store. Writes go to a worker thread with its own connection; this thread reads.
 * @throws Error naming the failing migration, the unsupported URL, or why the store cannot be written.
 */
export async function createLogStore(options: LogStoreOptions): Promise<LogStore> {
  const path = sqlitePathOf(options.url);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  // Loaded here, not at import: services that never open a store never load the native addon.
  const { default: Database } = await import('better-sqlite3');
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = openSqliteConnection(Database, path, 5000);
  } catch (error) {
    throw storeError(path, error);
  }
  const db = new Kysely<LogStoreDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });

  const { error, results } = await new Migrator({
    db,
    provider: migrationProvider(options.onMigrationProgress),
  }).migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    await db.destroy();
    if (isNotWritable(error)) throw storeError(path, error);
    const reason = error instanceof Error ? error.message : inspect(error);
    throw new Error(`log store migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`, { cause: error });
  }

  const writer = new LogWriter(options);
  const writes = options.writer ?? true;
  if (writes) {
    const writerOptions: SqliteWriterOptions = {
      path,
      ...(options.maxLockWaitMs !== undefined ? { maxLockWaitMs: options.maxLockWaitMs } : {}),
    };
    // An in-memory database exists only on this connection: its writer runs here, after the current turn.
    const inline = path === ':memory:' ? createSqliteWriter(sqlite, writerOptions) : undefined;
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
      throw storeError(path, new Error(probe.message));
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
