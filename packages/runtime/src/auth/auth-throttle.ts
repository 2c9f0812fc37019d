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

/** A presented credential being verified: settled once its authenticator answered. */
export interface ThrottleAttempt {
  /** The verification ended: `failed` takes a token from the address's bucket and the key's. */
  settle(failed: boolean, now?: number): void;
}

/** The throttle of failed authentications, per address and per presented key (token buckets, in memory). */
export interface AuthThrottle {
  /**
   * Before a presented credential is verified: the refusal when its address, or its key from an address that itself
   * failed within the last minute, has no failure left; else the attempt to settle once it was verified. A
   * credential being verified holds one of its address's tokens until then (one per distinct value: the same key
   * sent by many calls at once holds one), so that guesses sent all at once cannot outrun the bucket.
   * @param peer the caller as grpc-js reports it (`127.0.0.1:53412`, `::1:53412`).
   * @param key what the credential claims to be, readable without verifying it (an API key's `gfk_<id>`).
   * @param credential the presented value: tells concurrent calls with one credential from guesses.
   * @param now ms since the epoch.
   */
  begin(
    peer: string,
    key: string | undefined,
    credential: string,
    now?: number,
  ): { readonly throttled: ThrottleVerdict } | { readonly attempt: ThrottleAttempt };
  /**
   * Before a call is even handed to grpc-js: the refusal when the caller's address has no failure left and this call
   * would not be its sampled row, counted among the address's unstored calls; `undefined` otherwise (the call then
   * meets {@link AuthThrottle.begin} in the auth stage, which also decides the sampled row). Lets a flood of guesses from
   * one address be answered at the HTTP/2 stream, at a fraction of a call's cost.
   * @param peer as for {@link AuthThrottle.begin}.
   */
  refuseEarly(peer: string, now?: number): ThrottleVerdict | undefined;
}

/** An address's (or a key's) bucket as of `at`; for an address also its last failure, rows and credentials in flight. */
interface Tracked {
  tokens: number;
  at: number;
  failedAt: number;
  rowAt: number | undefined;
  unstored: number;
  /** Credentials of this address being verified, with how many calls carry each. */
  pending: Map<string, number> | undefined;
}

/**
 * Token buckets of failed authentications ({@link AuthThrottle}). A call is refused without verification when its
 * address has no token left (tokens held by credentials being verified count as spent), or when its presented key
 * has none and the address failed within the last minute (so the key's owner, calling from an address that did not
 * fail, is never refused because others guessed its secret). Successes take nothing. Both tables are LRU-bounded by
 * `maxTracked`: a forgotten address or key starts over with a full bucket.
 */
