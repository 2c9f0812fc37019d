/**
 * One token bucket of the failed-authentication throttle: each failed authentication takes a token, tokens come back
 * at `failuresPerMinute`, and at most `burst` are held. With no token left, calls that present a credential are
 * refused without verifying it until one came back.
 */
export interface AuthThrottleBucket {
  /** Failed authentications allowed per minute once the burst is spent (the refill rate); more than 0. */
  readonly failuresPerMinute: number;
  /** Failed authentications allowed in a row before the rate applies (the bucket's size); at least 1. */
  readonly burst: number;
}

/**
 * The failed-authentication throttle (grpcforge.yaml `auth.throttle`): a bucket per peer address and one per
 * presented key (an API key's public prefix `gfk_<id>`). `false` for either turns that one off.
 */
export interface AuthThrottleSettings {
  /**
   * Failures per peer address: the IP without the port (an IPv6 address by its /64, the block one host usually
   * holds). Past it, every call from that address that presents a credential is refused without verification.
   * @defaultValue {@link DEFAULT_AUTH_THROTTLE}`.perPeer`: 30 per minute, burst 30
   */
  readonly perPeer: AuthThrottleBucket | false;
  /**
   * Failures per presented key, whichever address they come from (guessing one key's secret from many addresses).
   * Past it, a call presenting that key is refused without verification only from an address that itself failed
   * recently: the key's owner, calling from an address that did not fail, keeps working.
   * @defaultValue {@link DEFAULT_AUTH_THROTTLE}`.perKey`: 10 per minute, burst 10
   */
  readonly perKey: AuthThrottleBucket | false;
}

/** The throttle a server runs when nothing else is configured: on. */
export const DEFAULT_AUTH_THROTTLE = {
  perPeer: { failuresPerMinute: 30, burst: 30 },
  perKey: { failuresPerMinute: 10, burst: 10 },
} as const satisfies AuthThrottleSettings;
