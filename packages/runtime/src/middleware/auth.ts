import { ServerError, Status, type CallContext, type Metadata, type ServerMiddleware } from 'nice-grpc';
import { createApiKeyAuthenticator, type ApiKeyVerifier } from '../auth/api-key-authenticator.js';
import {
  authFailure,
  describeCredential,
  type AuthCredential,
  type Authenticator,
  type AuthenticatorOutcome,
} from '../auth/authenticator.js';
import {
  createAuthThrottle,
  isAuthThrottle,
  throttledFailure,
  type AuthThrottle,
  type AuthThrottleOptions,
} from '../auth/auth-throttle.js';
import type { JwtVerifier } from '../auth/jwt.js';
import { createJwtAuthenticator } from '../auth/jwt-authenticator.js';
import { createMtlsAuthenticator, type MtlsAuthOptions } from '../auth/mtls-authenticator.js';
import { resolveMethodRule, type AuthPolicy, type MethodRule } from '../auth/policy.js';
import { describePrincipal, permissionDenied, type Principal } from '../auth/principal.js';
import { attachCallAuth, createAuthRefusalLog, noCallerFailure, type AuthFailure, type AuthRefusal } from '../auth/refusals.js';
import type { DefenceCounters } from '../server/defence-counters.js';
import type { AuthHookCall, AuthHooks } from '../server/service-hooks.js';
import { callInfoOf } from './call-info.js';
import { toServerError, type ErrorMappingOptions } from './error-mapping.js';

