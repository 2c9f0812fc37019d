import { AUTH_MESSAGES, type AuthFailure } from './refusals.js';
import { DEFAULT_AUTH_THROTTLE, type AuthThrottleBucket, type AuthThrottleSettings } from '../vocabulary/auth-throttle.js';
import { MINUTE_MS, SECOND_MS } from '../vocabulary/time.js';

/**
 * Options of the failed-authentication throttle ({@link AuthThrottleSettings}, each bucket defaulting to
 * `DEFAULT_AUTH_THROTTLE`'s), and its memory bounds.
 */
export interface AuthThrottleOptions extends Partial<AuthThrottleSettings> {
  /**
   * Most addresses, and most keys, tracked at once; past it the one used least recently is forgotten (and starts over
   * with a full bucket), so a flood of distinct addresses or keys cannot grow the memory. @defaultValue 10000
   */
  readonly maxTracked?: number;
  /** One throttled call per address per this many ms gets a row; the others are only counted. @defaultValue 60000 */
  readonly rowIntervalMs?: number;
}

/** A call the throttle refuses before its credential is verified. */
export interface ThrottleVerdict {
  /** Which limit the call is over: its address's, or its presented key's (from an address that failed recently). */
  readonly scope: 'peer' | 'key';
  /** The address (`127.0.0.1`, `2001:db8:1:2::/64`) and, for `key`, the key (`gfk_0123456789ab`). */
  readonly address: string;
  readonly key: string | undefined;
  /** The limit that applies, to name it in the row. */
  readonly bucket: AuthThrottleBucket;
  /** In ms: when the bucket that refused holds a token again (the `grpc-retry-pushback-ms` trailer). */
  readonly retryAfterMs: number;
  /**
   * Whether this refusal is stored as a row: the first throttled call of its address in each `rowIntervalMs`; the
   * others are only counted (`authThrottled`).
   */
  readonly stored: boolean;
  /** On a stored verdict: the throttled calls of this address since its previous stored one, counted and not stored. */
  readonly unstoredBefore: number;
  /** The `rowIntervalMs` in force, to say it in the row. */
  readonly rowIntervalMs: number;
}

/** The throttle of failed authentications, per address and per presented key (token buckets, in memory). */
export interface AuthThrottle {
  /**
   * Before a presented credential is verified: the refusal when its address, or its key from an address that itself
   * failed within the last minute, has no failure left; `undefined` to verify it.
   * @param peer the caller as grpc-js reports it (`127.0.0.1:53412`, `::1:53412`).
   * @param key what the credential claims to be, readable without verifying it (an API key's `gfk_<id>`).
   * @param now ms since the epoch.
   */
  check(peer: string, key: string | undefined, now?: number): ThrottleVerdict | undefined;
  /** A presented credential failed verification: takes a token from its address's bucket and its key's. */
  failed(peer: string, key: string | undefined, now?: number): void;
}

/** A bucket's tokens as of `at`, and, for an address, its last failure and its rows of throttled calls. */
interface Tracked {
  tokens: number;
  at: number;
  failedAt: number;
  rowAt: number | undefined;
  unstored: number;
}

/**
 * Token buckets of failed authentications ({@link AuthThrottle}). A call is refused without verification when its
 * address has no token left, or when its presented key has none and the address failed within the last minute (so
 * the key's owner, calling from an address that did not fail, is never refused because others guessed its secret).
 * Successes take nothing and are never refused because of another address. Both tables are LRU-bounded by
 * `maxTracked`.
 */
