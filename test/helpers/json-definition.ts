import type { TsProtoServiceDefinition } from 'nice-grpc';

/**
 * A ts-proto-shaped service definition whose messages are JSON on the wire: enough for runtime tests of the server,
 * client and stub over real sockets without generating code first.
 */
const json = {
  encode: (message: EchoMessage) => ({ finish: () => toJsonBytes(message) }),
  decode: (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8') || '{}') as EchoMessage,
  fromPartial: (message: EchoMessage) => message,
};

/** `undefined` as `{}`: fromPartial is the identity here, so a call made with no request reaches encode as is. */
function toJsonBytes(message: EchoMessage | undefined): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(message ?? {})));
}

// Literal stream flags, as ts-proto writes them, so nice-grpc's types pick the RPC kind.
function method<RequestStream extends boolean, ResponseStream extends boolean>(
  name: string,
  requestStream: RequestStream,
  responseStream: ResponseStream,
  options: { idempotencyLevel?: 'IDEMPOTENT' | 'NO_SIDE_EFFECTS' } = {},
) {
  return { name, requestType: json, requestStream, responseType: json, responseStream, options };
}

/** `test.v1.EchoService` with one method of each RPC kind. */
export const EchoDefinition = {
  name: 'EchoService',
  fullName: 'test.v1.EchoService',
  methods: {
    echo: method('Echo', false, false),
    repeat: method('Repeat', false, true),
    collect: method('Collect', true, false),
    chat: method('Chat', true, true),
  },
} as const satisfies TsProtoServiceDefinition;

/** Messages of the echo service. */
export interface EchoMessage {
  text?: string | undefined;
  delayMs?: number;
}

/** `test.v1.InventoryService`: a read the contract marks NO_SIDE_EFFECTS, a write it marks IDEMPOTENT, and one it does not mark. */
export const InventoryDefinition = {
  name: 'InventoryService',
  fullName: 'test.v1.InventoryService',
  methods: {
    getItem: method('GetItem', false, false, { idempotencyLevel: 'NO_SIDE_EFFECTS' }),
    putItem: method('PutItem', false, false, { idempotencyLevel: 'IDEMPOTENT' }),
    createItem: method('CreateItem', false, false),
  },
} as const satisfies TsProtoServiceDefinition;
