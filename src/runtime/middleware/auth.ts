import { ServerError, Status, type ServerMiddleware } from 'nice-grpc';
import type { JwtVerifier } from '../auth/jwt.js';
import { PEER_COMMON_NAME_HEADER, PEER_IDENTITY_HEADER } from '../auth/mtls.js';
import { resolveMethodRule, type AuthPolicy, type MethodRule } from '../auth/policy.js';
import { AMBIGUOUS_CREDENTIALS_MESSAGE, UNAUTHENTICATED_MESSAGE, type Principal } from '../auth/principal.js';
import type { AuthHookCall, AuthHooks } from '../server/service-hooks.js';
import { callInfoOf } from './call-info.js';
import { toServerError, type ErrorMappingOptions } from './error-mapping.js';

/** `authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is case-insensitive, RFC 9110 §11.1). */
const BEARER_SCHEME = /^\s*Bearer(?:\s+|$)/i;

/** How API keys are checked: the log store's `verifyApiKey` and `countApiKeyUse` fit. */
export interface ApiKeyVerifier {
  verify(key: string): Promise<{ ok: true; record: { id: string; name: string; roles: readonly string[] } } | { ok: false }>;
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
 *    {@link AMBIGUOUS_CREDENTIALS_MESSAGE} on every method, before any of them is verified. An `authorization` value
 *    with another scheme (`Basic ...`) is not a grpcforge credential: it is left to `resolvePrincipal` and is not
 *    ambiguous with an API key (but a second `authorization` value still is). A call credential that fails is
 *    final: the call does not fall back to the client certificate;
 * 2. else the verified client certificate (mTLS, set by the peer-identity interceptor): its SPIFFE ID, or its CN with
 *    `mtls.allowCommonName`. With a call credential present the certificate only authenticates the channel;
 * 3. else the service's `resolvePrincipal` hook; then `enrichPrincipal` adjusts whoever was found.
 *
 * No or bad credentials on a non-public method is UNAUTHENTICATED with one generic message whatever the reason; a
 * known caller without a required role is PERMISSION_DENIED; a key source that cannot be reached (JWKS down) is
 * UNAVAILABLE. Health and reflection are always public. The service's hooks run here, outside error mapping: an error
 * of theirs that is not a ServerError becomes INTERNAL, as a handler's would.
 * @param onUnexpectedError receives such errors with the method path. @defaultValue writes them to stderr
 */
export function createAuthMiddleware<ServiceContext = unknown>(
  options: AuthOptions<ServiceContext>,
  onUnexpectedError?: ErrorMappingOptions['onUnexpectedError'],
): ServerMiddleware<AuthContext, ServiceContextExtension<ServiceContext>> {
  const cacheMs = options.apiKeyCacheMs ?? 5000;
  const keyCache = new Map<string, { at: number; principal: Principal | undefined }>();

  // The policy does not change while the server runs: resolve each method's rule once.
  const rules = new Map<string, MethodRule>();

  const fromApiKey = async (apiKeys: ApiKeyVerifier, key: string): Promise<Principal | undefined> => {
    const now = Date.now();
    let cached = keyCache.get(key);
    if (!cached || now - cached.at >= cacheMs) {
      const result = await apiKeys.verify(key);
      const principal: Principal | undefined = result.ok
        ? { id: result.record.name, kind: 'apiKey', roles: result.record.roles, apiKeyId: result.record.id }
        : undefined;
      if (keyCache.size > 10_000) keyCache.clear();
      cached = { at: now, principal };
      keyCache.set(key, cached);
    }
    if (cached.principal?.apiKeyId) apiKeys.countUse?.(cached.principal.apiKeyId, now);
    return cached.principal;
  };

  return async function* auth(call, context) {
    let rule = rules.get(call.method.path);
    if (rule === undefined) {
      rule = resolveMethodRule(options.policy, call.method.path);
      rules.set(call.method.path, rule);
    }
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
    if (repeated(apiKeys) || authorizations.length > 1 || repeated(bearers) || (apiKeys.length > 0 && bearers.length > 0)) {
      throw new ServerError(Status.UNAUTHENTICATED, AMBIGUOUS_CREDENTIALS_MESSAGE);
    }
    const apiKey = apiKeys[0];
    const bearer = bearers[0]?.replace(BEARER_SCHEME, '').trim();
    // A present header is a presented credential, even empty: it never falls back to the certificate.
    const hasCallCredential = apiKey !== undefined || bearer !== undefined;
    let principal: Principal | undefined;
    if (apiKey && options.apiKeys) {
      principal = await fromApiKey(options.apiKeys, apiKey);
    } else if (bearer && options.jwt) {
      const result = await options.jwt(bearer);
      if (result.ok) principal = result.principal;
      else if (result.reason === 'unavailable' && rule !== 'public') {
        throw new ServerError(Status.UNAVAILABLE, 'cannot verify credentials right now');
      }
    }
    // A call credential is the caller when present; the client certificate then only authenticated the channel
    // (a service with its own certificate calling on behalf of a user, as the example's user service does with a
    // bearer token). Refusing the pair instead would forbid exactly that relay.
    const peerIdentity =
      options.mtls && !hasCallCredential
        ? (context.metadata.get(PEER_IDENTITY_HEADER) ??
          (options.mtls.allowCommonName ? context.metadata.get(PEER_COMMON_NAME_HEADER) : undefined))
        : undefined;
    if (peerIdentity) {
      principal = { id: peerIdentity, kind: 'mtls', roles: options.mtls?.roles?.[peerIdentity] ?? [] };
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
    const info = callInfoOf(context.signal);
    if (info) info.principal = principal;
    if (rule !== 'public') {
      if (!principal) throw new ServerError(Status.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE);
      if (typeof rule === 'object' && !rule.roles.some((role) => principal.roles.includes(role))) {
        throw new ServerError(Status.PERMISSION_DENIED, 'permission denied');
      }
    }
    return yield* call.next(call.request, { ...context, principal });
  };
}
