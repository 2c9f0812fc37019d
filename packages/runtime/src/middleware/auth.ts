import { ServerError, Status, type Metadata, type ServerMiddleware } from 'nice-grpc';
import type { JwtVerifier } from '../auth/jwt.js';
import { PEER_COMMON_NAME_HEADER, PEER_IDENTITY_ERROR_HEADER, PEER_IDENTITY_HEADER } from '../auth/mtls.js';
import { resolveMethodRule, type AuthPolicy, type MethodRule } from '../auth/policy.js';
import { describePrincipal, permissionDenied, type Principal } from '../auth/principal.js';
import {
  AUTH_MESSAGES,
  attachCallAuth,
  createAuthRefusalLog,
  noCallerFailure,
  type AuthFailure,
  type AuthRefusal,
} from '../auth/refusals.js';
import { API_KEY_PREFIX } from '../logstore/api-keys.js';
import type { AuthHookCall, AuthHooks } from '../server/service-hooks.js';
import { callInfoOf } from './call-info.js';
import { toServerError, type ErrorMappingOptions } from './error-mapping.js';

/** `authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is case-insensitive, RFC 9110 §11.1). */
const BEARER_SCHEME = /^\s*Bearer(?:\s+|$)/i;

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

/** Options of {@link createAuthMiddleware}, with the service's own hooks ({@link AuthHooks}). */
export interface AuthOptions<ServiceContext = unknown> extends AuthHooks<ServiceContext> {
  /** Which methods are public and which roles they need (grpcforge.yaml `auth`). */
  readonly policy: AuthPolicy;
  /** Accept API keys in `x-api-key` metadata. */
  readonly apiKeys?: ApiKeyVerifier;
  /** Accept JWTs in `authorization: Bearer <token>` metadata. */
  readonly jwt?: JwtVerifier;
  /** How long an API key check is cached, in ms; revocation takes effect within this time. @defaultValue 5000 */
  readonly apiKeyCacheMs?: number;
  /**
   * Accept the verified client certificate as identity (needs the server's TLS to request client certificates),
   * validated as an X.509-SVID (see `certificateIdentity` in `auth/mtls.ts`). `roles` maps an identity to its roles; identities not
   * listed get none. `allowCommonName` (default `false`) also identifies a certificate without a URI SAN by its
   * subject CN, never one in the `spiffe:` namespace.
   */
  readonly mtls?: {
    readonly roles?: Readonly<Record<string, readonly string[]>>;
    /** @defaultValue false */
    readonly allowCommonName?: boolean;
  };
  /**
   * Receives every refused call (UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE for an unreachable key source) with
   * the operator's detail; must not block.
   * @defaultValue {@link createAuthRefusalLog}`()`: rate-limited lines on stderr
   */
  readonly onRefused?: (refusal: AuthRefusal) => void;
}

/** The context auth gives handlers: the resolved caller, or `undefined` on public methods called anonymously. */
export interface AuthContext {
  readonly principal: Principal | undefined;
}

/** What auth needs from outer stages: the service context its hooks receive. */
export interface ServiceContextExtension<ServiceContext = unknown> {
  /** The value `src/context.ts`'s `createServiceContext` returned, created once per process. */
  readonly serviceContext: ServiceContext;
}

