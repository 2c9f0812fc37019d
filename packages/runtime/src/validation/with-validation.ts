import type { MethodCodec, MethodCodecs } from '../server/wire-codec.js';
import type { MethodValidators } from './method-validators.js';

/**
 * The codecs with validation where `validators` has a check: a request is decoded (strictly, by ts-proto, for the
 * handler) and then validated from ts-proto's encoding of what it decoded; a response is encoded and then validated from its bytes. The
 * codec of a method without a validator is the very same object: such a method runs no validation code at all.
 */
export function withValidation(codecs: MethodCodecs, validators: MethodValidators): MethodCodecs {
  if (validators.size === 0) return codecs;
  const validated = new Map(codecs);
  for (const [path, validator] of validators) {
    const codec = codecs.get(path);
    if (!codec) continue;
    const { request, response } = validator;
    const wrapped: MethodCodec = {
      decodeRequest: request
        ? (bytes) => {
            // Malformed bytes are refused by the codec first (INTERNAL), as for a method without rules.
            const message = codec.decodeRequest(bytes);
            // What the handler sees, encoded again: the bytes as sent may read otherwise in protobuf-es (a singular
            // message field sent twice is merged by protobuf-es, replaced by ts-proto), so validating them could
            // pass a request whose decoded form breaks the rules. Re-encoding a small message costs about 1 µs.
            request(codec.encodeRequest(message));
            return message;
          }
        : (bytes) => codec.decodeRequest(bytes),
      encodeResponse: response
        ? (message) => {
            const bytes = codec.encodeResponse(message);
            response(bytes);
            return bytes;
          }
        : (message) => codec.encodeResponse(message),
      encodeRequest: (message) => codec.encodeRequest(message),
    };
    validated.set(path, wrapped);
  }
  return validated;
}
