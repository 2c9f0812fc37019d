import {
  create,
  createFileRegistry,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMethod,
  type FileRegistry,
  type JsonValue,
} from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { ChannelCredentials, Metadata } from 'nice-grpc';
import { closeServiceClient, createServiceClient } from '@grpcforge/runtime';
import { UserError } from '../util/errors.js';
import { resolveMethodName, type ServiceMethods } from './method-names.js';

/** The four RPC kinds, from a method's descriptor. */
export type DynamicMethodKind = 'unary' | 'serverStreaming' | 'clientStreaming' | 'bidiStreaming';

/** A method found in descriptors, with the registry its messages resolve in (for Any and imports). */
export interface ResolvedDynamicMethod {
  readonly method: DescMethod;
  readonly registry: FileRegistry;
  readonly kind: DynamicMethodKind;
  /** `/pkg.Service/Method`. */
  readonly path: string;
}

const KINDS: Record<DescMethod['methodKind'], DynamicMethodKind> = {
  unary: 'unary',
  server_streaming: 'serverStreaming',
  client_streaming: 'clientStreaming',
  bidi_streaming: 'bidiStreaming',
};

/** A registry from FileDescriptorProtos (binary) in any order, as reflection returns them. */
export function registryFromFiles(files: readonly Uint8Array[]): FileRegistry {
  const protos = files.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
  const byName = new Map(protos.map((proto) => [proto.name, proto]));
  // The registry wants every file after its imports.
  const ordered: typeof protos = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    const proto = byName.get(name);
    if (!proto || seen.has(name)) return;
    seen.add(name);
    proto.dependency.forEach(visit);
    ordered.push(proto);
  };
  protos.forEach((proto) => visit(proto.name));
  return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
}

/** A registry from a FileDescriptorSet (binary), as `buf build` writes it. */
export function registryFromSet(set: Uint8Array): FileRegistry {
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, set));
}

/** The services of a registry and their method names, for {@link resolveMethodName}. */
export function servicesOfRegistry(registry: FileRegistry): ServiceMethods[] {
  const services: ServiceMethods[] = [];
  for (const type of registry) {
    if (type.kind === 'service') services.push({ service: type.typeName, methods: type.methods.map((method) => method.name) });
  }
  return services.sort((a, b) => a.service.localeCompare(b.service));
}

/**
 * Finds `pkg.Service/Method` in a registry.
 * @param where where the services are, for messages (see {@link resolveMethodName}).
 * @throws UserError `unknown-method` for a name that is not exactly `pkg.Service/Method` of the registry, with a
 * did-you-mean hint when one is close.
 */
export function resolveDynamicMethod(registry: FileRegistry, target: string, where = 'on the server'): ResolvedDynamicMethod {
  const { service: serviceName, method: methodName, path } = resolveMethodName(target, servicesOfRegistry(registry), where);
  const method = registry.getService(serviceName)!.methods.find((candidate) => candidate.name === methodName)!;
  return { method, registry, kind: KINDS[method.methodKind], path };
}

/** Options of {@link invokeDynamic}. */
export interface InvokeOptions {
  readonly address: string;
  readonly credentials: ChannelCredentials;
  readonly metadata: Metadata;
  /**
   * Request messages in proto JSON; unary and server-streaming use the first (or `{}`). An async iterable (for client
   * and bidi streaming: `grpcforge call -d -` reading stdin) is sent message by message as it yields, and the request
   * stream is half-closed when it ends; an array is checked whole before anything is sent.
   */
  readonly requests: readonly JsonValue[] | AsyncIterable<JsonValue>;
  /** Called with each response in proto JSON, as it arrives. */
  readonly onResponse: (response: JsonValue) => void;
  /** @defaultValue none */
  readonly deadlineMs?: number;
  /** Called with the response headers, when the server sends them (nice-grpc's `onHeader`). */
  readonly onHeader?: (header: Metadata) => void;
  /** Called with the trailers, on success and on error (nice-grpc's `onTrailer`). */
  readonly onTrailer?: (trailer: Metadata) => void;
  /** Aborting it cancels the call (the promise rejects with an `AbortError`). */
  readonly signal?: AbortSignal;
  /** grpc-js channel options (`grpc.ssl_target_name_override` for `--servername`). @defaultValue none */
  readonly channelOptions?: Readonly<Record<string, string | number>>;
}

/**
 * Calls a method of any kind from its descriptor: JSON requests are checked and encoded first (a bad field is a
 * UserError before anything is sent; for an iterable of requests, before that request is sent, and the call is
 * cancelled), responses are decoded to proto JSON.
 * @throws UserError `bad-request` for JSON that does not fit the request type, or what the request iterable throws;
 *   ClientError for RPC failures.
 */
export async function invokeDynamic(resolved: ResolvedDynamicMethod, options: InvokeOptions): Promise<void> {
  const { method, registry } = resolved;
  const encode = (json: JsonValue, index: number) => {
    try {
      return toBinary(method.input, fromJson(method.input, json, { registry }));
    } catch (error) {
      throw new UserError(
        'bad-request',
        `request ${index + 1} does not fit ${method.input.typeName}: ${(error as Error).message}`,
      );
    }
  };
  const streamingRequest = resolved.kind === 'clientStreaming' || resolved.kind === 'bidiStreaming';
  const requests = options.requests;
  let encoded: Uint8Array[] | AsyncIterable<Uint8Array>;
  if (Symbol.asyncIterator in requests) {
    encoded = (async function* () {
      let index = 0;
      for await (const json of requests) yield encode(json, index++);
    })();
    if (!streamingRequest) {
      const first = await encoded[Symbol.asyncIterator]().next();
      encoded = [first.done ? encode({}, 0) : first.value];
    }
  } else {
    encoded = (requests.length > 0 ? requests : [{}]).map(encode);
  }
  const streamingResponse = resolved.kind === 'serverStreaming' || resolved.kind === 'bidiStreaming';
  const definition = {
    call: {
      path: resolved.path,
      requestStream: streamingRequest,
      responseStream: streamingResponse,
      requestSerialize: (bytes: Uint8Array) => Buffer.from(bytes),
      requestDeserialize: (bytes: Buffer) => new Uint8Array(bytes),
      responseSerialize: (bytes: Uint8Array) => Buffer.from(bytes),
      responseDeserialize: (bytes: Buffer) => new Uint8Array(bytes),
      options: {},
    },
  } as const;
  // The runtime's client: its deadline middleware turns an expired deadline into DEADLINE_EXCEEDED. No retries: a
  // person at the keyboard decides whether to call again.
  const client = createServiceClient(definition, {
    target: options.address,
    credentials: options.credentials,
    retry: false,
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    ...(options.channelOptions ? { channelOptions: options.channelOptions } : {}),
  }) as unknown as { call(request: unknown, options: object): Promise<Uint8Array> | AsyncIterable<Uint8Array> };
  const callOptions = {
    metadata: options.metadata,
    ...(options.onHeader ? { onHeader: options.onHeader } : {}),
    ...(options.onTrailer ? { onTrailer: options.onTrailer } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const decode = (bytes: Uint8Array) => toJson(method.output, fromBinary(method.output, bytes), { registry });
  const request = streamingRequest
    ? (async function* () {
        yield* encoded;
      })()
    : (encoded as Uint8Array[])[0];
  try {
    const result = client.call(request, callOptions);
    if (streamingResponse) for await (const bytes of result as AsyncIterable<Uint8Array>) options.onResponse(decode(bytes));
    else options.onResponse(decode(await (result as Promise<Uint8Array>)));
  } finally {
    closeServiceClient(client);
  }
}