/**
 * Server middleware that resolves the caller and enforces the policy. The caller is, in this order:
 * 1. the call credential: an API key in `x-api-key`, or a JWT in `authorization: Bearer <token>` (RFC 6750 §2.1).
 *    A call carries at most one: both headers, or either header sent twice, is UNAUTHENTICATED with
 *    `AUTH_MESSAGES.ambiguousCredentials` on every method, before any of them is verified. An `authorization` value
 *    with another scheme (`Basic ...`) is not a grpcforge credential: it is left to `resolvePrincipal` and is not
 *    ambiguous with an API key (but a second `authorization` value still is). A call credential that fails is
 *    final: the call does not fall back to the client certificate;
 * 2. else the verified client certificate (mTLS, set by the peer-identity interceptor): its SPIFFE ID, or its CN with
 *    `mtls.allowCommonName`. With a call credential present the certificate only authenticates the channel;
 * 3. else the service's `resolvePrincipal` hook; then `enrichPrincipal` adjusts whoever was found.
 *
 * No or bad credentials on a non-public method is UNAUTHENTICATED with a message that says which
 * ({@link AUTH_MESSAGES}: `no credentials`, `invalid API key`, `API key revoked`, `token expired`, ...) and reveals
 * nothing a caller without the credential could use; a known caller without a required role is PERMISSION_DENIED
 * naming the roles (`permission denied: requires role admin`); a key source that cannot be reached (JWKS down) is
 * UNAVAILABLE. Each refusal goes to `onRefused` and, with its detail (the API key's prefix, the failed check), into
 * the request logger's row. On a public method a bad credential leaves the call anonymous; `requirePrincipal` then
 * refuses with the credential's reason. Health and reflection are always public. The service's hooks run here,
 * outside error mapping: an error of theirs that is not a ServerError becomes INTERNAL, as a handler's would.
 * @param onUnexpectedError receives such errors with the method path. @defaultValue writes them to stderr
 */
