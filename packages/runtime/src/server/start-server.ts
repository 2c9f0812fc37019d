import { hostPort } from '../host-port.js';
import { createServer, type CompatServiceDefinition } from 'nice-grpc';
import { HealthDefinition, HealthServiceImpl, HealthState } from 'nice-grpc-server-health';
import type { ServerCredentials } from '@grpc/grpc-js';
import type { ErrorMappingOptions } from '../middleware/error-mapping.js';
import type { AuthOptions } from '../middleware/auth.js';
import type { CallRecord } from '../logstore/call-record.js';
import { callKindOf, splitMethodPath, type MethodOfPath } from '../middleware/request-logger.js';
import { createTerminatorMiddleware } from '../middleware/terminator.js';
import { isStoredCall } from '../middleware/call-info.js';
import { createCallAccounting, type CallAccounting } from './call-accounting.js';
import { observeHttp2Servers, patchGrpcJsServer, requireGrpcJsServerPatches } from './grpc-js-patches.js';
import {
  createConnectionGuard,
  grpcServerOptionsOf,
  guardHttp2Server,
  http2ServerOptionsOf,
  resolveServerLimits,
} from './server-limits.js';
import type { ServerLimits } from '../vocabulary/server-limits.js';
import { createPipeline } from './pipeline.js';
import { createDefenceCounters } from './defence-counters.js';
import { admitGrpcTimeout } from './grpc-timeout.js';
import { createEarlyThrottle } from './early-throttle.js';
import { createAuthThrottle, isAuthThrottle } from '../auth/auth-throttle.js';
import type { DefenceCountsJson } from '../vocabulary/defence-counters.js';
import { createRequestStreamCloser } from './request-stream-closer.js';
import type { AuthHooks, LoggingHooks } from './service-hooks.js';
import type { ServiceMiddlewareList } from './service-middleware.js';
import { createPeerIdentityInterceptor } from '../auth/mtls.js';
import type { ServiceRegistration } from './service-registration.js';
import { readServiceDefinition } from './service-definition.js';
import { toWireDefinition, type MethodCodecs } from './wire-codec.js';
import {
  TELEMETRY_FLUSH_TIMEOUT_MS,
  telemetryFeatures,
  type RunningTelemetry,
  type TelemetryOptions,
} from '../telemetry/options.js';
import { importOptional } from '../optional-packages.js';
import { validationScopeOf } from '../validation/validation-scope.js';
import type { MethodValidators, ValidationOptions } from '../validation/method-validators.js';

/** Options of {@link startServer}. Plain data: `grpcforge serve` maps `grpcforge.yaml` onto it, tests build it by hand. */
export type ServerOptions<ServiceContext = unknown> = ServerBaseOptions<ServiceContext> & ServiceContextOption<ServiceContext>;

/**
 * `serviceContext`, handed to every handler as `context.serviceContext` (and to auth hooks): the service's clients,
 * config and whatever else its handlers share, created once per process (`createServiceContext` in the service's
 * `src/context.ts`). Required when the handlers' context type does not allow `undefined`.
 */
export type ServiceContextOption<ServiceContext> = undefined extends ServiceContext
  ? { readonly serviceContext?: ServiceContext }
  : { readonly serviceContext: ServiceContext };

