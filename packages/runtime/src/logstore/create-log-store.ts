import { inspect } from 'node:util';
import { Migrator, type Kysely } from 'kysely';
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
import type { LogStoreConnectOptions } from './dialect.js';
import { resolveLogStoreUrl } from './dialect-registry.js';
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
import { createLogStatistics, type LogStatistics } from './statistics.js';
import { createWriterCore } from './writer-core.js';
import { HOUR_MS } from '../vocabulary/time.js';
import type { DefenceCountsJson } from '../vocabulary/defence-counters.js';

/** Options of {@link createLogStore}. */
export interface LogStoreOptions extends LogWriterOptions, LogStoreConnectOptions {
  /**
   * Where the store is: `sqlite:<path>` (created with its folder when missing), `sqlite::memory:`, a path ending in
   * `.db`, or `postgres://USER@HOST:PORT/DATABASE` (or `postgresql://`; what it leaves out, the password for one,
   * comes from libpq's environment variables: PGPASSWORD, PGHOST, PGUSER, ...). The database must exist. Another
   * scheme opens with the dialect {@link registerLogStoreDialect} registered for it.
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
  /**
   * Stores the heartbeat time, the row counters of this process and, when given, a new status and the server's
   * defence counters (running totals).
   */
  heartbeat(id: string, status?: 'serving' | 'stopping' | 'stopped', defences?: DefenceCountsJson): Promise<void>;
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

/**
 * Opens (and migrates) a log store. Writes go to a worker thread with its own connection; this thread reads.
 * @throws Error naming the failing migration, the unsupported URL, or why the store cannot be written.
 */
export async function createLogStore(options: LogStoreOptions): Promise<LogStore> {
  const { dialect, location } = resolveLogStoreUrl(options.url);
  const connect: LogStoreConnectOptions = options.postgres ? { postgres: options.postgres } : {};
  const core = options.maxLockWaitMs !== undefined ? { maxLockWaitMs: options.maxLockWaitMs } : {};
  const opened = await dialect.openReader(location, connect);
  const { db, label, explain } = opened;

  // Only when a migration is pending: a store that is up to date is not written (nor its lock taken) to be opened.
  // Two processes that both find one pending take turns through the dialect adapter's migration lock.
  const migrator = new Migrator({ db, provider: migrationProvider(dialect.columnTypes, options.onMigrationProgress) });
  let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>> = { results: [] };
  try {
    if ((await migrator.getMigrations()).some((migration) => migration.executedAt === undefined))
      outcome = await migrator.migrateToLatest();
  } catch (error) {
    await db.destroy();
    throw explain(error);
  }
  const { error, results } = outcome;
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    await db.destroy();
    if (opened.isAccessError?.(error)) throw explain(error);
    const reason = error instanceof Error ? error.message : inspect(error);
    throw new Error(`log store migration ${failed?.migrationName ?? '(unknown)'} of ${label} failed: ${reason}`, {
      cause: error,
    });
  }

  const writer = new LogWriter(options);
  const writes = options.writer ?? true;
  if (writes) {
    writer.attach(
      opened.openInlineWriter
        ? inlineTransport(writer, createWriterCore(dialect, opened.openInlineWriter(), core))
        : workerTransport(writer, startWriterWorker({ dialect: dialect.module, location, connect, ...core })),
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
    retentionTimer = setInterval(schedule, HOUR_MS);
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
    logs: { record: writer.record, list: reader.list, page: reader.page, get: reader.get },
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
      heartbeat: async (id, status, defences) => {
        await writer.flush(); // the counters it stores are then of committed rows
        const counters = writer.counters();
        await writer.request((seq) => ({
          type: 'heartbeat',
          seq,
          id,
          now: Date.now(),
          counters,
          ...(status ? { status } : {}),
          ...(defences ? { defences } : {}),
        }));
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