export function createAuthMiddleware<ServiceContext = unknown>(
  options: AuthOptions<ServiceContext>,
  onUnexpectedError?: ErrorMappingOptions['onUnexpectedError'],
): ServerMiddleware<AuthContext, ServiceContextExtension<ServiceContext>> {
  const cacheMs = options.apiKeyCacheMs ?? 5000;
  const keyCache = new Map<string, { at: number; outcome: Principal | AuthFailure }>();
  const onRefused = options.onRefused ?? createAuthRefusalLog();

  // The policy does not change while the server runs: resolve each method's rule once.
  const rules = new Map<string, MethodRule>();

  const fromApiKey = async (apiKeys: ApiKeyVerifier, key: string): Promise<Principal | AuthFailure> => {
    const now = Date.now();
    let cached = keyCache.get(key);
    if (!cached || now - cached.at >= cacheMs) {
      const result = await apiKeys.verify(key);
      const outcome: Principal | AuthFailure = result.ok
        ? { id: result.record.name, kind: 'apiKey', roles: result.record.roles, apiKeyId: result.record.id }
        : apiKeyFailure(key, result.reason);
      if (keyCache.size > 10_000) keyCache.clear();
      cached = { at: now, outcome };
      keyCache.set(key, cached);
    }
    const { outcome } = cached;
    if ('kind' in outcome && outcome.apiKeyId) apiKeys.countUse?.(outcome.apiKeyId, now);
    return outcome;
  };

  return async function* auth(call, context) {
    let rule = rules.get(call.method.path);
    if (rule === undefined) {
      rule = resolveMethodRule(options.policy, call.method.path);
      rules.set(call.method.path, rule);
    }
    // Every refusal of this call: the row gets the detail and the presented key's id, the operator log a line.
    const refuse = (code: Status, failure: AuthFailure, principal?: Principal): ServerError => {
      const refusal = new ServerError(code, failure.message);
      const info = callInfoOf(context.signal);
      if (info) {
        info.errorDetail = failure.detail;
        info.errorDetailOf = refusal;
        info.apiKeyId = failure.apiKeyId;
      }
      try {
        onRefused({
          ...failure,
          code,
          method: call.method.path,
          peer: context.peer,
          ...(principal ? { principal: describePrincipal(principal) } : {}),
        });
      } catch (error) {
        // A hook of the team's that throws must not turn the refusal into UNKNOWN: the client still gets its status.
        (onUnexpectedError ?? reportHookError)(error, call.method.path);
      }
      return refusal;
    };
    const apiKeys = context.metadata.getAll('x-api-key');
    const authorizations = context.metadata.getAll('authorization');
    const bearers = authorizations.filter((value) => BEARER_SCHEME.test(value));
    // Two credentials (or one header twice) name two callers, or one forged: refused before either is verified, so a
    // valid key cannot carry a forged token (or the reverse) through. Node's HTTP/2 layer folds a repeated
    // `x-api-key` into one value joined by ", " (neither an API key nor a JWT can contain a comma), and keeps only
    // the first of a repeated `authorization` (a single-value header there), so the comma check is what sees the
    // repeat over the wire; the count covers metadata that arrives unfolded. The message says what was wrong with the
    // call's shape and echoes nothing of the credentials.
    const repeated = (values: readonly string[]) => values.length > 1 || values.some((value) => value.includes(','));
    const ambiguity = repeated(apiKeys)
      ? 'x-api-key sent more than once'
      : authorizations.length > 1 || repeated(bearers)
        ? 'authorization sent more than once'
        : apiKeys.length > 0 && bearers.length > 0
          ? 'both x-api-key and authorization: Bearer'
          : undefined;
    if (ambiguity) {
      throw refuse(Status.UNAUTHENTICATED, failureOf('ambiguous-credentials', AUTH_MESSAGES.ambiguousCredentials, ambiguity));
    }
    const apiKey = apiKeys[0];
    const bearer = bearers[0]?.replace(BEARER_SCHEME, '').trim();
    let principal: Principal | undefined;
    // Why the presented credential identified nobody (the last word unless a hook finds the caller).
    let failure: AuthFailure | undefined;
    if (apiKey !== undefined) {
      if (!options.apiKeys) failure = invalidApiKey(apiKey, 'API keys are not enabled here: auth.apiKeys and a log store');
      else if (apiKey === '') failure = apiKeyFailure(apiKey, 'malformed');
      else {
        const outcome = await fromApiKey(options.apiKeys, apiKey);
        if ('kind' in outcome) principal = outcome;
        else failure = outcome;
      }
    } else if (bearer !== undefined) {
      const result = bearer && options.jwt ? await options.jwt(bearer) : undefined;
      if (result?.ok) principal = result.principal;
      else if (result?.reason === 'unavailable') {
        if (rule !== 'public') {
          const why = result.detail;
          throw refuse(Status.UNAVAILABLE, failureOf('credentials-unavailable', AUTH_MESSAGES.credentialsUnavailable, why));
        }
      } else if (result?.reason === 'expired') failure = failureOf('token-expired', AUTH_MESSAGES.tokenExpired, result.detail);
      else {
        const why = result ? result.detail : bearer ? 'no auth.jwt here to verify bearer tokens' : 'an empty bearer token';
        failure = failureOf('invalid-token', AUTH_MESSAGES.invalidToken, why);
      }
    } else if (options.mtls) {
      // The certificate only without a call credential: a present header, even empty or bad, never falls back to it.
      // With a call credential, that credential is the caller and the certificate only authenticated the channel (a
      // service with its own certificate calling on behalf of a user, as the example's user service does with a
      // bearer token). Refusing the pair instead would forbid exactly that relay.
      const outcome = fromCertificate(context.metadata, options.mtls);
      if (outcome && 'kind' in outcome) principal = outcome;
      else failure = outcome;
    }
    const hookCall = (): AuthHookCall<ServiceContext> => ({
      method: call.method.path,
      metadata: context.metadata,
      peer: context.peer,
      signal: context.signal,
      serviceContext: context.serviceContext,
    });
    try {
      if (!principal && options.resolvePrincipal) principal = await options.resolvePrincipal(hookCall());
      if (principal && options.enrichPrincipal) principal = await options.enrichPrincipal(principal, hookCall());
    } catch (error) {
      // Hooks are the service's own code and run outside error mapping: a bug there is INTERNAL, not UNKNOWN.
      throw toServerError(error, call.method.path, context.signal, onUnexpectedError);
    }
    if (!principal && failure && options.resolvePrincipal) {
      failure = { ...failure, detail: `${failure.detail}; resolvePrincipal found no caller either` };
    }
    const info = callInfoOf(context.signal);
    if (info) info.principal = principal;
    if (rule !== 'public') {
      if (!principal) throw refuse(Status.UNAUTHENTICATED, noCallerFailure(failure));
      if (typeof rule === 'object' && !rule.roles.some((role) => principal.roles.includes(role))) {
        throw refuse(Status.PERMISSION_DENIED, permissionDenied(principal, rule.roles), principal);
      }
    }
    attachCallAuth(context.signal, {
      failure: principal ? undefined : failure,
      refuse: (code, chosen) => refuse(code, chosen, principal),
    });
    return yield* call.next(call.request, { ...context, principal });
  };
}

