import type { Kysely } from 'kysely';
import type { OptionalFeature } from '../optional-packages.js';
import type { CallRollupTable, LogStoreDatabase } from './database.js';
import type { DialectColumnTypes } from './migrations/column-types.js';
import type { PostgresSettings } from './dialects/postgres/connection.js';
import type { RollupDelta } from './rollups.js';
import type { RowBatch } from './row-batch.js';
import type { WriterRequest } from './writer-protocol.js';

/**
 * What an engine tells the store about itself, instead of the store comparing engine names: each flag changes one
 * step of the shared code.
 */
export interface LogStoreCapabilities {
  /**
   * A connection can drop while COMMIT is in flight, leaving its outcome unknown (a network database): before a
   * retry, the writer core looks for the run's first row, so rows and rollups are never written twice.
   */
  readonly commitMayBeLost: boolean;
  /** Text columns accept U+0000. When false, the core stores a NUL as U+FFFD instead of losing the whole run. */
  readonly acceptsNulInText: boolean;
}

/** Settings of {@link LogStoreDialect.openReader} and {@link LogStoreDialect.openWriter}, from the store's options. */
export interface LogStoreConnectOptions {
  /** PostgreSQL only: the reading pool's size and timeouts. */
  readonly postgres?: Omit<PostgresSettings, 'connectionString'>;
}

/** The store as this thread reads it (and migrates it), opened by {@link LogStoreDialect.openReader}. */
export interface OpenedLogStore {
  /** The kysely instance every query and migration runs on; its adapter holds the engine's migration lock. */
  readonly db: Kysely<LogStoreDatabase>;
  /** Names the store in messages: a path, or a URL without its password. */
  readonly label: string;
  /** Turns a failure into the error to throw: which store, what the engine answered, what to check. */
  readonly explain: (error: unknown) => Error;
  /**
   * Whether a failed migration failed because the store cannot be written (then {@link OpenedLogStore.explain} says
   * so rather than naming the migration). @defaultValue never
   */
  isAccessError?(error: unknown): boolean;
  /**
   * Opens the writer on this thread's own connection (after the migrations), when the database exists only on it
   * (SQLite's `:memory:`): the store then writes here, after the current turn, instead of in a writer thread.
   */
  openInlineWriter?(): LogStoreWriteConnection;
}

/**
 * One transaction of the writer core (opened by {@link LogStoreWriteConnection.transaction}): the run's rows, then its
 * rollups read, merged by the core and written back.
 */
export interface LogStoreRowWriter {
  /**
   * Inserts every row of `batches` into `request_logs` (columnar, see {@link RowBatch}); text already fit for the engine.
   * It may resolve once the rows are handed to the engine, before it confirms them (a stream the server is still
   * inserting): a failure then rejects the transaction's next call or its commit.
   */
  insertRows(batches: readonly RowBatch[]): Promise<void>;
  /**
   * The stored rollup row of each delta's key (`undefined` where none is), aligned with `deltas`, which come sorted in
   * primary-key order. An engine with row locks locks them here, in that order, so concurrent writers never deadlock.
   * A row with `calls` 0 counts as none (a placeholder an engine inserted to lock it).
   */
  readRollups(deltas: readonly RollupDelta[]): Promise<readonly (CallRollupTable | undefined)[]>;
  /** Stores the merged rows, replacing the rows of the same keys. */
  writeRollups(rows: readonly CallRollupTable[]): Promise<void>;
}

/**
 * The writer's own connection to the store, opened by {@link LogStoreDialect.openWriter} in the writer thread. It
 * answers only what differs by engine; batching, retries, the order of requests and the replies are the writer
 * core's.
 */
export interface LogStoreWriteConnection {
  /** kysely over this connection: the core writes instances, retention and the commit check through it. */
  readonly db: Kysely<LogStoreDatabase>;
  /**
   * Runs `write` in one transaction that holds the store's write lock before it reads a rollup (another process's
   * writer cannot interleave), commits when it resolves, rolls back when it throws.
   */
  transaction(write: (rows: LogStoreRowWriter) => Promise<void>): Promise<void>;
  /** Adds `count` uses to each API key and raises its `last_used_at` to `lastUsedAt` (ms) when later. */
  addKeyUsage(uses: Extract<WriterRequest, { type: 'keyUsage' }>['uses']): Promise<void>;
  /**
   * Makes a write that changes nothing, so a store this role or user may not write fails at start-up.
   * @throws Error saying what may not be written.
   */
  probe(): Promise<void>;
  /** Why the store can no longer be written (its file deleted or replaced), asked before each run of rows. */
  gone?(): string | undefined;
  /** Closes the connection (after the last request). */
  close(): Promise<void>;
}

/**
 * One database engine of the log store, as kysely's `Dialect` is one of its engines: how to open it (to read and
 * migrate on this thread, to write in the writer thread), its column types and capabilities, which of its errors
 * are worth a retry, and how its URLs are shown. Built in: SQLite (`sqlite:`, a `.db` path, `:memory:`) and
 * PostgreSQL (`postgres://`, `postgresql://`); {@link registerLogStoreDialect} adds another.
 *
 * @example
 * ```ts
 * registerLogStoreDialect(myDialect); // myDialect.schemes: ['mydb']
 * const store = await createLogStore({ url: 'mydb://host/logs' });
 * ```
 */
export interface LogStoreDialect {
  /** Its name in messages, for example `sqlite`. */
  readonly name: string;
  /** URL schemes it opens, lower case, without the colon (`postgres`, `postgresql`). */
  readonly schemes: readonly string[];
  /**
   * Where the writer thread finds this dialect: `url` of a module (its `import.meta.url`) and the name under which
   * it exports the dialect. The thread imports it there, since objects do not cross threads.
   */
  readonly module: { readonly url: string; readonly exportName: string };
  /** The column types the migrations use where engines differ. */
  readonly columnTypes: DialectColumnTypes;
  /** What the shared code does differently for this engine. */
  readonly capabilities: LogStoreCapabilities;
  /** The optional feature whose packages this engine loads (`postgres`: pg), for the service's install check. @defaultValue none */
  readonly optionalFeature?: OptionalFeature;
  /** The longest pause between two retries of a write, in ms (they start at 10 ms and double). */
  readonly maxRetryPauseMs: number;
  /**
   * Whether a URL without one of {@link LogStoreDialect.schemes} is still this engine's (SQLite: a path ending in
   * `.db`, `:memory:`). @defaultValue none is
   */
  acceptsUrl?(url: string): boolean;
  /** What a URL of this engine points at, as {@link LogStoreDialect.openReader} takes it (SQLite: the path). */
  locationOf(url: string): string;
  /**
   * Opens the store on this thread, for reads and migrations.
   * @throws Error from {@link OpenedLogStore.explain} when the store cannot be opened.
   */
  openReader(location: string, options: LogStoreConnectOptions): Promise<OpenedLogStore>;
  /** Opens the writer thread's own connection to the store. */
  openWriter(location: string, options: LogStoreConnectOptions): Promise<LogStoreWriteConnection>;
  /** Whether a write that failed with `error` may succeed when retried (a lock held elsewhere, a lost connection). */
  isTransient(error: unknown): boolean;
  /** The URL fit for messages: any password as `***`. */
  redactUrl(url: string): string;
}