export function createAuthThrottle(options: AuthThrottleOptions = {}): AuthThrottle {
  const perPeer = options.perPeer ?? DEFAULT_AUTH_THROTTLE.perPeer;
  const perKey = options.perKey ?? DEFAULT_AUTH_THROTTLE.perKey;
  const maxTracked = options.maxTracked ?? 10_000;
  const rowIntervalMs = options.rowIntervalMs ?? MINUTE_MS;
  const peers = new Map<string, Tracked>();
  const keys = new Map<string, Tracked>();
  // Every call of a connection has the same peer: its address is parsed once (three regular expressions), not per call.
  const addresses = new Map<string, string>();
  const throttleAddress = (peer: string): string => {
    let address = addresses.get(peer);
    if (address === undefined) {
      if (addresses.size >= maxTracked) addresses.clear();
      address = throttleAddressOf(peer);
      addresses.set(peer, address);
    }
    return address;
  };

  /** The entry, refilled to `now` and made the most recently used; created with a full bucket when missing. */
  const entry = (table: Map<string, Tracked>, name: string, bucket: AuthThrottleBucket | false, now: number): Tracked => {
    let found = table.get(name);
    if (found) {
      // Map keeps insertion order: re-inserting makes it the most recently used, the first one the least.
      table.delete(name);
      if (bucket) found.tokens = Math.min(bucket.burst, found.tokens + ((now - found.at) * bucket.failuresPerMinute) / MINUTE_MS);
      found.at = now;
    } else {
      if (table.size >= maxTracked) table.delete(table.keys().next().value!);
      found = {
        tokens: bucket ? bucket.burst : 0,
        at: now,
        failedAt: -Infinity,
        rowAt: undefined,
        unstored: 0,
        pending: undefined,
      };
    }
    table.set(name, found);
    return found;
  };

  /** The limit a call is over, with the tokens of the bucket that refuses it; `undefined` when it is over none. */
  const over = (byPeer: Tracked, key: string | undefined, credential: string, now: number) => {
    const pending = byPeer.pending;
    // Another call is verifying this very credential: this one adds no guess (and holds no token of its own).
    if (pending?.has(credential)) return undefined;
    // Credentials being verified hold a token only on an address that failed within the last minute: one that never
    // failed (a gateway passing on many users' tokens at once) is not refused for how many it verifies at once.
    const holding = now - byPeer.failedAt < MINUTE_MS ? (pending?.size ?? 0) : 0;
    const available = byPeer.tokens - holding;
    if (perPeer && available < 1) return { scope: 'peer' as const, bucket: perPeer, tokens: available };
    if (!perKey || key === undefined || now - byPeer.failedAt >= MINUTE_MS) return undefined;
    const byKey = keys.has(key) ? entry(keys, key, perKey, now) : undefined;
    return byKey && byKey.tokens < 1 ? { scope: 'key' as const, bucket: perKey, tokens: byKey.tokens } : undefined;
  };

  return {
    refuseEarly(peer, now = Date.now()) {
      if (!perPeer) return undefined;
      const address = throttleAddress(peer);
      // Only an address that failed within the last minute can be out of tokens.
      const known = peers.get(address);
      if (!known || now - known.failedAt >= MINUTE_MS) return undefined;
      // Refilled to now and made the most recently used, so a flood from it does not let it be forgotten.
      const byPeer = entry(peers, address, perPeer, now);
      const tokens = byPeer.tokens;
      const available = tokens - (byPeer.pending?.size ?? 0);
      const rowDue = byPeer.rowAt === undefined || now - byPeer.rowAt >= rowIntervalMs;
      if (available >= 1 || rowDue) return undefined;
      byPeer.unstored++;
      return {
        scope: 'peer',
        address,
        key: undefined,
        bucket: perPeer,
        retryAfterMs: Math.ceil(((1 - tokens) * MINUTE_MS) / perPeer.failuresPerMinute),
        stored: false,
        unstoredBefore: 0,
        rowIntervalMs,
      };
    },
    begin(peer, key, credential, now = Date.now()) {
      const address = throttleAddress(peer);
      const byPeer = entry(peers, address, perPeer, now);
      const limit = over(byPeer, key, credential, now);
      if (limit) {
        const stored = byPeer.rowAt === undefined || now - byPeer.rowAt >= rowIntervalMs;
        const unstoredBefore = stored ? byPeer.unstored : 0;
        if (stored) {
          byPeer.rowAt = now;
          byPeer.unstored = 0;
        } else byPeer.unstored++;
        const throttled: ThrottleVerdict = {
          scope: limit.scope,
          address,
          key: limit.scope === 'key' ? key : undefined,
          bucket: limit.bucket,
          retryAfterMs: Math.ceil(((1 - limit.tokens) * MINUTE_MS) / limit.bucket.failuresPerMinute),
          stored,
          unstoredBefore,
          rowIntervalMs,
        };
        return { throttled };
      }
      const pending = (byPeer.pending ??= new Map<string, number>());
      pending.set(credential, (pending.get(credential) ?? 0) + 1);
      let settled = false;
      const attempt: ThrottleAttempt = {
        settle(failed, at = Date.now()) {
          if (settled) return;
          settled = true;
          const calls = pending.get(credential) ?? 1;
          if (calls > 1) pending.set(credential, calls - 1);
          else pending.delete(credential);
          // The map holds credentials only while they are verified: an idle address keeps none, not even a map.
          if (pending.size === 0 && byPeer.pending === pending) byPeer.pending = undefined;
          if (!failed) return;
          // The address's entry may have been forgotten meanwhile: its failure then starts a fresh one.
          const failing = entry(peers, address, perPeer, at);
          failing.tokens = Math.max(0, failing.tokens - 1);
          failing.failedAt = at;
          if (perKey && key !== undefined) {
            const byKey = entry(keys, key, perKey, at);
            byKey.tokens = Math.max(0, byKey.tokens - 1);
          }
        },
      };
      return { attempt };
    },
  };
}

/** Whether `value` is an {@link AuthThrottle} (not its options). */
export function isAuthThrottle(value: AuthThrottleOptions | AuthThrottle | undefined): value is AuthThrottle {
  return typeof (value as Partial<AuthThrottle> | undefined)?.refuseEarly === 'function';
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
