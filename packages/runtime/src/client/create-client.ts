import {
  ChannelCredentials,
  createChannel,
  createClientFactory,
  type Channel,
  type ChannelOptions,
  type Client,
  type CompatServiceDefinition,
} from 'nice-grpc';
import { readFileSync } from 'node:fs';
import { deadlineMiddleware, type DeadlineOptions } from 'nice-grpc-client-middleware-deadline';
import { retryMiddleware, type RetryOptions } from 'nice-grpc-client-middleware-retry';
import { readServiceDefinition } from '../server/service-definition.js';
import { clientFilePath, describeClientFileBase } from './file-base.js';
import { createTlsChannelCredentials } from './tls-credentials.js';
import { Metadata, Status, type ClientMiddleware } from 'nice-grpc-common';
import { createErrorDetailsClientMiddleware } from '../error-details/client-middleware.js';
import { clientTelemetryMiddleware } from '../telemetry/client-hook.js';
import { describeEnvValue, resolveEnvValue, type EnvValue } from './env.js';

/**
 * Call options every generated client accepts per call, besides `signal` and `metadata`: `deadline` (ms from now, or a
 * `Date`) and the retry settings (`retry`, `retryMaxAttempts`, ...).
 */
export type ClientCallOptions = DeadlineOptions & RetryOptions;

/** Retries of unary calls the contract marks `IDEMPOTENT` or `NO_SIDE_EFFECTS` (never others), with backoff. */
export interface ClientRetryOptions {
  /** Attempts in all, the first included. @defaultValue 3 */
  readonly maxAttempts?: number;
  /** First backoff in ms, doubled each time, with jitter. @defaultValue 100 */
  readonly baseDelayMs?: number;
  /** Longest backoff in ms. @defaultValue 2000 */
  readonly maxDelayMs?: number;
}

/**
 * Credentials attached to every call as metadata (a call's own metadata wins). One read from a variable that is unset
 * or empty (grpcforge.yaml's `apiKeyEnv` / `bearerTokenEnv`) is not sent, and a warning naming the variable and the
 * service goes to stderr, once per process for each variable and service.
 */
export interface ClientCredentialsOptions {
  /** Sent as `x-api-key`; not sent when it resolves to nothing (an unset variable without default). */
  readonly apiKey?: string | EnvValue;
  /** Sent as `authorization: Bearer <token>`; not sent when it resolves to nothing. */
  readonly bearerToken?: string | EnvValue;
}

/**
 * TLS of the channel: PEM contents or file paths. Relative paths resolve against the workspace root when a service
 * host runs in this process (`grpcforge serve`, a built service's main.js), else against the current folder.
 */