export type { ApiKeyVerifier } from '../auth/api-key-authenticator.js';

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
  readonly mtls?: MtlsAuthOptions;
  /**
   * Receives every refused call (UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE for an unreachable key source,
   * RESOURCE_EXHAUSTED when throttled) with the operator's detail; must not block.
   * @defaultValue {@link createAuthRefusalLog}`()`: rate-limited lines on stderr
   */
  readonly onRefused?: (refusal: AuthRefusal) => void;
  /**
   * The failed-authentication throttle (grpcforge.yaml `auth.throttle`): token buckets of failed authentications per
   * peer address and per presented API key (its public prefix). Past them a call that presents a credential is
   * refused RESOURCE_EXHAUSTED before anything is verified (no hash, no store lookup, no signature check), with
   * `too many failed authentications: retry in <n> s` and the trailer `grpc-retry-pushback-ms` (gRPC's server
   * pushback); one such refusal per address per minute is stored as a row, the others are counted in
   * `defences` (`authThrottled`). `false` turns it off.
   * An {@link AuthThrottle} itself is used as it is: `startServer` makes one to share it with its stream-level early
   * refusal ({@link AuthThrottle.refuseEarly}).
   * @defaultValue on, with `DEFAULT_AUTH_THROTTLE` (30 failures per minute per address, burst 30; 10 per key, burst 10)
   */
  readonly throttle?: AuthThrottleOptions | AuthThrottle | false;
  /** The server's defence counters, where throttled calls are counted (`startServer` passes its own). */
  readonly defences?: DefenceCounters;
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
 * Server middleware that resolves the caller and enforces the policy. It runs a list of {@link Authenticator}s: API
 * keys (`x-api-key`), JWTs (`authorization: Bearer <token>`, RFC 6750 §2.1), the service's own `authenticators`,
 * the verified client certificate (with `mtls`), then the service's `resolvePrincipal`. Per call:
 * 1. the ambiguity rule, over every authenticator of a call credential (`metadata`, see {@link AuthCredential}): a
 *    call carries at most one. Two of them, or one header sent twice, is UNAUTHENTICATED with
 *    `AUTH_MESSAGES.ambiguousCredentials` on every method, before any of them is verified. An `authorization` value
 *    with another scheme (`Basic ...`) is no authenticator's credential: it is left to `resolvePrincipal` and is not
 *    ambiguous with an API key (but a second `authorization` value still is);
 * 2. the failed-authentication throttle (`throttle`): a call credential from an address, or an API key from an
 *    address that failed too, past its bucket is RESOURCE_EXHAUSTED on every method, public ones included, before it
 *    is verified (see `createAuthThrottle`); a credential that then fails verification takes a token;
 * 3. the presented call credential's authenticator; its failure is final: the call does not fall back to the client
 *    certificate;
 * 4. else the certificate's (`peer-certificate`): with a call credential present the certificate only authenticates
 *    the channel (a service with its own certificate calling on behalf of a user, as the example's user service does
 *    with a bearer token; refusing the pair would forbid exactly that relay);
 * 5. else the `fallback` ones (`resolvePrincipal`); then `enrichPrincipal` adjusts whoever was found.
 *
 * No or bad credentials on a non-public method is UNAUTHENTICATED with a message that says which
 * (`AUTH_MESSAGES`: `no credentials`, `invalid API key`, `API key revoked`, `token expired`, ...) and reveals
 * nothing a caller without the credential could use; a known caller without a required role is PERMISSION_DENIED
 * naming the roles (`permission denied: requires role admin`); a key source that cannot be reached (JWKS down) is
 * UNAVAILABLE. Each refusal goes to `onRefused` and, with its detail (the API key's prefix, the failed check), into
 * the request logger's row. On a public method a bad credential leaves the call anonymous; `requirePrincipal` then
 * refuses with the credential's reason. Health and reflection are always public. The service's hooks and
 * authenticators run here, outside error mapping: an error of theirs that is not a ServerError becomes INTERNAL, as a
 * handler's would.
 * @param onUnexpectedError receives such errors with the method path. @defaultValue writes them to stderr
 * @throws Error when two authenticators claim the same call credential (a service's own one and a configured
 *   built-in one, or two of the service's).
 */
export function createAuthMiddleware<ServiceContext = unknown>(
  options: AuthOptions<ServiceContext>,
  onUnexpectedError?: ErrorMappingOptions['onUnexpectedError'],
): ServerMiddleware<AuthContext, ServiceContextExtension<ServiceContext>> {
  return createAuthMiddlewareOf(createAuthorizer(options, onUnexpectedError));
}

/**
 * The auth middleware over an {@link Authorize} step already built: a pipeline that runs some calls through the
 * chain and others as one function gives both the same step, so they share its API-key cache, refusal log and
 * credential-guessing throttle.
 */
export function createAuthMiddlewareOf<ServiceContext = unknown>(
  authorize: Authorize<ServiceContext>,
): ServerMiddleware<AuthContext, ServiceContextExtension<ServiceContext>> {
  return async function* auth(call, context) {
    const principal = await authorize(call.method.path, context);
    return yield* call.next(call.request, { ...context, principal });
  };
}

/**
 * Auth's per-call step, apart from how a pipeline runs it: resolves the caller of the method at `methodPath` and
 * enforces the policy, as {@link createAuthMiddleware} describes; the pipeline's unary path runs it inline. @internal
 * @returns the caller, `undefined` on a public method called anonymously.
 * @throws ServerError the refusal (UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE, RESOURCE_EXHAUSTED), or INTERNAL
 *   for an error of the service's own hooks.
 */
export type Authorize<ServiceContext = unknown> = (
  methodPath: string,
  context: CallContext & ServiceContextExtension<ServiceContext>,
) => Promise<Principal | undefined>;

/** The {@link Authorize} step of {@link createAuthMiddleware}, with the same options. @internal */
export function createAuthorizer<ServiceContext = unknown>(
  options: AuthOptions<ServiceContext>,
  onUnexpectedError?: ErrorMappingOptions['onUnexpectedError'],
): Authorize<ServiceContext> {
  const onRefused = options.onRefused ?? createAuthRefusalLog();
  const authenticators = authenticatorsOf(options, onUnexpectedError);
  const callCredentials: CallCredential<ServiceContext>[] = authenticators.flatMap((authenticator) => {
    const { credential } = authenticator;
    return credential.kind === 'metadata' ? [{ authenticator, credential, scheme: schemePattern(credential.scheme) }] : [];
  });
  const fallbacks = authenticators.filter((authenticator) => authenticator.credential.kind === 'fallback');
  const throttle =
    options.throttle === false
      ? undefined
      : isAuthThrottle(options.throttle)
        ? options.throttle
        : createAuthThrottle(options.throttle);

  // The policy does not change while the server runs: resolve each method's rule once.
  const rules = new Map<string, MethodRule>();

  return async function authorize(methodPath, context) {
    let rule = rules.get(methodPath);
    if (rule === undefined) {
      rule = resolveMethodRule(options.policy, methodPath);
      rules.set(methodPath, rule);
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
          method: methodPath,
          peer: context.peer,
          ...(principal ? { principal: describePrincipal(principal) } : {}),
        });
      } catch (error) {
        // A hook of the team's that throws must not turn the refusal into UNKNOWN: the client still gets its status.
        (onUnexpectedError ?? reportHookError)(error, methodPath);
      }
      return refusal;
    };
    const presented = presentedCredential(callCredentials, context.metadata);
    if (presented && 'ambiguity' in presented) {
      throw refuse(Status.UNAUTHENTICATED, authFailure('ambiguous-credentials', presented.ambiguity));
    }
    // Guessing is limited before anything is verified: a throttled call costs no hash, no lookup, no signature check.
    const gate =
      presented && throttle?.begin(context.peer, presented.authenticator.throttleKey?.(presented.value), presented.value);
    if (gate && 'throttled' in gate) {
      const verdict = gate.throttled;
      options.defences?.count('authThrottled');
      context.trailer.set('grpc-retry-pushback-ms', String(verdict.retryAfterMs));
      const info = callInfoOf(context.signal);
      if (info && !verdict.stored) info.stored = false;
      throw refuse(Status.RESOURCE_EXHAUSTED, throttledFailure(verdict));
    }
    const hookCall: AuthHookCall<ServiceContext> = {
      method: methodPath,
      metadata: context.metadata,
      peer: context.peer,
      signal: context.signal,
      serviceContext: context.serviceContext,
    };
    let principal: Principal | undefined;
    // Why the presented credential identified nobody (the last word unless a later authenticator finds the caller).
    let failure: AuthFailure | undefined;
    try {
      for (const authenticator of authenticators) {
        const { kind } = authenticator.credential;
        // Only the presented call credential's authenticator; the certificate's only without a call credential.
        if (kind === 'metadata' ? authenticator !== presented?.authenticator : kind === 'peer-certificate' && presented) {
          continue;
        }
        const outcome: AuthenticatorOutcome = await authenticator.authenticate(
          kind === 'metadata' ? presented?.value : undefined,
          hookCall,
        );
        if (outcome === undefined) continue;
        if ('principal' in outcome) {
          principal = outcome.principal;
          break;
        }
        if (!('unavailable' in outcome)) failure ??= outcome.failure;
        else if (rule !== 'public') {
          throw refuse(Status.UNAVAILABLE, authFailure('credentials-unavailable', outcome.unavailable));
        }
      }
    } finally {
      // A refused credential counts, also on a public method (where the call goes on anonymously); an authenticator
      // that threw, or a key source that is down, does not.
      if (gate) gate.attempt.settle(failure !== undefined);
    }
    if (!principal && failure && fallbacks.length > 0) {
      const names = fallbacks.map((fallback) => fallback.name).join(', ');
      failure = { ...failure, detail: `${failure.detail}; ${names} found no caller either` };
    }
    try {
      if (principal && options.enrichPrincipal) principal = await options.enrichPrincipal(principal, hookCall);
    } catch (error) {
      // Hooks are the service's own code and run outside error mapping: a bug there is INTERNAL, not UNKNOWN.
      throw toServerError(error, methodPath, context.signal, onUnexpectedError);
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
    return principal;
  };
}

