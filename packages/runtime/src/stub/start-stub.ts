import {
  ServerError,
  Status,
  type CallContext,
  type Client,
  type Metadata,
  type ServiceImplementation,
  type TsProtoServiceDefinition,
} from 'nice-grpc';
import { closeServiceClient, createServiceClient, type ClientCallOptions } from '../client/create-client.js';
import { startServer, type ServerOptions } from '../server/start-server.js';
import { defineService } from '../server/service-registration.js';

/** The method keys of a ts-proto definition (`validateToken`, ...). */
export type StubMethod<Definition extends TsProtoServiceDefinition> = keyof Definition['methods'] & string;

/** The request message type of one method of a ts-proto definition. */
export type StubRequest<
  Definition extends TsProtoServiceDefinition,
  Method extends StubMethod<Definition>,
> = Definition['methods'][Method]['requestType'] extends { decode(input: Uint8Array): infer Request } ? Request : unknown;

/** One call a stub received. */
export interface StubCall<Method extends string = string, Request = unknown> {
  /** Method key in the definition (ts-proto's lowerCamelCase), for example `validateToken`. */
  readonly method: Method;
  /** gRPC method path, for example `/auth.v1.AuthService/ValidateToken`. */
  readonly path: string;
  /** The request of a unary or server-streaming call; for streaming requests, the messages in arrival order. */
  readonly requests: Request[];
  /** Request metadata, each key to its values (binary `-bin` values are base64). */
  readonly metadata: Readonly<Record<string, readonly string[]>>;
}

/** Any call of a definition's methods, its `requests` typed by `method`. */
export type AnyStubCall<Definition extends TsProtoServiceDefinition> = {
  [Method in StubMethod<Definition>]: StubCall<Method, StubRequest<Definition, Method>>;
}[StubMethod<Definition>];

/** How often {@link RunningStub.verify} expects a method to have been called. */
export type StubCallCount = number | { readonly atLeast?: number; readonly atMost?: number };

/** A running stub server of one service, typed by its ts-proto definition. */
export interface RunningStub<Definition extends TsProtoServiceDefinition = TsProtoServiceDefinition> {
  /** `127.0.0.1:PORT`, ready to pass as a client target. */
  readonly address: string;
  /** The bound port. */
  readonly port: number;
  /** Every call received, in order. */
  readonly calls: readonly AnyStubCall<Definition>[];
  /**
   * A typed client of the stub (plaintext, no deadline, no retries), created on first use and closed by `close()`:
   * put it into a test's service context.
   */
  readonly client: Client<Definition, ClientCallOptions>;
  /** The calls of one method, by its definition key (`validateToken`), with typed requests. */
  callsTo<Method extends StubMethod<Definition>>(method: Method): StubCall<Method, StubRequest<Definition, Method>>[];
  /** Forgets the recorded calls. */
  reset(): void;
  /**
   * Checks how often a method was called.
   * @throws Error saying what was expected and what happened.
   */
  verify(method: StubMethod<Definition>, expected: StubCallCount): void;
  /** Stops the server, cancelling calls still running. */
  close(): Promise<void>;
}

/** Options of {@link startStub}. */
export interface StubOptions {
  /** @defaultValue `127.0.0.1` */
  readonly host?: string;
  /** @defaultValue 0 (a free port) */
  readonly port?: number;
  /** Serve `grpc.health.v1.Health` (SERVING for the stubbed service). Health calls are not recorded. @defaultValue true */
  readonly health?: boolean;
  /**
   * FileDescriptorSet (protobuf binary) with the service and its imports: given, the stub serves server reflection
   * (v1 and v1alpha), so `grpcforge call` and `buf curl` work against it, and validates requests by the contract's
   * `buf.validate` rules, as the real server does. @defaultValue none (no reflection, no validation)
   */
  readonly descriptorSet?: Uint8Array;
  /** As the server's (`server.validation`): with a descriptor set, requests are validated unless `requests: false`. */
  readonly validation?: ServerOptions['validation'];
  /** As the server's (`server.errors`): whether a DebugInfo detail of a handler's error reaches the client. */
  readonly errors?: ServerOptions['errors'];
}

type AnyHandler = (request: unknown, context: CallContext) => unknown;

