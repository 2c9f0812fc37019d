import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { inspect } from 'node:util';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import {
  addApiKeyUsage,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  verifyApiKey,
  type ApiKeyRecord,
  type ApiKeyRejection,
  type CreateApiKeyOptions,
} from './api-keys.js';
import { BatchWriter, type BatchWriterCounters, type BatchWriterOptions } from './batch-writer.js';
import type { LogStoreDatabase, RequestLogTable, ServerInstanceTable } from './database.js';
import { heartbeatInstance, listInstances, registerInstance, type ServerInstance } from './instances.js';
import { migrationProvider } from './migrations/index.js';
import {
  deleteLogsBefore,
  queryLogs,
  queryMethodStats,
  queryStats,
  queryTimeline,
  type LogFilter,
  type LogStats,
  type MethodStats,
  type RequestLog,
  type TimelineBucket,
} from './queries.js';

/** A call to record; the store adds the row id. */
export type RequestLogRecord = Omit<RequestLogTable, 'id'>;

/** Options of {@link createLogStore}. */
export interface LogStoreOptions extends BatchWriterOptions {
  /**
   * Where the store is: `sqlite:<path>` (created with its folder when missing), `sqlite::memory:`, or a path ending
   * in `.db`. PostgreSQL (`postgres://`) is not supported yet.
   */
  readonly url: string;
  /** Delete calls older than this many ms, checked at open and every hour. @defaultValue none (keep everything) */
  readonly retentionMs?: number;
}

/**
 * The log store: request logs written in batches off the request path, API keys, server instances, and the queries
 * the CLI prints. The interface the dashboard and `grpcforge stats` depend on, not SQL.
 */
export interface LogStore {
  /** The kysely instance, for queries this interface does not cover. */
  readonly db: Kysely<LogStoreDatabase>;
  /**
   * Enqueues a call; never waits on the disk. A function property, not a method: it may be passed on detached
   * (`recordCall: store.record`). @returns false when the queue was full and the row was dropped.
   */
  readonly record: (row: RequestLogRecord) => boolean;
  /** Commits every queued row and API key usage. */
  flush(): Promise<void>;
  /** Flushes, then closes the database. */
  close(): Promise<void>;
  /** recorded = written + dropped + queued. */
  counters(): BatchWriterCounters;
  stats(filter?: LogFilter): Promise<LogStats>;
  methodStats(filter?: LogFilter): Promise<MethodStats[]>;
  timeline(bucketMs: number, filter?: LogFilter): Promise<TimelineBucket[]>;
  logs(filter?: LogFilter & { errorsOnly?: boolean; limit?: number }): Promise<RequestLog[]>;
  deleteLogsBefore(before: number): Promise<number>;
  createApiKey(options: CreateApiKeyOptions): Promise<{ key: string; record: ApiKeyRecord }>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  revokeApiKey(idOrName: string): Promise<boolean>;
  verifyApiKey(key: string): Promise<{ ok: true; record: ApiKeyRecord } | { ok: false; reason: ApiKeyRejection }>;
  /** Counts one use of a key in memory; written with the next flush, not per call. */
  countApiKeyUse(id: string, at: number): void;
  registerInstance(instance: ServerInstanceTable): Promise<void>;
  heartbeatInstance(id: string, now: number, status?: 'serving' | 'stopping' | 'stopped'): Promise<void>;
  listInstances(limit?: number): Promise<ServerInstance[]>;
}

/** Every column of a request log row, for compiling the INSERT once (values are placeholders). */
const SAMPLE_ROW: RequestLogRecord = {
  request_id: '',
  started_at: 0,
  service: '',
  method: '',
  kind: '',
  status_code: 0,
  duration_ms: 0,
  principal: null,
  api_key_id: null,
  peer: null,
  request_bytes: 0,
  response_bytes: 0,
  request_messages: 0,
  response_messages: 0,
  error_message: null,
};

