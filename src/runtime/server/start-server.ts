import { createServer } from 'nice-grpc';
import { HealthDefinition, HealthServiceImpl, HealthState } from 'nice-grpc-server-health';
import type { ServerCredentials } from '@grpc/grpc-js';
import type { ErrorMappingOptions } from '../middleware/error-mapping.js';
import type { AuthOptions } from '../middleware/auth.js';
import type { LoggedCall } from '../middleware/request-logger.js';
import { createTerminatorMiddleware } from '../middleware/terminator.js';
import { createPipeline } from './pipeline.js';
import type { AuthHooks, LoggingHooks } from './service-hooks.js';
import { createPeerIdentityInterceptor } from '../auth/mtls.js';
import { definitionFullName, type ServiceRegistration } from './service-registration.js';
import { toWireDefinition, type MethodCodecs } from './wire-codec.js';

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
   * FileDescriptorSet (protobuf binary) covering the served services and their imports. Required for reflection.
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
  /** Authenticate callers and enforce the per-method policy; no auth stage when omitted. */
  readonly auth?: AuthOptions<ServiceContext>;
  /** The service's own auth hooks (its `src/middleware/auth.ts`); they apply when {@link ServerOptions.auth} is set. */
  readonly authHooks?: AuthHooks<ServiceContext>;
  /** Record every call (the log store's `record`); no logger stage when omitted. */
  readonly recordCall?: (call: LoggedCall) => void;
  /** The service's own request-log hooks (its `src/middleware/logging.ts`). */
  readonly loggingHooks?: LoggingHooks;
}

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
  /**
   * Stops accepting calls, reports NOT_SERVING, ends response streams (server-streaming and bidi calls, health
   * Watch) with UNAVAILABLE, waits for the other in-flight calls up to `timeoutMs`, then cancels the rest.
   * @returns `'drained'` when every call finished in time, `'forced'` when some were cancelled.
   */
  shutdown(timeoutMs: number): Promise<'drained' | 'forced'>;
}

/**
 * Starts a nice-grpc server with the services, the error-mapping middleware, gRPC health and server reflection.
 * @throws Error when the address cannot be bound (for example EADDRINUSE).
 * @example
 * const server = await startServer({ services: [defineService(GreeterDefinition, { sayHello })], host: '127.0.0.1', port: 0 });
 */
export async function startServer<ServiceContext = unknown>(options: ServerOptions<ServiceContext>): Promise<RunningServer> {
  // Only when certificates are accepted as callers does auth read the identity header; the interceptor that sets it
  // (and strips client-sent copies) costs tens of µs per call in grpc-js, so it is added only then.
  const server = createServer(options.auth?.mtls ? { interceptors: [createPeerIdentityInterceptor()] } : {});
  const redact = options.loggingHooks?.redactCall;
  const terminating = new AbortController();
  const terminator = createTerminatorMiddleware(terminating.signal);
  // ts-proto definitions are served as bytes: the pipeline decodes and encodes (once), the logger counts the wire.
  const registrations = options.services.map((registration) => ({
    registration,
    wire: toWireDefinition(registration.definition),
  }));
  const codecs: MethodCodecs = new Map(registrations.flatMap(({ wire }) => (wire ? [...wire.codecs] : [])));
  const pipeline = createPipeline<ServiceContext>({
    terminate: terminating.signal,
    codecs,
    // Absent only when ServiceContextOption let it be, that is when undefined is a ServiceContext.
    serviceContext: options.serviceContext as ServiceContext,
    ...(options.recordCall ? { logger: { record: options.recordCall, ...(redact ? { redact } : {}) } } : {}),
    ...(options.auth ? { auth: withAuthHooks(options.auth, options.authHooks) } : {}),
    errors: options.onUnexpectedError ? { onUnexpectedError: options.onUnexpectedError } : {},
  });
  // Health and reflection bypass the pipeline (always public, not logged: load balancers poll them); only the
  // terminator wraps them.
  const withPipeline = server.with(pipeline);
  const serviceNames: string[] = [];
  for (const { registration, wire } of registrations) {
    withPipeline.add(wire?.definition ?? registration.definition, registration.implementation);
    const fullName = definitionFullName(registration.definition);
    if (fullName) serviceNames.push(fullName);
  }
  const health = HealthState();
  if (options.health ?? true) {
    for (const name of serviceNames) health.setStatus('healthy', name);
    // Watch streams too end on shutdown, right after they reported NOT_SERVING.
    server.with(terminator).add(HealthDefinition, HealthServiceImpl(health));
  }
  if ((options.reflection ?? true) && options.descriptorSet) {
    // Loaded only here: reflection pulls in nice-grpc-server-reflection and protobuf-es's descriptors (~100 ms), which
    // stubs and generated clients, importing this module, do not need.
    const { createReflectionServices } = await import('./reflection.js');
    for (const reflection of createReflectionServices(options.descriptorSet, serviceNames, { health: options.health ?? true })) {
      server.with(terminator).add(reflection.definition, reflection.implementation);
    }
  }
  const hostForListen = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = await server.listen(`${hostForListen}:${options.port}`, options.credentials);
  return {
    host: options.host,
    port,
    address: `${hostForListen}:${port}`,
    health,
    async shutdown(timeoutMs) {
      health.setStatus('unhealthy');
      for (const name of serviceNames) health.setStatus('unhealthy', name);
      // Response streams end now (UNAVAILABLE), once health Watch streams had a turn to send NOT_SERVING; unary and
      // client-streaming calls get the drain time.
      await new Promise((resolve) => setTimeout(resolve, 0));
      terminating.abort();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'forced'>((resolve) => {
        timer = setTimeout(() => resolve('forced'), timeoutMs);
      });
      const outcome = await Promise.race([server.shutdown().then(() => 'drained' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'forced') server.forceShutdown();
      return outcome;
    },
  };
}

/** The auth options with the service's hooks; a hook in `hooks` wins over one already in `auth`. */
function withAuthHooks<ServiceContext>(
  auth: AuthOptions<ServiceContext>,
  hooks: AuthHooks<ServiceContext> | undefined,
): AuthOptions<ServiceContext> {
  if (!hooks) return auth;
  const resolvePrincipal = hooks.resolvePrincipal ?? auth.resolvePrincipal;
  const enrichPrincipal = hooks.enrichPrincipal ?? auth.enrichPrincipal;
  return { ...auth, ...(resolvePrincipal ? { resolvePrincipal } : {}), ...(enrichPrincipal ? { enrichPrincipal } : {}) };
}