/** {@link ServerOptions} apart from the service context. */
export interface ServerBaseOptions<ServiceContext = unknown> {
  /** The services to serve, each a definition and its handlers. */
  readonly services: readonly ServiceRegistration<ServiceContext>[];
  /** Interface to bind, for example `127.0.0.1` or `0.0.0.0`. */
  readonly host: string;
  /** TCP port; 0 binds a free one, reported in {@link RunningServer.port}. */
  readonly port: number;
  /**
   * FileDescriptorSet (protobuf binary) covering the served services and their imports. Required for reflection
   * and for strict request decoding: the requests of the methods it describes are checked for malformed wire format,
   * sub-messages included, before ts-proto decodes them (`checkWireFormat`); without it they are left to ts-proto.
   */
  readonly descriptorSet?: Uint8Array;
  /** Serve `grpc.health.v1.Health`. @defaultValue true */
  readonly health?: boolean;
  /** Serve server reflection v1 and v1alpha; needs {@link ServerOptions.descriptorSet}. @defaultValue true */
  readonly reflection?: boolean;
  /** TLS credentials; plaintext when omitted. */
  readonly credentials?: ServerCredentials;
  /** Where unexpected handler errors go. @defaultValue stderr */
  readonly onUnexpectedError?: ErrorMappingOptions['onUnexpectedError'];
  /**
   * How errors reach clients: `debugInfo` lets a `debugInfo` detail (a stack trace) through to them
   * (`server.errors.debugInfo`). @defaultValue `{ debugInfo: false }`
   */
  readonly errors?: Pick<ErrorMappingOptions, 'debugInfo'>;
  /** Authenticate callers and enforce the per-method policy; no auth stage when omitted. */
  readonly auth?: AuthOptions<ServiceContext>;
  /** The service's own auth hooks (its `src/middleware/auth.ts`); they apply when {@link ServerOptions.auth} is set. */
  readonly authHooks?: AuthHooks<ServiceContext>;
  /**
   * Record every call (the log store's `record`): the ones that reach a method, and the ones grpc-js answers itself
   * (unknown service or method, a request over {@link ServerOptions.maxReceiveMessageBytes}, a deadline that passed
   * before the request arrived), each with the status its client saw; of the calls auth's throttle refuses, one per
   * address per minute (the others are counted in {@link RunningServer.defenceCounts}). No logger stage when omitted.
   */
  readonly recordCall?: (call: CallRecord) => void;
  /** The service's own request-log hooks (its `src/middleware/logging.ts`). */
  readonly loggingHooks?: LoggingHooks;
  /**
   * The service's own middleware (its `src/middleware/index.ts`), composed after auth and before error mapping: they
   * see the principal, and what they add to the context reaches the handlers.
   */
  readonly middleware?: ServiceMiddlewareList<ServiceContext>;
  /**
   * Largest request message accepted, in bytes; a larger one is answered RESOURCE_EXHAUSTED (and recorded). The
   * same as {@link ServerLimits.maxReceiveMessageBytes}, which wins when both are given.
   * @defaultValue 4 MiB (grpc-js's `grpc.max_receive_message_length`)
   */
  readonly maxReceiveMessageBytes?: number;
  /**
   * Message sizes, the metadata budget, concurrent streams per connection, idle and age limits of connections and
   * keepalive enforcement; each one not given takes its default (see {@link ServerLimits}).
   */
  readonly limits?: ServerLimits;
  /**
   * OpenTelemetry: a server span per call and `rpc.server.call.duration` (every call, with the status its client saw),
   * exported over OTLP/HTTP and/or served to Prometheus; generated clients of this process then add client spans and
   * carry the trace on. The SDK is loaded only when this is given. Health and reflection calls are not traced nor
   * counted (load balancers poll them). Shutdown flushes the exporters (up to 2 s).
   */
  readonly telemetry?: TelemetryOptions;
  /**
   * Validation against the contract's `buf.validate` rules (protovalidate), read from
   * {@link ServerOptions.descriptorSet}: requests are validated by default when a set is given (stubs too), responses
   * only when asked. Only methods whose messages (or what they contain) have rules are validated; every rule is
   * compiled when the server starts. Without a descriptor set nothing is validated, and neither are services given
   * as hand-written definitions rather than ts-proto's (validation runs in the codec of methods served as bytes).
   * A request stream's message is validated as the handler reads it: a handler that catches errors around its
   * `for await` sees the INVALID_ARGUMENT and should let it through.
   * @defaultValue `{ requests: true, responses: false }`
   */
  readonly validation?: ValidationOptions;
}

/**
 * How long, at shutdown, a client that still sends on a call already answered has to read the status before its stream
 * is reset (see `createRequestStreamCloser`), in ms; at most half the drain time.
 */
const ANSWERED_STREAM_GRACE_MS = 1000;

/** How long shutdown waits, once the server stopped, for the calls it cancelled to be recorded. */
const RECORD_WAIT_MS = 2000;

