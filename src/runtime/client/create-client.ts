import {
  ChannelCredentials,
  createChannel,
  createClientFactory,
  type Channel,
  type ChannelOptions,
  type Client,
  type CompatServiceDefinition,
} from 'nice-grpc';
import { deadlineMiddleware, type DeadlineOptions } from 'nice-grpc-client-middleware-deadline';
import { expandTarget } from './target.js';

/** Call options every generated client accepts per call: `{ deadline: 500 }` (ms) or an absolute `Date`, `signal`, `metadata`. */
export type ClientCallOptions = DeadlineOptions;

/** Options of {@link createServiceClient}; generated `create<Service>Client` functions fill defaults from `grpcforge.yaml`. */
export interface ServiceClientOptions {
  /**
   * gRPC target: `host:port`, `dns:///host:port` (every address, round-robin), `unix:///path`. `${VAR:-default}`
   * references are expanded from the environment when the client is created.
   */
  readonly target: string;
  /** Channel credentials. @defaultValue insecure (plaintext) */
  readonly credentials?: ChannelCredentials;
  /** Deadline of each call in ms unless the call sets its own `deadline`. @defaultValue none */
  readonly deadlineMs?: number;
  /** Extra grpc-js channel options, merged over grpcforge's (round-robin load balancing). */
  readonly channelOptions?: ChannelOptions;
  /** Use this channel instead of creating one (then `target`, `credentials` and `channelOptions` are ignored). */
  readonly channel?: Channel;
}

const channels = new WeakMap<object, Channel>();

/** Load balancing across every address a `dns:///` name resolves to (gRPC service config, `loadBalancingConfig`). */
const ROUND_ROBIN = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

/**
 * Creates a typed nice-grpc client for a service definition, with a default deadline.
 * @throws Error when the target references an unset environment variable without a default.
 * @example const client = createServiceClient(AuthServiceDefinition, { target: '127.0.0.1:50051', deadlineMs: 2000 });
 */
export function createServiceClient<Definition extends CompatServiceDefinition>(
  definition: Definition,
  options: ServiceClientOptions,
): Client<Definition, ClientCallOptions> {
  const channel =
    options.channel ??
    createChannel(expandTarget(options.target), options.credentials ?? ChannelCredentials.createInsecure(), {
      'grpc.service_config': ROUND_ROBIN,
      ...options.channelOptions,
    });
  const factory = createClientFactory().use(deadlineMiddleware);
  const defaults = options.deadlineMs === undefined ? {} : { '*': { deadline: options.deadlineMs } };
  const client = factory.create(definition, channel, defaults as never);
  if (!options.channel) channels.set(client, channel);
  return client;
}

/** Closes the channel a client created (a no-op for clients given their own `channel`). */
export function closeServiceClient(client: object): void {
  channels.get(client)?.close();
  channels.delete(client);
}
