import type { LogStoreDialect } from './dialect.js';
import { postgresDialect } from './dialects/postgres/dialect.js';
import { sqliteDialect } from './dialects/sqlite/dialect.js';
import { redactConnectionString } from './redact-connection-string.js';

/** Dialects by URL scheme; the built-in ones first. */
const bySchemes = new Map<string, LogStoreDialect>();
const dialects: LogStoreDialect[] = [];

/**
 * Adds an engine to the log store: {@link createLogStore} then opens URLs of its schemes with it. A scheme already
 * taken moves to the dialect registered last.
 * @param dialect - the engine; its `module` must export it under `module.exportName`, for the writer thread.
 * @throws Error when the dialect names no scheme.
 */
export function registerLogStoreDialect(dialect: LogStoreDialect): void {
  if (dialect.schemes.length === 0) throw new Error(`the log store dialect "${dialect.name}" names no URL scheme`);
  dialects.push(dialect);
  for (const scheme of dialect.schemes) bySchemes.set(scheme.toLowerCase(), dialect);
}

registerLogStoreDialect(sqliteDialect);
registerLogStoreDialect(postgresDialect);

const schemeOf = (url: string) => /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];

/** The dialect that opens a store URL (see {@link resolveLogStoreUrl}), or undefined when none does. */
export function findLogStoreDialect(url: string): LogStoreDialect | undefined {
  const scheme = schemeOf(url);
  return (
    (scheme === undefined ? undefined : bySchemes.get(scheme.toLowerCase())) ??
    dialects.find((candidate) => candidate.acceptsUrl?.(url))
  );
}

/** A store URL read: the dialect that opens it and what it points at (a path, a connection string). */
export interface ResolvedLogStoreUrl {
  readonly dialect: LogStoreDialect;
  readonly location: string;
}

/**
 * The dialect of a store URL, by its scheme (`sqlite:`, `postgres://`, …), or else the first dialect that accepts it
 * (SQLite: a `.db` path, `:memory:`).
 * @throws Error for any other URL, naming its scheme only (a URL of another database may carry a password) and the
 * schemes accepted.
 */
export function resolveLogStoreUrl(url: string): ResolvedLogStoreUrl {
  const dialect = findLogStoreDialect(url);
  if (dialect) return { dialect, location: dialect.locationOf(url) };
  const scheme = schemeOf(url);
  const known = [...bySchemes.keys()].map((name) => `${name}:`).join(', ');
  throw new Error(
    `unsupported log store URL${scheme ? ` (scheme ${scheme}:)` : ''} (expected sqlite:<path>, sqlite::memory: or postgres://…; ` +
      `schemes known: ${known})`,
  );
}

/**
 * A store URL fit for messages: as its dialect redacts it ({@link LogStoreDialect.redactUrl}), then any password of a
 * `scheme://` URL as `***` ({@link redactConnectionString}), since a URL of an engine not registered may still be
 * taken by a dialect that redacts nothing (SQLite takes any URL ending in `.db`).
 */
export function redactLogStoreUrl(url: string): string {
  return redactConnectionString(findLogStoreDialect(url)?.redactUrl(url) ?? url);
}
