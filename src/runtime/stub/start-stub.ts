import { Metadata, ServerError, Status, type CallContext, type TsProtoServiceDefinition } from 'nice-grpc';
import { startServer } from '../server/start-server.js';
import { defineService } from '../server/service-registration.js';

/** One call a stub received. */
export interface StubCall {
  /** Method key in the definition (ts-proto's lowerCamelCase), for example `validateToken`. */
  readonly method: string;
  /** gRPC method path, for example `/auth.v1.AuthService/ValidateToken`. */
  readonly path: string;
  /** The request of a unary or server-streaming call; for streaming requests, the messages in arrival order. */
  readonly requests: unknown[];
  /** Request metadata, each key to its values (binary `-bin` values are base64). */
  readonly metadata: Readonly<Record<string, readonly string[]>>;
}

/** A running stub server. */
export interface RunningStub {
  /** `127.0.0.1:PORT`, ready to pass as a client target. */
  readonly address: string;
  readonly port: number;
  /** Every call received, in order. */
  readonly calls: readonly StubCall[];
  /** The calls of one method, by its definition key (`validateToken`). */
  callsTo(method: string): StubCall[];
  /** Forgets the recorded calls. */
  reset(): void;
  /**
   * Checks how often a method was called.
   * @throws Error saying what was expected and what happened.
   */
  verify(method: string, expected: number | { readonly atLeast?: number; readonly atMost?: number }): void;
  /** Stops the server, cancelling calls still running. */
  close(): Promise<void>;
}

/** Options of {@link startStub}. */
export interface StubOptions {
  /** @defaultValue `127.0.0.1` */
  readonly host?: string;
  /** @defaultValue 0 (a free port) */
  readonly port?: number;
}

type AnyHandler = (request: unknown, context: CallContext) => unknown;

/**
 * Starts an in-process fake of a service for a consumer's tests: methods given in `handlers` answer with them,
 * every other method answers UNIMPLEMENTED, and every call is recorded. Generated `start<Service>Stub` functions wrap it.
 * @param definition ts-proto's `<Service>Definition`.
 * @param handlers some or all methods, typed like the service implementation.
 * @throws Error when the address cannot be bound.
 */
export async function startStub(
  definition: TsProtoServiceDefinition,
  handlers: object = {},
  options: StubOptions = {},
): Promise<RunningStub> {
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
    health: false,
    reflection: false,
  });
  return {
    address: server.address,
    port: server.port,
    calls,
    callsTo: (method) => calls.filter((call) => call.method === method),
    reset: () => {
      calls.length = 0;
    },
    verify: (method, expected) => {
      const count = calls.filter((call) => call.method === method).length;
      const { atLeast, atMost } = typeof expected === 'number' ? { atLeast: expected, atMost: expected } : expected;
      if ((atLeast !== undefined && count < atLeast) || (atMost !== undefined && count > atMost)) {
        const want = typeof expected === 'number' ? `${expected}` : [atLeast !== undefined ? `at least ${atLeast}` : '', atMost !== undefined ? `at most ${atMost}` : ''].filter(Boolean).join(' and ');
        throw new Error(`stub: expected ${want} call(s) to ${method}, got ${count}`);
      }
    },
    close: async () => {
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