/** Path of the SQLite file of a `sqlite:` URL or `.db` path; `:memory:` for an in-memory store. */
export function sqlitePathOf(url: string): string {
  if (url.startsWith('sqlite:')) return url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  if (url.endsWith('.db') || url === ':memory:') return url;
  throw new Error(`unsupported log store URL "${url}" (expected sqlite:<path>; postgres:// is not supported yet)`);
}

/**
 * Opens (and migrates) a log store. SQLite runs in WAL mode with `synchronous = NORMAL`: a committed batch survives a
 * crash of the process (kill -9); a power loss may lose the last transactions but never corrupts the file.
 * @throws Error naming the failing migration, or the unsupported URL.
 */
export async function createLogStore(options: LogStoreOptions): Promise<LogStore> {
  const path = sqlitePathOf(options.url);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  // Loaded here, not at import: services that never open a store never load the native addon.
  const { default: Database } = await import('better-sqlite3');
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<LogStoreDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });

  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    await db.destroy();
    const reason = error instanceof Error ? error.message : inspect(error);
    throw new Error(`log store migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`, { cause: error });
  }

  const usage = new Map<string, { count: number; lastUsedAt: number }>();
  // The hot path: kysely compiles the INSERT once (typed against LogStoreDatabase); better-sqlite3 runs it as one
  // prepared statement per row inside a single transaction, far cheaper than compiling a multi-row query per batch.
  const columns = Object.keys(SAMPLE_ROW) as (keyof RequestLogRecord)[];
  const insertSql = db.insertInto('request_logs').values(SAMPLE_ROW).compile().sql;
  const insert = sqlite.prepare(insertSql);
  const insertBatch = sqlite.transaction((rows: readonly RequestLogRecord[]) => {
    for (const row of rows) insert.run(columns.map((column) => row[column]));
  });
  const writer = new BatchWriter<RequestLogRecord>(async (rows) => {
    insertBatch(rows);
  }, options);
  const flushUsage = async () => {
    if (usage.size === 0) return;
    const batch = new Map(usage);
    usage.clear();
    await addApiKeyUsage(db, batch);
  };
  const usageTimer = setInterval(() => void flushUsage().catch(() => {}), 1000);
  usageTimer.unref();
  let retentionTimer: NodeJS.Timeout | undefined;
  if (options.retentionMs !== undefined) {
    const retentionMs = options.retentionMs;
    const prune = () => void deleteLogsBefore(db, Date.now() - retentionMs).catch(() => {});
    prune();
    retentionTimer = setInterval(prune, 3_600_000);
    retentionTimer.unref();
  }
  let closed = false;
  const flush = async () => {
    await writer.flush();
    await flushUsage();
  };

  return {
    db,
    record: (row) => writer.push(row),
    flush,
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(usageTimer);
      if (retentionTimer) clearInterval(retentionTimer);
      await flush();
      await db.destroy();
    },
    counters: () => writer.counters(),
    stats: (filter) => queryStats(db, filter),
    methodStats: (filter) => queryMethodStats(db, filter),
    timeline: (bucketMs, filter) => queryTimeline(db, bucketMs, filter),
    logs: (filter) => queryLogs(db, filter),
    deleteLogsBefore: (before) => deleteLogsBefore(db, before),
    createApiKey: (createOptions) => createApiKey(db, createOptions),
    listApiKeys: () => listApiKeys(db),
    revokeApiKey: (idOrName) => revokeApiKey(db, idOrName),
    verifyApiKey: (key) => verifyApiKey(db, key),
    countApiKeyUse: (id, at) => {
      const entry = usage.get(id);
      if (entry) {
        entry.count++;
        entry.lastUsedAt = Math.max(entry.lastUsedAt, at);
      } else usage.set(id, { count: 1, lastUsedAt: at });
    },
    registerInstance: (instance) => registerInstance(db, instance),
    heartbeatInstance: (id, now, status) => heartbeatInstance(db, id, now, status),
    listInstances: (limit) => listInstances(db, limit),
  };
}
