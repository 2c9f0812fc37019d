import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ClientError, Status, createChannel, createClient, type ChannelCredentials, type Metadata } from 'nice-grpc';
import { UserError } from '../util/errors.js';

/**
 * A minimal client of gRPC server reflection (grpc/grpc-proto `reflection/v1/reflection.proto`, wire-identical to
 * v1alpha). Only the requests grpcforge needs are encoded: `list_services` (field 7), `file_containing_symbol`
 * (field 4) and `file_by_filename` (field 3); the response's `file_descriptor_response` (4), `list_services_response`
 * (6) and `error_response` (7) are decoded.
 */

interface ReflectionResponse {
  readonly files: Uint8Array[];
  readonly services: string[];
  readonly error?: { code: number; message: string };
}

function encodeRequest(field: 3 | 4 | 7, value: string): Uint8Array {
  return new BinaryWriter().tag(field, WireType.LengthDelimited).string(value).finish();
}

function decodeResponse(bytes: Uint8Array): ReflectionResponse {
  const reader = new BinaryReader(bytes);
  const response: { files: Uint8Array[]; services: string[]; error?: { code: number; message: string } } = {
    files: [],
    services: [],
  };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 4 || field === 6 || field === 7) {
      const inner = new BinaryReader(reader.bytes());
      const error = { code: 0, message: '' };
      while (inner.pos < inner.len) {
        const [innerField, innerType] = inner.tag();
        if (field === 4 && innerField === 1) response.files.push(inner.bytes());
        else if (field === 6 && innerField === 1) {
          const service = new BinaryReader(inner.bytes());
          while (service.pos < service.len) {
            const [serviceField, serviceType] = service.tag();
            if (serviceField === 1) response.services.push(service.string());
            else service.skip(serviceType);
          }
        } else if (field === 7 && innerField === 1) error.code = inner.int32();
        else if (field === 7 && innerField === 2) error.message = inner.string();
        else inner.skip(innerType);
      }
      if (field === 7) response.error = error;
    } else reader.skip(wireType);
  }
  return response;
}

const identity = (value: Uint8Array) => Buffer.from(value);

function reflectionDefinition(version: 'v1' | 'v1alpha') {
  return {
    serverReflectionInfo: {
      path: `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      requestStream: true,
      responseStream: true,
      requestSerialize: identity,
      requestDeserialize: (bytes: Buffer) => new Uint8Array(bytes),
      responseSerialize: identity,
      responseDeserialize: (bytes: Buffer) => new Uint8Array(bytes),
      options: {},
    },
  } as const;
}

/** Options of {@link createReflectionClient}. */
export interface ReflectionClientOptions {
  readonly credentials: ChannelCredentials;
  readonly metadata?: Metadata;
  /** Give up after this many ms. @defaultValue 10000 */
  readonly timeoutMs?: number;
  /** grpc-js channel options (`grpc.ssl_target_name_override` for `--servername`). @defaultValue none */
  readonly channelOptions?: Readonly<Record<string, string | number>>;
}

/** What the server's reflection service tells. */
export interface ReflectionClient {
  /** Fully-qualified names of the services the server lists. */
  listServices(): Promise<string[]>;
  /**
   * Every FileDescriptorProto (binary) needed for a symbol: its file and, transitively, that file's imports.
   * @throws UserError `reflection-failed` when the server answers with an error (for example an unknown symbol).
   */
  filesForSymbol(symbol: string): Promise<Uint8Array[]>;
  close(): void;
}

/**
 * Connects to a server's reflection service, v1 first and v1alpha when the server only has that.
 * @throws ClientError UNIMPLEMENTED when the server has no reflection at all.
 */
export function createReflectionClient(address: string, options: ReflectionClientOptions): ReflectionClient {
  const channel = createChannel(address, options.credentials, { ...options.channelOptions });
  let version: 'v1' | 'v1alpha' = 'v1';
  const ask = async (requests: Uint8Array[]): Promise<ReflectionResponse[]> => {
    for (;;) {
      const client = createClient(reflectionDefinition(version), channel);
      try {
        const responses: ReflectionResponse[] = [];
        const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
        const stream = client.serverReflectionInfo(
          (async function* () {
            yield* requests;
          })(),
          { ...(options.metadata ? { metadata: options.metadata } : {}), signal },
        );
        for await (const bytes of stream) responses.push(decodeResponse(bytes));
        return responses;
      } catch (error) {
        if (version === 'v1' && error instanceof ClientError && error.code === Status.UNIMPLEMENTED) {
          version = 'v1alpha';
          continue;
        }
        throw error;
      }
    }
  };
  const fileName = (bytes: Uint8Array) => {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1) return reader.string();
      reader.skip(wireType);
    }
    return '';
  };
  const dependencies = (bytes: Uint8Array) => {
    const reader = new BinaryReader(bytes);
    const names: string[] = [];
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 3) names.push(reader.string());
      else reader.skip(wireType);
    }
    return names;
  };
  return {
    async listServices() {
      const [response] = await ask([encodeRequest(7, '*')]);
      if (response?.error)
        throw new UserError(
          'reflection-failed',
          `the server's reflection could not list its services: ${response.error.message || `error ${response.error.code}`}`,
        );
      return [...(response?.services ?? [])].sort();
    },
    async filesForSymbol(symbol) {
      const files = new Map<string, Uint8Array>();
      let pending: Uint8Array[] = [encodeRequest(4, symbol)];
      while (pending.length > 0) {
        const responses = await ask(pending);
        pending = [];
        for (const response of responses) {
          if (response.error) {
            throw new UserError(
              'reflection-failed',
              `the server's reflection could not describe "${symbol}": ${response.error.message || `error ${response.error.code}`}`,
            );
          }
          for (const file of response.files) files.set(fileName(file), file);
        }
        // Servers may send only the file itself: ask for imports that are still missing.
        const missing = new Set([...files.values()].flatMap(dependencies).filter((name) => !files.has(name)));
        pending = [...missing].map((name) => encodeRequest(3, name));
      }
      return [...files.values()];
    },
    close: () => channel.close(),
  };
}