/** `message (why)`: the operator's detail of a refusal. */
function failureOf(reason: AuthFailure['reason'], message: string, why: string, apiKeyId?: string): AuthFailure {
  return { reason, message, detail: `${message} (${why})`, ...(apiKeyId ? { apiKeyId } : {}) };
}

/**
 * The caller the interceptor read from the verified client certificate, or why the certificate identifies nobody, or
 * `undefined` without a certificate.
 */
function fromCertificate(metadata: Metadata, mtls: NonNullable<AuthOptions['mtls']>): Principal | AuthFailure | undefined {
  const commonName = metadata.get(PEER_COMMON_NAME_HEADER);
  const id = metadata.get(PEER_IDENTITY_HEADER) ?? (mtls.allowCommonName ? commonName : undefined);
  if (id) return { id, kind: 'mtls', roles: mtls.roles?.[id] ?? [] };
  const why =
    metadata.get(PEER_IDENTITY_ERROR_HEADER) ??
    (commonName === undefined
      ? undefined
      : `no URI SAN, and its CN ${JSON.stringify(commonName)} identifies a caller only with auth.mtls.allowCommonName`);
  return why === undefined ? undefined : failureOf('certificate-not-accepted', AUTH_MESSAGES.certificateNotAccepted, why);
}

const PRESENTED_KEY_ID = new RegExp(`^${API_KEY_PREFIX}([0-9a-f]{12})(?:_|$)`);

/** The 12 hex digits of a key's `gfk_<id>` prefix, also of an otherwise malformed key; never any of its secret. */
function presentedKeyId(key: string): string | undefined {
  return PRESENTED_KEY_ID.exec(key)?.[1];
}

/** `invalid API key (<why>)`, naming the key by its prefix when it has one. */
function invalidApiKey(key: string, why: string): AuthFailure {
  const id = presentedKeyId(key);
  return failureOf('invalid-api-key', AUTH_MESSAGES.invalidApiKey, id ? `${API_KEY_PREFIX}${id}: ${why}` : why, id);
}

/** The failure of a key the verifier refused, by its reason. */
function apiKeyFailure(key: string, reason: 'malformed' | 'unknown' | 'revoked' | 'expired' | undefined): AuthFailure {
  const id = presentedKeyId(key);
  switch (reason) {
    // Only a key whose whole value matched its stored hash gets here, so it has an id.
    case 'revoked':
      return failureOf('api-key-revoked', AUTH_MESSAGES.apiKeyRevoked, `${API_KEY_PREFIX}${id ?? '?'}`, id);
    case 'expired':
      return failureOf('api-key-expired', AUTH_MESSAGES.apiKeyExpired, `${API_KEY_PREFIX}${id ?? '?'}`, id);
    case 'malformed':
      return invalidApiKey(key, `malformed: ${key.length} characters, expected ${API_KEY_PREFIX}<12 hex digits>_<secret>`);
    case 'unknown':
      return invalidApiKey(key, 'no key has this id and secret');
    default:
      return invalidApiKey(key, 'refused by the key verifier');
  }
}

/** Where an `onRefused` hook's own error goes when no `onUnexpectedError` is given. */
function reportHookError(error: unknown, methodPath: string): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`error in the onRefused hook of ${methodPath}: ${detail}\n`);
}