/** A listening server. */
export interface RunningServer {
  /** The interface it listens on, as given. */
  readonly host: string;
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** `host:port`, with IPv6 hosts in brackets. */
  readonly address: string;
  /** Health state: `setStatus('unhealthy', 'pkg.Service')` flips what Check and Watch report. */
  readonly health: HealthState;
  /** The telemetry endpoints, when the server runs with {@link ServerOptions.telemetry}. */
  readonly telemetry?: RunningTelemetry;
  /** What the server's defences refused, closed or counted instead of storing, since it started. */
  defenceCounts(): DefenceCountsJson;
  /**
   * Stops accepting calls, reports NOT_SERVING and ends streaming calls with UNAVAILABLE: response streams
   * (server-streaming and bidi calls, health Watch) at once, request streams (client-streaming and bidi calls) at the
   * read their handler waits in or makes next (see `createTerminatorMiddleware`); a client that keeps sending after
   * the status has 1 s to read it before its stream is reset. Waits for the other in-flight calls (unary ones, and
   * client-streaming ones whose requests were all read) up to `timeoutMs`, then cancels the rest. Resolves
   * once every call that started was handed to {@link ServerOptions.recordCall} (after a forced stop, waiting up to 2 s
   * more for cancelled handlers to return; the ones still running are then recorded as CANCELLED), and, with
   * telemetry, once the exporters sent what they held (up to 2 s more).
   * @returns `'drained'` when every call finished in time, `'forced'` when some were cancelled.
   */
  shutdown(timeoutMs: number): Promise<'drained' | 'forced'>;
}

/**
 * Starts a nice-grpc server with the services, the error-mapping middleware, gRPC health and server reflection.
 * @throws ServiceHostError `grpc-js-unsupported` when the installed grpc-js lacks a hook a feature needs (see
 *   `grpc-js-patches.ts`); Error when the address cannot be bound (for example EADDRINUSE).
 * @example
 * const server = await startServer({ services: [defineService(GreeterDefinition, { sayHello })], host: '127.0.0.1', port: 0 });
 */