/**
 * Starts an in-process fake of a service for a consumer's tests: methods given in `handlers` answer with them,
 * every other method answers UNIMPLEMENTED, and every call is recorded. It serves gRPC health too and, with
 * `options.descriptorSet`, server reflection (neither is recorded). Generated `start<Service>Stub` functions wrap it.
 * @param definition ts-proto's `<Service>Definition`.
 * @param handlers some or all methods, typed like the service implementation.
 * @throws Error when the address cannot be bound.
 */
export async function startStub<Definition extends TsProtoServiceDefinition>(
  definition: Definition,
  handlers: Partial<ServiceImplementation<Definition>> = {},
  options: StubOptions = {},
): Promise<RunningStub<Definition>> {
  const table = handlers as Readonly<Record<string, AnyHandler | undefined>>;
  const calls: StubCall[] = [];
  const implementation: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(definition.methods)) {
    const path = `/${definition.fullName}/${method.name}`;
    const handler = table[key];
    const record = (context: CallContext, requests: unknown[]) => {
      calls.push({ method: key, path, requests, metadata: metadataToRecord(context.metadata) });
    };
    const missing = () => new ServerError(Status.UNIMPLEMENTED, `${path} is not implemented by this stub`);
    if (!method.requestStream && !method.responseStream) {
      implementation[key] = async (request: unknown, context: CallContext) => {
        record(context, [request]);
        if (!handler) throw missing();
        return handler(request, context);
      };
    } else if (!method.requestStream) {
      implementation[key] = async function* (request: unknown, context: CallContext) {
        record(context, [request]);
        if (!handler) throw missing();
        yield* handler(request, context) as AsyncIterable<unknown>;
      };
    } else if (!method.responseStream) {
      implementation[key] = async (requests: AsyncIterable<unknown>, context: CallContext) => {
        const received: unknown[] = [];
        record(context, received);
        if (!handler) throw missing();
        return handler(tap(requests, received), context);
      };
    } else {
      implementation[key] = async function* (requests: AsyncIterable<unknown>, context: CallContext) {
        const received: unknown[] = [];
        record(context, received);
        if (!handler) throw missing();
        yield* handler(tap(requests, received), context) as AsyncIterable<unknown>;
      };
    }
  }
  const server = await startServer({
    services: [defineService(definition, implementation as never)],
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    health: options.health ?? true,
    reflection: options.descriptorSet !== undefined,
    ...(options.descriptorSet ? { descriptorSet: options.descriptorSet } : {}),
    ...(options.validation ? { validation: options.validation } : {}),
    ...(options.errors ? { errors: options.errors } : {}),
  });
  let client: Client<Definition, ClientCallOptions> | undefined;
  const callsTo = <Method extends StubMethod<Definition>>(method: Method) =>
    calls.filter((call) => call.method === method) as StubCall<Method, StubRequest<Definition, Method>>[];
  return {
    address: server.address,
    port: server.port,
    // Recorded untyped; each entry's `requests` are what the definition decoded for its `method`.
    calls: calls as unknown as readonly AnyStubCall<Definition>[],
    get client() {
      client ??= createServiceClient(definition, { target: server.address, retry: false });
      return client;
    },
    callsTo,
    reset: () => {
      calls.length = 0;
    },
    verify: (method, expected) => {
      const count = calls.filter((call) => call.method === method).length;
      const { atLeast, atMost } = typeof expected === 'number' ? { atLeast: expected, atMost: expected } : expected;
      if ((atLeast !== undefined && count < atLeast) || (atMost !== undefined && count > atMost)) {
        const want =
          typeof expected === 'number'
            ? `${expected}`
            : [atLeast !== undefined ? `at least ${atLeast}` : '', atMost !== undefined ? `at most ${atMost}` : '']
                .filter(Boolean)
                .join(' and ');
        throw new Error(`stub: expected ${want} call(s) to ${method}, got ${count}`);
      }
    },
    close: async () => {
      if (client) closeServiceClient(client);
      await server.shutdown(0);
    },
  };
}

async function* tap(source: AsyncIterable<unknown>, into: unknown[]): AsyncIterable<unknown> {
  for await (const message of source) {
    into.push(message);
    yield message;
  }
}

function metadataToRecord(metadata: Metadata): Record<string, string[]> {
  const record: Record<string, string[]> = {};
  for (const [key, values] of metadata) {
    record[key] = values.map((value) => (typeof value === 'string' ? value : Buffer.from(value).toString('base64')));
  }
  return record;
}
