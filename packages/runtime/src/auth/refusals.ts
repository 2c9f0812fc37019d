import { Status, type ServerError } from 'nice-grpc';
import { printableText } from './principal-text.js';

/**
 * What the client is told when auth refuses a call (the gRPC status message). Each says what was wrong without
 * saying anything a caller without the credential could learn from: an API key that is malformed, unknown, or whose
 * secret is wrong is `invalidApiKey` alike; `apiKeyRevoked` and `apiKeyExpired` come only after the whole key matched
 * its stored hash, and `tokenExpired` only after the token's signature verified.
 */
export const AUTH_MESSAGES = {
  /** UNAUTHENTICATED: the call carries no credential (no `x-api-key`, no `authorization: Bearer`, no certificate). */
  noCredentials: 'no credentials',
  /** UNAUTHENTICATED: an `x-api-key` that is malformed, unknown, has the wrong secret, or is not accepted here. */
  invalidApiKey: 'invalid API key',
  /** UNAUTHENTICATED: the key matched and was revoked (`grpcforge keys revoke`). */
  apiKeyRevoked: 'API key revoked',
  /** UNAUTHENTICATED: the key matched and its expiry passed. */
  apiKeyExpired: 'API key expired',
  /** UNAUTHENTICATED: a bearer token that does not verify (signature, algorithm, issuer, audience, shape, `sub`). */
  invalidToken: 'invalid token',
  /** UNAUTHENTICATED: a bearer token that verified and whose `exp` passed. */
  tokenExpired: 'token expired',
  /** UNAUTHENTICATED: the client certificate verified but identifies nobody (see `certificateIdentity`). */
  certificateNotAccepted: 'client certificate not accepted',
  /** UNAUTHENTICATED, on every method: two credentials, or one header twice. */
  ambiguousCredentials: 'ambiguous credentials: send one x-api-key or one authorization: Bearer, not both and not twice',
  /** UNAVAILABLE: the key source (a JWKS endpoint) cannot be reached. */
  credentialsUnavailable: 'cannot verify credentials right now',
  /**
   * RESOURCE_EXHAUSTED, before any verification: the caller's address (or its key) failed to authenticate more often
   * than `auth.throttle` allows; the message goes on with `: retry in <n> s` (also `grpc-retry-pushback-ms`).
   */
  authThrottled: 'too many failed authentications',
} as const;

/** Why auth refused a call: one value per client message (and `permission-denied`), the key of the stderr rate limit. */
export type AuthRefusalReason =
  | 'no-credentials'
  | 'invalid-api-key'
  | 'api-key-revoked'
  | 'api-key-expired'
  | 'invalid-token'
  | 'token-expired'
  | 'certificate-not-accepted'
  | 'ambiguous-credentials'
  | 'credentials-unavailable'
  | 'auth-throttled'
  | 'permission-denied';

/** A refusal before it is given: what the client is told and what the operator is told. */
export interface AuthFailure {
  readonly reason: AuthRefusalReason;
  /** The status message the client gets (one of {@link AUTH_MESSAGES}, or {@link permissionDeniedMessage}'s). */
  readonly message: string;
  /**
   * The message and why, for the operator: the row's error message and the stderr line. It names the API key by its
   * prefix (`gfk_<id>`) only and never holds a secret or a token; it may quote what a certificate or a token's
   * header said (a CN, jose's reason), which the operator log prints with control characters replaced.
   */
  readonly detail: string;
  /** The id of the presented API key (the 12 hex digits of its prefix), when the key had one. */
  readonly apiKeyId?: string;
}

/** One refused call, as {@link AuthOptions.onRefused} receives it. */
export interface AuthRefusal extends AuthFailure {
  readonly code: Status;
  /** gRPC method path, `/pkg.Service/Method`. */
  readonly method: string;
  /** The caller's address as grpc-js reports it. */
  readonly peer: string;
  /** The caller (`apiKey:ci-bot`) when one was resolved: PERMISSION_DENIED. */
  readonly principal?: string;
}

/**
 * `permission denied: requires role admin`, or `... requires one of the roles admin, ops` (any one of them is enough).
 */