export interface ClientTlsOptions {
  /** CA that signed the server's certificate. @defaultValue the system's roots */
  readonly ca?: string | Buffer;
  /** Client certificate and key, for mTLS. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

/** Status codes that are retried: the call may not have reached the handler, or failed before changing anything. */
const RETRYABLE = [
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.RESOURCE_EXHAUSTED,
  Status.ABORTED,
  Status.INTERNAL,
  Status.UNKNOWN,
];

/** Options of {@link createServiceClient}; generated `create<Service>Client` functions fill defaults from `grpcforge.yaml`. */
export interface ServiceClientOptions {
  /**
   * gRPC target: `host:port`, `dns:///host:port` (every address, round-robin), `unix:///path`; or
   * {@link fromEnv}`('AUTH_ADDR', 'dns:///…')`, read from the environment when the client is created.
   */
  readonly target: string | EnvValue;
  /** Channel credentials. @defaultValue insecure (plaintext) */
  readonly credentials?: ChannelCredentials;
  /** Deadline of each call in ms unless the call sets its own `deadline`. @defaultValue none */
  readonly deadlineMs?: number;
  /** Extra grpc-js channel options, merged over grpcforge's (round-robin load balancing). */
  readonly channelOptions?: ChannelOptions;
  /** Use this channel instead of creating one (then `target`, `credentials`, `tls` and `channelOptions` are ignored). */
  readonly channel?: Channel;
  /** TLS or mTLS from PEM files or contents; ignored when `credentials` is given. */
  readonly tls?: ClientTlsOptions;
  /** Metadata credentials attached to every call. */
  readonly callCredentials?: ClientCredentialsOptions;
  /** Retry policy; `false` turns retries off. @defaultValue 3 attempts, 100 ms base, 2 s cap */
  readonly retry?: ClientRetryOptions | false;
  /** Deadlines per method key (`validateToken`), in ms, over {@link ServiceClientOptions.deadlineMs}. */
  readonly methodDeadlinesMs?: Readonly<Record<string, number>>;
}

const channels = new WeakMap<object, Channel>();

/** Load balancing across every address a `dns:///` name resolves to (gRPC service config, `loadBalancingConfig`). */
const ROUND_ROBIN = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

/**
 * Creates a typed nice-grpc client for a service definition: a default deadline (per method if given), retries with
 * backoff for unary methods the contract marks IDEMPOTENT or NO_SIDE_EFFECTS, credentials on every call, TLS/mTLS,
 * and, once a server of this process runs with `telemetry`, a client span and `rpc.client.call.duration` per call
 * with the W3C trace context (`traceparent`, `tracestate`) in its metadata.
 * Errors are nice-grpc `ClientError`s carrying the method path and the status code; a status that came with
 * `grpc-status-details-bin` is a `RichClientError` with the decoded `errorDetails`.
 * @throws Error when the target references an unset environment variable without a default, or a TLS file is missing.
 * @example const client = createServiceClient(AuthServiceDefinition, { target: '127.0.0.1:50051', deadlineMs: 2000 });
 */
export function createServiceClient<Definition extends CompatServiceDefinition>(
  definition: Definition,
  options: ServiceClientOptions,
): Client<Definition, ClientCallOptions> {
  const channel =
    options.channel ??
    createChannel(resolveTarget(options.target), options.credentials ?? channelCredentials(options.tls), {
      'grpc.service_config': ROUND_ROBIN,
      ...options.channelOptions,
    });
  // Outermost last: credentials, then the deadline (it spans every attempt), then retries, then error details.
  // Error details innermost: each attempt's error is read with that attempt's trailer, so a call that ends otherwise
  // (the deadline, after an attempt that had details) never carries an earlier attempt's details.
  let factory = createClientFactory().use(createErrorDetailsClientMiddleware()).use(retryMiddleware).use(deadlineMiddleware);
  const callCredentials = expandCredentials(options.callCredentials, serviceNameOf(definition));
  if (callCredentials) factory = factory.use(createCallCredentialsMiddleware(callCredentials));
  // Outermost: one client span per call (retries included), a pass-through while no server of the process traces.
  factory = factory.use(clientTelemetryMiddleware);
  const retry =
    options.retry === false
      ? { retry: false }
      : {
          // nice-grpc's retryMaxAttempts counts the retries, not the first attempt.
          retryMaxAttempts: Math.max(0, (options.retry?.maxAttempts ?? 3) - 1),
          retryBaseDelayMs: options.retry?.baseDelayMs ?? 100,
          retryMaxDelayMs: options.retry?.maxDelayMs ?? 2000,
          retryableStatuses: RETRYABLE,
        };
  const deadline = (ms: number | undefined) => (ms === undefined ? {} : { deadline: ms });
  const defaults: Record<string, object> = { '*': { ...retry, ...deadline(options.deadlineMs) } };
  for (const [method, ms] of Object.entries(options.methodDeadlinesMs ?? {})) defaults[method] = { ...retry, deadline: ms };
  const client = factory.create(definition, channel, defaults);
  if (!options.channel) channels.set(client, channel);
  return client;
}

function resolveTarget(target: string | EnvValue): string {
  const resolved = resolveEnvValue(target);
  if (!resolved) throw new Error(`client target ${describeEnvValue(target)} is not set and has no default`);
  return resolved;
}

/** `variable service header` of the warnings already written: each is written once per process. */
const warned = new Set<string>();

/**
 * A credential as a plain string. One that resolves to nothing is not sent; when it was to come from a variable,
 * stderr says so once (a client created per request does not repeat it).
 */
function resolveCredential(value: string | EnvValue | undefined, service: string, header: string): string | undefined {
  if (value === undefined) return undefined;
  const resolved = resolveEnvValue(value);
  if (!resolved && typeof value === 'object' && 'env' in value) {
    const key = `${value.env} ${service} ${header}`;
    if (!warned.has(key)) {
      warned.add(key);
      process.stderr.write(
        `grpcforge client: $${value.env} is unset or empty, so calls to ${service} carry no ${header} ` +
          `(set it, or remove the credential from this service's consumes entry in grpcforge.yaml)\n`,
      );
    }
  }
  return resolved || undefined;
}

/** Credentials as plain strings; one that resolves to nothing is not sent. */
function expandCredentials(
  credentials: ClientCredentialsOptions | undefined,
  service: string,
): { apiKey?: string; bearerToken?: string } | undefined {
  if (!credentials) return undefined;
  const apiKey = resolveCredential(credentials.apiKey, service, 'x-api-key');
  const bearerToken = resolveCredential(credentials.bearerToken, service, 'authorization: Bearer token');
  if (!apiKey && !bearerToken) return undefined;
  return { ...(apiKey ? { apiKey } : {}), ...(bearerToken ? { bearerToken } : {}) };
}

/**
 * The fully-qualified name of the service a definition describes: ts-proto's `fullName`, else the service part of a
 * method path (grpc-js definitions), else `the service`.
 */
function serviceNameOf(definition: CompatServiceDefinition): string {
  return readServiceDefinition(definition).serviceName ?? 'the service';
}

function channelCredentials(tls: ClientTlsOptions | undefined): ChannelCredentials {
  if (!tls) return ChannelCredentials.createInsecure();
  const pem = (value: string | Buffer | undefined) => {
    if (value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    if (value.includes('-----BEGIN')) return Buffer.from(value);
    try {
      return readFileSync(clientFilePath(value));
    } catch (error) {
      throw new Error(`client TLS: cannot read "${value}" (paths are ${describeClientFileBase()}): ${(error as Error).message}`);
    }
  };
  const key = pem(tls.key);
  const cert = pem(tls.cert);
  if ((key === null) !== (cert === null)) throw new Error('client TLS: give both cert and key for mTLS, or neither');
  // No SNI for an IP address (a target such as dns:///127.0.0.1:50051): no DEP0123 on stderr.
  return createTlsChannelCredentials(pem(tls.ca), key, cert);
}

/** Client middleware that adds `x-api-key` and `authorization` metadata unless the call sets them itself. */
function createCallCredentialsMiddleware(credentials: { apiKey?: string; bearerToken?: string }): ClientMiddleware {
  return async function* callCredentials(call, options) {
    const metadata = Metadata(options.metadata);
    if (credentials.apiKey && !metadata.has('x-api-key')) metadata.set('x-api-key', credentials.apiKey);
    if (credentials.bearerToken && !metadata.has('authorization'))
      metadata.set('authorization', `Bearer ${credentials.bearerToken}`);
    return yield* call.next(call.request, { ...options, metadata });
  };
}

/** Closes the channel a client created (a no-op for clients given their own `channel`). */
export function closeServiceClient(client: object): void {
  channels.get(client)?.close();
  channels.delete(client);
}