/** An authenticator of a call credential, with the pattern of its scheme. */
interface CallCredential<ServiceContext> {
  readonly authenticator: Authenticator<ServiceContext>;
  readonly credential: Extract<AuthCredential, { kind: 'metadata' }>;
  readonly scheme: RegExp | undefined;
}

/**
 * The one call credential a call presents and its value (scheme stripped, trimmed), `undefined` for none, or why the
 * call is ambiguous. Two credentials (or one header twice) name two callers, or one forged: refused before either is
 * verified, so a valid key cannot carry a forged token (or the reverse) through. Node's HTTP/2 layer folds a
 * repeated `x-api-key` into one value joined by ", " (neither an API key nor a JWT can contain a comma), and keeps
 * only the first of a repeated `authorization` (a single-value header there), so the comma check is what sees the
 * repeat over the wire; the count covers metadata that arrives unfolded. The reason says what was wrong with the
 * call's shape and echoes nothing of the credentials.
 */
function presentedCredential<ServiceContext>(
  credentials: readonly CallCredential<ServiceContext>[],
  metadata: Metadata,
): { authenticator: Authenticator<ServiceContext>; value: string } | { ambiguity: string } | undefined {
  const found: { authenticator: Authenticator<ServiceContext>; credential: AuthCredential; value: string }[] = [];
  for (const { authenticator, credential, scheme } of credentials) {
    const values = metadata.getAll(credential.header).filter((value): value is string => typeof value === 'string');
    const claimed = scheme ? values.filter((value) => scheme.test(value)) : values;
    if (values.length > 1 || claimed.some((value) => value.includes(','))) {
      return { ambiguity: `${credential.header} sent more than once` };
    }
    const value = claimed[0];
    if (value !== undefined) found.push({ authenticator, credential, value: scheme ? value.replace(scheme, '').trim() : value });
  }
  const [first, second] = found;
  if (first && second) {
    return { ambiguity: `both ${describeCredential(first.credential)} and ${describeCredential(second.credential)}` };
  }
  return first;
}