export async function startServer<ServiceContext = unknown>(options: ServerOptions<ServiceContext>): Promise<RunningServer> {
  // The limits grpc-js does not enforce, the closing of answered streams and the accounting are built on patches of
  // grpc-js's internals: without them the server does not start, rather than run without what it was asked for.
  requireGrpcJsServerPatches(patchGrpcJsServer(), [
    'metadata-budget',
    'keepalive-enforcement',
    'connection-defences',
    'request-stream-closing',
    ...(options.recordCall || options.telemetry ? (['call-accounting'] as const) : []),
  ]);
  // Only when certificates are accepted as callers does auth read the identity header; the interceptor that sets it
  // (and strips client-sent copies) costs tens of µs per call in grpc-js, so it is added only then.
  const limits = resolveServerLimits({
    ...(options.maxReceiveMessageBytes === undefined ? {} : { maxReceiveMessageBytes: options.maxReceiveMessageBytes }),
    ...options.limits,
  });
  const grpcOptions = {
    ...(options.auth?.mtls ? { interceptors: [createPeerIdentityInterceptor()] } : {}),
    ...grpcServerOptionsOf(limits),
  };
  const server = createServer(grpcOptions);
  // What the defences (connection guard, accounting, auth throttle) count instead of storing a row each.
  const defences = createDefenceCounters();
  // The connection defences, the metadata budget and keepalive enforcement, which grpc-js does not offer, on the
  // HTTP/2 servers it creates.
  const guard = createConnectionGuard(limits, defences);
  observeHttp2Servers(grpcOptions, {
    http2Options: http2ServerOptionsOf(limits),
    admit: (stream, headers, rawHeaders) => guard.onStream(stream, headers, rawHeaders),
    observe: (http2Server) => guardHttp2Server(http2Server, guard),
  });
  // grpc-timeout read per the gRPC spec before grpc-js reads it: malformed values answered INTERNAL, long ones enforced.
  observeHttp2Servers(grpcOptions, { admit: admitGrpcTimeout });
  // The failed-authentication throttle, shared by the auth stage and its early refusal at the HTTP/2 stream.
  const throttle =
    options.auth && options.auth.throttle !== false
      ? isAuthThrottle(options.auth.throttle)
        ? options.auth.throttle
        : createAuthThrottle(options.auth.throttle)
      : undefined;
  if (throttle)
    observeHttp2Servers(grpcOptions, { admit: createEarlyThrottle(throttle, defences, (address) => guard.penalise(address)) });
  // Calls with a request stream, of every service (reflection's too): their clients may keep sending after the status.
  const requestStreaming = new Set<string>();
  const closer = createRequestStreamCloser(requestStreaming);
  closer.observe(grpcOptions);
  const redact = options.loggingHooks?.redactCall;
  const terminating = new AbortController();
  const terminator = createTerminatorMiddleware(terminating.signal);
  // Strict decoding walks into sub-messages where the contract says a field is one: read once, from the descriptors,
  // only when a set is given (the module loads protobuf-es's descriptor code, as reflection does).
  const requestShapes = options.descriptorSet
    ? (await import('./request-wire-shapes.js')).readRequestWireShapes(options.descriptorSet)
    : undefined;
  // ts-proto definitions are served as bytes: the pipeline decodes and encodes (once), the logger counts the wire.
  const registrations = options.services.map((registration) => ({
    registration,
    shape: readServiceDefinition(registration.definition),
    wire: toWireDefinition(registration.definition, requestShapes),
  }));
  const serviceNames = registrations.flatMap(({ shape }) => shape.fullName ?? []);
  const codecs: MethodCodecs = new Map(registrations.flatMap(({ wire }) => (wire ? [...wire.codecs] : [])));
  // Planned and compiled before anything listens: a rule that does not compile stops the start, never a request.
  const validators = await methodValidatorsOf(options, codecs.keys());
  // Loaded only here: a server without telemetry never loads the OpenTelemetry SDK.
  const telemetry = options.telemetry
    ? await (
        await importOptional(telemetryFeatures(options.telemetry), () => import('../telemetry/start-telemetry.js'))
      ).startTelemetry(options.telemetry, () => defences.snapshot())
    : undefined;
  // What the accounting records: the log store's row (redacted) and the telemetry's duration (not redacted).
  const recordCall = options.recordCall;
  const sink =
    telemetry || recordCall
      ? (call: CallRecord) => {
          telemetry?.recordServerCall(call);
          if (isStoredCall(call)) recordCall?.(redact ? redact(call) : call);
        }
      : undefined;
  // Every call is accounted for from its HTTP/2 stream on, also the ones that never reach the logger.
  const logged = new Map<string, MethodOfPath>();
  const served = new Set<string>();
  let accounting: CallAccounting | undefined;
  if (sink) {
    for (const { shape } of registrations) {
      for (const method of shape.methods) {
        logged.set(method.path, splitMethodPath(method.path, callKindOf(method.requestStream, method.responseStream)));
      }
    }
    accounting = createCallAccounting({ record: sink, logged, served, defences });
    accounting.observe(grpcOptions);
  }
  const pipeline = createPipeline<ServiceContext>({
    terminate: terminating.signal,
    codecs,
    // Absent only when ServiceContextOption let it be, that is when undefined is a ServiceContext.
    serviceContext: options.serviceContext as ServiceContext,
    ...(sink ? { logger: { record: sink, ...(accounting ? { tracker: accounting } : {}) } } : {}),
    ...(telemetry ? { telemetry: telemetry.middleware } : {}),
    ...(options.auth
      ? { auth: { ...withAuthHooks(options.auth, options.authHooks), defences, ...(throttle ? { throttle } : {}) } }
      : {}),
    ...(options.middleware ? { middleware: options.middleware } : {}),
    ...(validators ? { validators } : {}),
    errors: {
      ...(options.onUnexpectedError ? { onUnexpectedError: options.onUnexpectedError } : {}),
      ...(options.errors?.debugInfo === undefined ? {} : { debugInfo: options.errors.debugInfo }),
    },
  });
  const add = (
    target: { add(definition: CompatServiceDefinition, implementation: never): void },
    definition: CompatServiceDefinition,
    implementation: unknown,
  ) => {
    for (const method of readServiceDefinition(definition).methods) {
      served.add(method.path);
      if (method.requestStream) requestStreaming.add(method.path);
    }
    target.add(definition, implementation as never);
  };
  // Health and reflection bypass the pipeline (always public, not logged: load balancers poll them); only the
  // terminator wraps them.
  const withPipeline = server.with(pipeline);
  for (const { registration, wire } of registrations) {
    add(withPipeline, wire?.definition ?? registration.definition, registration.implementation);
  }
  const health = HealthState();
  if (options.health ?? true) {
    for (const name of serviceNames) health.setStatus('healthy', name);
    // Watch streams too end on shutdown, right after they reported NOT_SERVING.
    add(server.with(terminator), HealthDefinition, HealthServiceImpl(health));
  }
  if ((options.reflection ?? true) && options.descriptorSet) {
    // Loaded only here: reflection pulls in nice-grpc-server-reflection and protobuf-es's descriptors (~100 ms), which
    // stubs and generated clients, importing this module, do not need.
    const { createReflectionServices } = await import('./reflection.js');
    for (const reflection of createReflectionServices(options.descriptorSet, serviceNames, { health: options.health ?? true })) {
      add(server.with(terminator), reflection.definition, reflection.implementation);
    }
  }
  const port = await server.listen(hostPort(options.host, options.port), options.credentials).catch(async (error: unknown) => {
    await telemetry?.shutdown(0);
    throw error;
  });
  return {
    host: options.host,
    port,
    address: hostPort(options.host, port),
    health,
    defenceCounts: () => defences.snapshot(),
    ...(telemetry ? { telemetry: { prometheusAddress: telemetry.prometheusAddress } } : {}),
    async shutdown(timeoutMs) {
      health.setStatus('unhealthy');
      for (const name of serviceNames) health.setStatus('unhealthy', name);
      // Streaming calls end now (UNAVAILABLE), once health Watch streams had a turn to send NOT_SERVING: response
      // streams at once, request streams at the read their handler waits in or makes next. Unary calls, and
      // client-streaming calls whose requests were all read, get the drain time.
      await new Promise((resolve) => setTimeout(resolve, 0));
      closer.closeAnswered(Math.min(ANSWERED_STREAM_GRACE_MS, timeoutMs / 2));
      terminating.abort();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'forced'>((resolve) => {
        timer = setTimeout(() => resolve('forced'), timeoutMs);
      });
      const outcome = await Promise.race([server.shutdown().then(() => 'drained' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'forced') server.forceShutdown();
      // The handlers of cancelled calls return asynchronously; the log store closes after this resolves.
      await accounting?.waitUntilRecorded(RECORD_WAIT_MS);
      // Every call is recorded, so every span ended: send the last spans and metrics.
      await telemetry?.shutdown(TELEMETRY_FLUSH_TIMEOUT_MS);
      return outcome;
    },
  };
}

/**
 * The validation of the served methods that have rules, or undefined when nothing is to be validated. protovalidate
 * (and its CEL and RE2 engines) is loaded only when a descriptor set is given and validation is on.
 * @throws ValidationRulesError when a rule does not compile.
 */
async function methodValidatorsOf(
  options: Pick<ServerBaseOptions, 'descriptorSet' | 'validation'>,
  paths: Iterable<string>,
): Promise<MethodValidators | undefined> {
  // A contract without rules loads neither protovalidate nor reads the set again.
  const scope = validationScopeOf(options.descriptorSet, options.validation);
  if (!scope || !options.descriptorSet) return undefined;
  const { createMethodValidators } = await import('../validation/method-validators.js');
  const validators = createMethodValidators(options.descriptorSet, paths, scope);
  return validators.size > 0 ? validators : undefined;
}

/**
 * The auth options with the service's hooks: a hook in `hooks` wins over one already in `auth`; the authenticators of
 * both are consulted, those of `auth` first.
 */
function withAuthHooks<ServiceContext>(
  auth: AuthOptions<ServiceContext>,
  hooks: AuthHooks<ServiceContext> | undefined,
): AuthOptions<ServiceContext> {
  if (!hooks) return auth;
  const resolvePrincipal = hooks.resolvePrincipal ?? auth.resolvePrincipal;
  const enrichPrincipal = hooks.enrichPrincipal ?? auth.enrichPrincipal;
  const authenticators = [...(auth.authenticators ?? []), ...(hooks.authenticators ?? [])];
  return {
    ...auth,
    ...(resolvePrincipal ? { resolvePrincipal } : {}),
    ...(enrichPrincipal ? { enrichPrincipal } : {}),
    ...(authenticators.length > 0 ? { authenticators } : {}),
  };
}
