import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { unsafePrincipalCharacter } from '../auth/principal-text.js';
import type { ApiKeyTable, LogStoreDatabase } from './database.js';

/** Every key starts with this, so a leaked key is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = 'gfk_';

/** An API key as stored and listed: never the key itself. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  /** `gfk_<id>`: what listings show. */
  readonly prefix: string;
  readonly roles: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  readonly lastUsedAt: number | null;
  readonly requestCount: number;
}

/** Options of {@link createApiKey}. */
export interface CreateApiKeyOptions {
  readonly name: string;
  readonly roles?: readonly string[];
  /** Expiry time, ms since the epoch; `undefined` for none. */
  readonly expiresAt?: number;
  /** @defaultValue Date.now() */
  readonly now?: number;
}

/** SHA-256 of a key, hex: the only form that is stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The id inside a key (`gfk_<id>_<secret>`), or `undefined` when it is not shaped like one of ours. */
export function apiKeyId(key: string): string | undefined {
  const match = /^gfk_([0-9a-f]{12})_[A-Za-z0-9_-]{32,}$/.exec(key);
  return match?.[1];
}

function toRecord(row: Selectable<ApiKeyTable>): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    roles: JSON.parse(row.roles) as string[],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
    requestCount: row.request_count,
  };
}

/**
 * What {@link createApiKey} did: `created` with the key (returned this once; only its hash is stored) and its record,
 * or why it created none, with a message for the user: `invalid-name` for an empty name or one holding a control
 * character (CR, LF, ANSI escapes: the name becomes the principal id in logs), `duplicate-name` when a key (active or
 * not) has the name.
 */
export type CreateApiKeyResult =
  | { readonly kind: 'created'; readonly key: string; readonly record: ApiKeyRecord }
  | { readonly kind: 'invalid-name'; readonly message: string }
  | { readonly kind: 'duplicate-name'; readonly existingId: string; readonly message: string };

/**
 * Creates a key: 12 hex characters of id and 32 bytes of randomness (base64url). The caller branches on the
 * result's `kind` (see {@link CreateApiKeyResult}).
 * @throws Error only when the database fails (locked, unreachable): never relabel it as a duplicate name. A key of
 *   the same name inserted by another process between the check and the insert is a `duplicate-name` too.
 */
export async function createApiKey(db: Kysely<LogStoreDatabase>, options: CreateApiKeyOptions): Promise<CreateApiKeyResult> {
  const unsafe = unsafePrincipalCharacter(options.name);
  if (unsafe || options.name.trim() === '') {
    return {
      kind: 'invalid-name',
      message:
        `API key name ${JSON.stringify(options.name)}: expected a non-empty name without control characters` +
        (unsafe ? ` (found ${unsafe})` : ''),
    };
  }
  const id = randomBytes(6).toString('hex');
  const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  const duplicate = async (): Promise<CreateApiKeyResult | undefined> => {
    const existing = await db.selectFrom('api_keys').select('id').where('name', '=', options.name).executeTakeFirst();
    return existing
      ? {
          kind: 'duplicate-name',
          existingId: existing.id,
          message: `an API key named "${options.name}" exists (id ${existing.id})`,
        }
      : undefined;
  };
  const taken = await duplicate();
  if (taken) return taken;
  const row = {
    id,
    name: options.name,
    prefix: `${API_KEY_PREFIX}${id}`,
    hash: hashApiKey(key),
    roles: JSON.stringify([...(options.roles ?? [])].sort()),
    created_at: options.now ?? Date.now(),
    expires_at: options.expiresAt ?? null,
    revoked_at: null,
    last_used_at: null,
    request_count: 0,
  };
  try {
    await db.insertInto('api_keys').values(row).execute();
  } catch (error) {
    // Another process may have created a key of this name since the check (the name is unique): that is the same
    // outcome as the check finding it. Any other failure (a locked or unreachable database) is thrown as it is.
    const raced = await duplicate().catch(() => undefined);
    if (raced) return raced;
    throw error;
  }
  return { kind: 'created', key, record: toRecord(row) };
}

/** Every key, newest first. */
export async function listApiKeys(db: Kysely<LogStoreDatabase>): Promise<ApiKeyRecord[]> {
  const rows = await db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
  return rows.map(toRecord);
}

/** Revokes a key by id or name. @returns false when no such key exists. */
export async function revokeApiKey(db: Kysely<LogStoreDatabase>, idOrName: string, now = Date.now()): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Why a presented key was refused. `revoked` and `expired` are decided only after the whole key matched its stored
 * hash, so the auth middleware may tell the client; `malformed` and `unknown` are both `invalid API key` to it.
 */
export type ApiKeyRejection = 'malformed' | 'unknown' | 'revoked' | 'expired';

/**
 * Checks a presented key: looks it up by the id inside it and compares the SHA-256 hashes in constant time.
 * @returns the key's record, or why it was refused.
 */
export async function verifyApiKey(
  db: Kysely<LogStoreDatabase>,
  key: string,
  now = Date.now(),
): Promise<{ ok: true; record: ApiKeyRecord } | { ok: false; reason: ApiKeyRejection }> {
  const id = apiKeyId(key);
  if (!id) return { ok: false, reason: 'malformed' };
  const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  const presented = Buffer.from(hashApiKey(key), 'hex');
  // Compare against a dummy hash when the id is unknown, so both paths do the same work.
  const stored = Buffer.from(row?.hash ?? '0'.repeat(64), 'hex');
  if (!timingSafeEqual(presented, stored) || !row) return { ok: false, reason: 'unknown' };
  const record = toRecord(row);
  if (record.revokedAt !== null) return { ok: false, reason: 'revoked' };
  if (record.expiresAt !== null && record.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, record };
}