/** Values of the auth-scheme `scheme`, as `^\s*Bearer(\s+|$)`; case-insensitive (RFC 9110 §11.1). */
function schemePattern(scheme: string | undefined): RegExp | undefined {
  return scheme === undefined ? undefined : new RegExp(`^\\s*${scheme.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\s+|$)`, 'i');
}

/**
 * The list, in the order they are consulted: the built-in API key and JWT authenticators (one is left out when a
 * service's own claims its credential and it is not configured), the service's own, the client certificate's (with
 * `mtls`), and `resolvePrincipal`. The service's own and `resolvePrincipal` are guarded: an error of theirs that is
 * not a `ServerError` becomes INTERNAL.
 * @throws Error when two of them claim one call credential.
 */
function authenticatorsOf<ServiceContext>(
  options: AuthOptions<ServiceContext>,
  onUnexpectedError: ErrorMappingOptions['onUnexpectedError'] | undefined,
): Authenticator<ServiceContext>[] {
  const own = (options.authenticators ?? []).map((authenticator) => guarded(authenticator, onUnexpectedError));
  own.forEach((authenticator, index) => {
    const rival = own.slice(0, index).find((earlier) => claimsOverlap(earlier.credential, authenticator.credential));
    if (rival) {
      throw new Error(
        `authenticators "${rival.name}" and "${authenticator.name}" both claim ` +
          `${describeCredential(authenticator.credential)}: a call credential has one authenticator`,
      );
    }
  });
  const builtIn = [
    {
      authenticator: createApiKeyAuthenticator(options.apiKeys, options.apiKeyCacheMs ?? 5000),
      setting: options.apiKeys && 'auth.apiKeys',
    },
    { authenticator: createJwtAuthenticator(options.jwt), setting: options.jwt && 'auth.jwt' },
  ];
  const kept: Authenticator<ServiceContext>[] = [];
  for (const { authenticator, setting } of builtIn) {
    const rival = own.find((candidate) => claimsOverlap(candidate.credential, authenticator.credential));
    if (!rival) kept.push(authenticator);
    else if (setting) {
      throw new Error(
        `authenticator "${rival.name}" claims ${describeCredential(rival.credential)}, which ${setting} verifies already: ` +
          `remove ${setting} from grpcforge.yaml, or the authenticator from src/middleware/auth.ts`,
      );
    }
  }
  const { resolvePrincipal } = options;
  const fallback: Authenticator<ServiceContext> | undefined = resolvePrincipal && {
    name: 'resolvePrincipal',
    credential: { kind: 'fallback' },
    authenticate: async (_presented, call) => {
      const principal = await resolvePrincipal(call);
      return principal ? { principal } : undefined;
    },
  };
  return [
    ...kept,
    ...own,
    ...(options.mtls ? [createMtlsAuthenticator(options.mtls)] : []),
    ...(fallback ? [guarded(fallback, onUnexpectedError)] : []),
  ];
}

/** Whether two credentials can claim one value: the same header, and the same scheme or one of them without any. */
function claimsOverlap(a: AuthCredential, b: AuthCredential): boolean {
  if (a.kind !== 'metadata' || b.kind !== 'metadata' || a.header.toLowerCase() !== b.header.toLowerCase()) return false;
  return a.scheme === undefined || b.scheme === undefined || a.scheme.toLowerCase() === b.scheme.toLowerCase();
}

/** The service's own code runs outside error mapping: a bug there is INTERNAL, not UNKNOWN. */
function guarded<ServiceContext>(
  authenticator: Authenticator<ServiceContext>,
  onUnexpectedError: ErrorMappingOptions['onUnexpectedError'] | undefined,
): Authenticator<ServiceContext> {
  return {
    ...authenticator,
    async authenticate(presented, call) {
      try {
        return await authenticator.authenticate(presented, call);
      } catch (error) {
        throw toServerError(error, call.method, call.signal, onUnexpectedError);
      }
    },
  };
}

/** Where an `onRefused` hook's own error goes when no `onUnexpectedError` is given. */
function reportHookError(error: unknown, methodPath: string): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`error in the onRefused hook of ${methodPath}: ${detail}\n`);
}
