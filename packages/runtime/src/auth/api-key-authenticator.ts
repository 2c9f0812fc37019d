import { API_KEY_PREFIX } from '../logstore/api-keys.js';
import { authFailure, type Authenticator, type AuthenticatorOutcome } from './authenticator.js';
import { PRINCIPAL_KINDS, type Principal } from './principal.js';
import type { AuthFailure } from './refusals.js';

/** How API keys are checked: the log store's `verifyApiKey` and `countApiKeyUse` fit. */
export interface ApiKeyVerifier {
  /**
   * The key's record, or why it was refused: `revoked` and `expired` only for a key whose whole value matched (the
   * client is told so); `malformed`, `unknown` (or no reason) are `invalid API key` to the client.
   */
  verify(
    key: string,
  ): Promise<
    | { ok: true; record: { id: string; name: string; roles: readonly string[] } }
    | { ok: false; reason?: 'malformed' | 'unknown' | 'revoked' | 'expired' }
  >;
  /** Counts a use, in memory (written in batches). */
  countUse?(id: string, at: number): void;
}

/** How many key checks the cache holds before it starts over (a flood of guessed keys cannot grow it further). */
const KEY_CACHE_SIZE = 10_000;

/**
 * The authenticator of `x-api-key` metadata. Without a verifier (no `auth.apiKeys`, or no log store) every key is
 * `invalid API key`, so that a key sent to a service that does not take keys is refused, not ignored. Each key's
 * check is cached for `cacheMs` (revocation takes effect within it); every accepted call counts a use.
 * @param cacheMs how long a check is cached, in ms.
 */
export function createApiKeyAuthenticator(verifier: ApiKeyVerifier | undefined, cacheMs: number): Authenticator {
  const cache = new Map<string, { at: number; outcome: Principal | AuthFailure }>();
  const check = async (apiKeys: ApiKeyVerifier, key: string): Promise<Principal | AuthFailure> => {
    const now = Date.now();
    let cached = cache.get(key);
    if (!cached || now - cached.at >= cacheMs) {
      const result = await apiKeys.verify(key);
      const outcome: Principal | AuthFailure = result.ok
        ? { id: result.record.name, kind: PRINCIPAL_KINDS.apiKey, roles: result.record.roles, apiKeyId: result.record.id }
        : apiKeyFailure(key, result.reason);
      if (cache.size > KEY_CACHE_SIZE) cache.clear();
      cached = { at: now, outcome };
      cache.set(key, cached);
    }
    const { outcome } = cached;
    if ('kind' in outcome && outcome.apiKeyId) apiKeys.countUse?.(outcome.apiKeyId, now);
    return outcome;
  };
  return {
    name: 'api-key',
    credential: { kind: 'metadata', header: 'x-api-key' },
    async authenticate(key = ''): Promise<AuthenticatorOutcome> {
      if (!verifier) return { failure: invalidApiKey(key, 'API keys are not enabled here: auth.apiKeys and a log store') };
      if (key === '') return { failure: apiKeyFailure(key, 'malformed') };
      const outcome = await check(verifier, key);
      return 'kind' in outcome ? { principal: outcome } : { failure: outcome };
    },
    throttleKey(key) {
      const id = presentedKeyId(key);
      return id === undefined ? undefined : `${API_KEY_PREFIX}${id}`;
    },
  };
}

const PRESENTED_KEY_ID = new RegExp(`^${API_KEY_PREFIX}([0-9a-f]{12})(?:_|$)`);

/** The 12 hex digits of a key's `gfk_<id>` prefix, also of an otherwise malformed key; never any of its secret. */
function presentedKeyId(key: string): string | undefined {
  return PRESENTED_KEY_ID.exec(key)?.[1];
}

/** `invalid API key (<why>)`, naming the key by its prefix when it has one. */
function invalidApiKey(key: string, why: string): AuthFailure {
  const id = presentedKeyId(key);
  return authFailure('invalid-api-key', id ? `${API_KEY_PREFIX}${id}: ${why}` : why, id);
}

/** The failure of a key the verifier refused, by its reason. */
function apiKeyFailure(key: string, reason: 'malformed' | 'unknown' | 'revoked' | 'expired' | undefined): AuthFailure {
  const id = presentedKeyId(key);
  switch (reason) {
    // Only a key whose whole value matched its stored hash gets here, so it has an id.
    case 'revoked':
      return authFailure('api-key-revoked', `${API_KEY_PREFIX}${id ?? '?'}`, id);
    case 'expired':
      return authFailure('api-key-expired', `${API_KEY_PREFIX}${id ?? '?'}`, id);
    case 'malformed':
      return invalidApiKey(key, `malformed: ${key.length} characters, expected ${API_KEY_PREFIX}<12 hex digits>_<secret>`);
    case 'unknown':
      return invalidApiKey(key, 'no key has this id and secret');
    default:
      return invalidApiKey(key, 'refused by the key verifier');
  }
}