export function permissionDeniedMessage(roles: readonly string[]): string {
  return roles.length === 1
    ? `permission denied: requires role ${roles[0]!}`
    : `permission denied: requires one of the roles ${roles.join(', ')}`;
}

/** Options of {@link createAuthRefusalLog}. */
export interface AuthRefusalLogOptions {
  /** Where a line goes (it ends with a newline). @defaultValue process.stderr */
  readonly write?: (line: string) => void;
  /** Per reason, at most one line per this many ms; later refusals in the window are counted. @defaultValue 60000 */
  readonly intervalMs?: number;
}

/**
 * A rate-limited operator log of refused calls, so that a flood of guessed keys cannot fill a disk: the first refusal
 * of each reason is written at once, with the method, peer and detail:
 * `grpcforge auth: UNAUTHENTICATED /pkg.Service/Method from 127.0.0.1:53412: API key revoked (gfk_0123456789ab)`;
 * later ones of the same reason within `intervalMs` are only counted, and one line at the end of the window gives
 * the count: `grpcforge auth: 49 more UNAUTHENTICATED "invalid API key" in the last 60 s (one line per reason per 60 s)`.
 * So each reason writes at most two lines per window. Control characters in a line become U+FFFD. The window's timer does not keep the process alive: a count
 * still open when the process exits is not written.
 */
export function createAuthRefusalLog(options: AuthRefusalLogOptions = {}): (refusal: AuthRefusal) => void {
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const intervalMs = options.intervalMs ?? 60_000;
  const seconds = `${Math.round(intervalMs / 100) / 10} s`;
  const windows = new Map<AuthRefusalReason, { suppressed: number }>();
  return (refusal) => {
    const open = windows.get(refusal.reason);
    if (open) {
      open.suppressed++;
      return;
    }
    const peer = refusal.peer || 'an unknown peer';
    // The detail may name a principal or roles a service's own hook made: one line, whatever they hold.
    write(`${printableText(`grpcforge auth: ${Status[refusal.code]} ${refusal.method} from ${peer}: ${refusal.detail}`)}\n`);
    const window = { suppressed: 0 };
    windows.set(refusal.reason, window);
    setTimeout(() => {
      windows.delete(refusal.reason);
      if (window.suppressed === 0) return;
      // Both carry per-call text (the roles, the seconds to wait): the summary names the reason only.
      const label =
        refusal.reason === 'permission-denied'
          ? 'permission denied'
          : refusal.reason === 'auth-throttled'
            ? AUTH_MESSAGES.authThrottled
            : refusal.message;
      write(
        `grpcforge auth: ${window.suppressed} more ${Status[refusal.code]} ${JSON.stringify(label)} in the last ` +
          `${seconds} (one line per reason per ${seconds})\n`,
      );
    }, intervalMs).unref();
  };
}

/** How a call's auth can still refuse it after the middleware let it through (public methods, `requireRole`). */
export interface CallAuth {
  /** Why the presented credential failed, when it did (a public method lets such a call through anonymously). */
  readonly failure: AuthFailure | undefined;
  /** Reports the refusal (the row and the operator log) and returns the error to throw. */
  refuse(code: Status, failure: AuthFailure): ServerError;
}

// On the call's AbortSignal, which every stage and the handler's context share: a symbol property rather than a
// WeakMap, whose entry per call the garbage collector would trace as an ephemeron (see `call-info.ts`).
const AUTH = Symbol('grpcforge.callAuth');
type SignalWithAuth = AbortSignal & { [AUTH]?: CallAuth };

/** @internal Set by the auth middleware on each call it lets through. */
export function attachCallAuth(signal: AbortSignal, auth: CallAuth): void {
  (signal as SignalWithAuth)[AUTH] = auth;
}

/** @internal What the auth middleware attached to a call, or `undefined` when the call did not go through it. */
export function callAuthOf(signal: AbortSignal | undefined): CallAuth | undefined {
  return signal ? (signal as SignalWithAuth)[AUTH] : undefined;
}

/** The failure of a call without a caller: the presented credential's, else none presented. */
export function noCallerFailure(prior: AuthFailure | undefined): AuthFailure {
  return prior ?? { reason: 'no-credentials', message: AUTH_MESSAGES.noCredentials, detail: AUTH_MESSAGES.noCredentials };
}
