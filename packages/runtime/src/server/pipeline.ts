import { composeServerMiddleware, type ServerMiddleware } from 'nice-grpc';
import { createAuthMiddleware, type AuthContext, type AuthOptions, type ServiceContextExtension } from '../middleware/auth.js';
import {
  createErrorMappingMiddleware,
  createOuterErrorDetailsMiddleware,
  type ErrorMappingOptions,
} from '../middleware/error-mapping.js';
import { createRequestLoggerMiddleware, type RequestLoggerOptions } from '../middleware/request-logger.js';
import { createTerminatorMiddleware } from '../middleware/terminator.js';
import { createCodecMiddleware, type MethodCodecs } from './wire-codec.js';
import type { ServiceMiddlewareList } from './service-middleware.js';
import type { MethodValidators } from '../validation/method-validators.js';
import { withValidation } from '../validation/with-validation.js';

/** Options of {@link createPipeline}: the logger and auth stages run when their options are given. */
export interface PipelineOptions<ServiceContext = unknown> {
  readonly logger?: RequestLoggerOptions;
  readonly auth?: AuthOptions<ServiceContext>;
  readonly errors?: ErrorMappingOptions;
  /**
   * The service's own middleware (its `src/middleware/index.ts`), composed after auth and before error mapping; an
   * error of theirs that is not a `ServerError` becomes INTERNAL, as a handler's would.
   */
  readonly middleware?: ServiceMiddlewareList<ServiceContext>;
  /** Handed to every handler (and to auth hooks) as `context.serviceContext`. */
  readonly serviceContext: ServiceContext;
  /** Aborted when the server shuts down: streaming calls then end (see `createTerminatorMiddleware`). */
  readonly terminate?: AbortSignal;
  /** Codecs of methods served as bytes (`toWireDefinition`): decoded and encoded innermost, once. */
  readonly codecs?: MethodCodecs;
  /**
   * The `buf.validate` checks of the methods that have rules (`createMethodValidators`), run on the bytes inside
   * error mapping, after auth and the service's middleware, right before the handler: a request is validated once
   * decoded, a response once encoded. Only methods served with {@link PipelineOptions.codecs} are validated; a method
   * without a check runs no validation code.
   */
  readonly validators?: MethodValidators;
  /**
   * The telemetry stage (a server span per call, see `createServerTelemetryMiddleware`), right inside the logger:
   * the span covers auth and the handler, and the trace id is set before the logger records the call.
   */
  readonly telemetry?: ServerMiddleware;
}

/** A stage that adds nothing to the context (nice-grpc's `{}`), or requires nothing of outer stages. */
type NoExtension = object;

/** The context extension a server middleware adds: `ServerMiddleware<Ext, Required>` → `Ext`. */
export type MiddlewareExtension<Middleware> = Middleware extends ServerMiddleware<infer Ext, never> ? Ext : never;

/**
 * The server middleware, outermost first: service context → request logger → telemetry (when given) → auth → the
 * service's own middleware (when given) → terminator (when `terminate` is given) → error mapping → codec (when `codecs` are given),
 * with validation inside it for the methods that have `validators` (→ handler),
 * composed with nice-grpc's `composeServerMiddleware`, so the context each stage adds (the principal, the service
 * context) reaches handlers through the types. The logger is outside auth so it records refused calls and the
 * principal auth resolved; error mapping is inside so the logger sees the final status.
 */
export function createPipeline<ServiceContext>(options: PipelineOptions<ServiceContext>) {
  const serviceContext = createServiceContextMiddleware(options.serviceContext);
  const logger: ServerMiddleware = options.logger ? createRequestLoggerMiddleware(options.logger) : passThrough;
  const auth: ServerMiddleware<AuthContext, ServiceContextExtension<ServiceContext>> = options.auth
    ? createAuthMiddleware(options.auth, options.errors?.onUnexpectedError)
    : anonymous;
  type Outer = ServiceContextExtension<ServiceContext>;
  const traced = options.telemetry ? composeServerMiddleware(logger, options.telemetry) : logger;
  const outer = composeServerMiddleware<Outer, NoExtension, NoExtension>(serviceContext, traced);
  // Details of errors auth maps itself (its authenticators' and hooks'), which run outside error mapping.
  const withDetails = composeServerMiddleware<Outer, NoExtension, NoExtension>(
    outer,
    createOuterErrorDetailsMiddleware(options.errors ?? {}),
  );
  const authenticated = composeServerMiddleware<Outer, AuthContext, NoExtension>(withDetails, auth);
  const mapping = createErrorMappingMiddleware(options.errors ?? {});
  // Innermost: the logger outside sees the bytes of the wire, error mapping sees a response that cannot be encoded.
  // Validation is part of a ruled method's codec, so a violation is mapped like any handler error.
  const codecs = options.codecs && options.validators ? withValidation(options.codecs, options.validators) : options.codecs;
  const errors = codecs ? composeServerMiddleware(mapping, createCodecMiddleware(codecs)) : mapping;
  // Inside auth, outside error mapping: a stream ended by shutdown reaches the logger as UNAVAILABLE, not CANCELLED.
  const terminated = options.terminate ? composeServerMiddleware(createTerminatorMiddleware(options.terminate), errors) : errors;
  // The team's own: they see the principal, and the status error mapping gave a handler's error. Error mapping also
  // goes around them (it holds no state), so an error of theirs that is not a ServerError becomes INTERNAL.
  const stages = options.middleware?.stages ?? [];
  const inner =
    stages.length === 0 ? terminated : composeServerMiddleware([mapping, ...stages].reduce(composeServerMiddleware), terminated);
  return composeServerMiddleware<Outer & AuthContext, NoExtension, NoExtension>(authenticated, inner);
}

/** What grpcforge's pipeline adds to nice-grpc's `CallContext`, with the service context's type. */
export type PipelineContextExtension<ServiceContext = unknown> = MiddlewareExtension<
  ReturnType<typeof createPipeline<ServiceContext>>
>;

function createServiceContextMiddleware<ServiceContext>(
  value: ServiceContext,
): ServerMiddleware<ServiceContextExtension<ServiceContext>> {
  return async function* serviceContext(call, context) {
    return yield* call.next(call.request, { ...context, serviceContext: value });
  };
}

/** Stands in for the logger when nothing is recorded. */
const passThrough: ServerMiddleware = async function* passThrough(call, context) {
  return yield* call.next(call.request, context);
};

/** Without auth every call is anonymous: handlers still get `principal`, as `undefined`. */
const anonymous: ServerMiddleware<AuthContext> = async function* anonymous(call, context) {
  return yield* call.next(call.request, { ...context, principal: undefined });
};