export function createAuthThrottle(options: AuthThrottleOptions = {}): AuthThrottle {
  const perPeer = options.perPeer ?? DEFAULT_AUTH_THROTTLE.perPeer;
  const perKey = options.perKey ?? DEFAULT_AUTH_THROTTLE.perKey;
  const maxTracked = options.maxTracked ?? 10_000;
  const rowIntervalMs = options.rowIntervalMs ?? MINUTE_MS;
  const peers = new Map<string, Tracked>();
  const keys = new Map<string, Tracked>();

  /** The entry (refilled to `now` and made the most recently used), creating it with a full bucket when asked. */
  function entry(table: Map<string, Tracked>, name: string, bucket: AuthThrottleBucket | false, now: number, create: true): Tracked;
  function entry(
    table: Map<string, Tracked>,
    name: string,
    bucket: AuthThrottleBucket | false,
    now: number,
    create: false,
  ): Tracked | undefined;
  function entry(table: Map<string, Tracked>, name: string, bucket: AuthThrottleBucket | false, now: number, create: boolean) {
    let found = table.get(name);
    if (found) {
      // Map keeps insertion order: re-inserting makes it the most recently used, the first one the least.
      table.delete(name);
      if (bucket) found.tokens = Math.min(bucket.burst, found.tokens + ((now - found.at) * bucket.failuresPerMinute) / MINUTE_MS);
      found.at = now;
    } else if (create) {
      if (table.size >= maxTracked) table.delete(table.keys().next().value!);
      found = { tokens: bucket ? bucket.burst : 0, at: now, failedAt: -Infinity, rowAt: undefined, unstored: 0 };
    }
    if (found) table.set(name, found);
    return found;
  }

  return {
    check(peer, key, now = Date.now()) {
      const address = throttleAddressOf(peer);
      const byPeer = entry(peers, address, perPeer, now, false);
      if (!byPeer) return undefined;
      let scope: 'peer' | 'key' | undefined;
      let bucket: AuthThrottleBucket | undefined;
      let tokens = 0;
      if (perPeer && byPeer.tokens < 1) [scope, bucket, tokens] = ['peer', perPeer, byPeer.tokens];
      else if (perKey && key !== undefined && now - byPeer.failedAt < MINUTE_MS) {
        const byKey = entry(keys, key, perKey, now, false);
        if (byKey && byKey.tokens < 1) [scope, bucket, tokens] = ['key', perKey, byKey.tokens];
      }
      if (!scope || !bucket) return undefined;
      const stored = byPeer.rowAt === undefined || now - byPeer.rowAt >= rowIntervalMs;
      const unstoredBefore = stored ? byPeer.unstored : 0;
      if (stored) {
        byPeer.rowAt = now;
        byPeer.unstored = 0;
      } else byPeer.unstored++;
      return {
        scope,
        address,
        key: scope === 'key' ? key : undefined,
        bucket,
        retryAfterMs: Math.ceil(((1 - tokens) * MINUTE_MS) / bucket.failuresPerMinute),
        stored,
        unstoredBefore,
        rowIntervalMs,
      };
    },
    failed(peer, key, now = Date.now()) {
      const byPeer = entry(peers, throttleAddressOf(peer), perPeer, now, true);
      byPeer.tokens = Math.max(0, byPeer.tokens - 1);
      byPeer.failedAt = now;
      if (perKey && key !== undefined) {
        const byKey = entry(keys, key, perKey, now, true);
        byKey.tokens = Math.max(0, byKey.tokens - 1);
      }
    },
  };
}

/**
 * The refusal of a throttled call: the client is told to retry in so many seconds (also in the
 * `grpc-retry-pushback-ms` trailer), the row which limit, and how many throttled calls before it were only counted.
 */
export function throttledFailure(verdict: ThrottleVerdict): AuthFailure {
  const message = `${AUTH_MESSAGES.authThrottled}: retry in ${Math.ceil(verdict.retryAfterMs / SECOND_MS)} s`;
  const { bucket } = verdict;
  const limit = `${bucket.failuresPerMinute} per minute, burst ${bucket.burst}`;
  const over =
    verdict.scope === 'peer'
      ? `${verdict.address} is over auth.throttle.perPeer (${limit})`
      : `${verdict.key ?? 'the key'} is over auth.throttle.perKey (${limit}) and ${verdict.address} failed too`;
  const seconds = Math.round(verdict.rowIntervalMs / 100) / 10;
  return {
    reason: 'auth-throttled',
    message,
    detail:
      `${message} (not verified: ${over}; ${verdict.unstoredBefore} more throttled calls from this address since its ` +
      `previous row were counted as authThrottled, not stored: one row per address per ${seconds} s)`,
  };
}

/**
 * The address a peer is throttled by: the IP without the port; an IPv4-mapped IPv6 address as IPv4; any other IPv6
 * address by its /64 (`2001:db8:1:2::/64`), the block one host or one subscriber usually holds, so that rotating
 * through it does not buy fresh buckets. What is not an IP (`unknown`) is its own address.
 * @param peer as grpc-js reports it: `127.0.0.1:53412`, `::1:53412` (IPv6 without brackets), `[::1]:53412`.
 */
export function throttleAddressOf(peer: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
  const host = bracketed ? bracketed[1]! : peer.replace(/:\d+$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return mapped[1]!;
  if (!host.includes(':')) return host;
  return ipv6Slash64(host.replace(/%.*$/, '')) ?? host;
}

/** The /64 of an IPv6 address (`2001:db8:1:2::/64`), or `undefined` when it does not parse. */
function ipv6Slash64(address: string): string | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string | undefined) =>
    !part ? [] : part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group]));
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
