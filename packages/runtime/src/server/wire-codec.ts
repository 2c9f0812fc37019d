import { ServerError, Status, type CompatServiceDefinition, type ServerMiddleware, type ServiceDefinition } from 'nice-grpc';
import { checkWireFormat, type MessageWireShape } from './check-wire-format.js';
import { isTsProtoDefinition } from './service-definition.js';

/** The message functions of a ts-proto type: what grpc-js would otherwise call to (de)serialise. */
interface MessageCodec {
  encode(message: unknown): { finish(): Uint8Array };
  decode(input: Uint8Array): unknown;
  fromPartial?(message: unknown): unknown;
}

/** One method of a ts-proto definition, as far as the codec needs it. */
interface TsProtoMethod {
  readonly name: string;
  readonly requestType: MessageCodec;
  readonly responseType: MessageCodec;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly options: { readonly idempotencyLevel?: 'IDEMPOTENT' | 'NO_SIDE_EFFECTS' };
}

/** How the codec stage turns one method's bytes into messages and back. */
export interface MethodCodec {
  /**
   * The request of the bytes, checked strictly first ({@link checkWireFormat}): bytes ts-proto's decoder would read
   * only in part (a tag of 0, a stray END_GROUP) are refused, not answered with the fields before them.
   * @throws ServerError INTERNAL when the bytes are not a request of the method, as grpc-go answers a request it
   *   cannot unmarshal (`codes.Internal, "grpc: error unmarshalling request: %v"` in grpc-go's server.go).
   */
  decodeRequest(bytes: Uint8Array): unknown;
  /**
   * A decoded request encoded again by ts-proto: the bytes of what the handler sees, without the fields ts-proto
   * skipped (a known field sent with another wire type). For validation, whose protobuf-es reader refuses those.
   */
  encodeRequest(message: unknown): Uint8Array;
  /** @throws Error naming the method path when the message cannot be encoded. */
  encodeResponse(message: unknown): Uint8Array;
}

/** Each method's codec, by gRPC path. */
export type MethodCodecs = ReadonlyMap<string, MethodCodec>;

/** What the server registers for a ts-proto definition: a bytes-in, bytes-out definition and the codecs it set aside. */
export interface WireDefinition {
  readonly definition: ServiceDefinition;
  readonly codecs: MethodCodecs;
}

const identity = (bytes: Uint8Array): Uint8Array => bytes;

/**
 * A ts-proto definition whose messages cross grpc-js as the bytes read and written: decoding and encoding move into
 * {@link createCodecMiddleware}, inside the pipeline, so the request logger counts the bytes of the wire without
 * encoding a message a second time, a response that cannot be encoded is an INTERNAL error the pipeline maps and
 * logs, and a request that cannot be decoded reaches the logger too.
 * @param requestShapes each method's request shape by gRPC path, from the contract's descriptors
 *   (`readRequestWireShapes`). The requests of a method with a shape are checked strictly, sub-messages included; a
 *   method without one (no descriptor set, or a definition the set does not describe) is left to its request type's
 *   decoder, since only the descriptors say that its messages are protobuf (a ts-proto-shaped definition may carry
 *   another codec: the runtime's tests serve JSON).
 * @returns `undefined` for a definition that is not ts-proto's (it is served as it is).
 */
export function toWireDefinition(
  definition: CompatServiceDefinition,
  requestShapes?: ReadonlyMap<string, MessageWireShape>,
): WireDefinition | undefined {
  if (!isTsProtoDefinition(definition)) return undefined;
  const { fullName, methods } = definition;
  const wire: ServiceDefinition = {};
  const codecs = new Map<string, MethodCodec>();
  for (const [key, method] of Object.entries<TsProtoMethod>(methods)) {
    const path = `/${fullName}/${method.name}`;
    codecs.set(path, methodCodec(path, method, requestShapes?.get(path)));
    wire[key] = {
      path,
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      requestSerialize: (message: unknown) => encodeMessage(method.requestType, message),
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: (bytes: Uint8Array) => method.responseType.decode(bytes),
      options: method.options,
    };
  }
  return { definition: wire, codecs };
}

/** nice-grpc's own rule: handlers may return partial messages, so `fromPartial` before `encode`. */
function encodeMessage(codec: MessageCodec, message: unknown): Uint8Array {
  return codec.encode(codec.fromPartial ? codec.fromPartial(message) : message).finish();
}

/** A method's codec, built once per path so that a call allocates nothing for it. */
function methodCodec(path: string, method: TsProtoMethod, requestShape: MessageWireShape | undefined): MethodCodec {
  return {
    decodeRequest(bytes) {
      try {
        if (requestShape) checkWireFormat(bytes, requestShape);
        return method.requestType.decode(bytes);
      } catch (error) {
        // The reason names the caller's own bytes only (an offset, a field number): the caller may see it.
        const reason = error instanceof Error ? error.message : String(error);
        throw new ServerError(Status.INTERNAL, `the request could not be decoded: ${reason}`);
      }
    },
    encodeRequest(message) {
      return encodeMessage(method.requestType, message);
    },
    encodeResponse(message) {
      try {
        return encodeMessage(method.responseType, message);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`the response of ${path} could not be encoded: ${reason}`, { cause: error });
      }
    },
  };
}

/**
 * Innermost server middleware for methods of a {@link toWireDefinition}: decodes each request from its bytes and
 * encodes each response to bytes, once. Methods without codecs (other definitions) pass through.
 * @throws ServerError INTERNAL when a request cannot be decoded; a plain Error naming the method when a response
 *   cannot be encoded (for example a wrong type TypeScript did not catch), which error mapping turns into INTERNAL.
 */
export function createCodecMiddleware(codecs: MethodCodecs): ServerMiddleware {
  return async function* codec(call, context) {
    const method = codecs.get(call.method.path);
    if (!method) return yield* call.next(call.request, context);
    const request = call.requestStream
      ? mapStream(call.request as AsyncIterable<Uint8Array>, (bytes) => method.decodeRequest(bytes))
      : method.decodeRequest(call.request as Uint8Array);
    const next = call.next(request as typeof call.request, context);
    if (!call.responseStream) return method.encodeResponse(yield* next) as Awaited<ReturnType<typeof next.next>>['value'];
    for await (const response of next) yield method.encodeResponse(response) as typeof response;
    return;
  };
}

async function* mapStream<Item>(source: AsyncIterable<Item>, map: (item: Item) => unknown): AsyncIterable<unknown> {
  for await (const item of source) yield map(item);
}
