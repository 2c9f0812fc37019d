import type { JsonValue } from '@bufbuild/protobuf';
import { isInteger, isSafeNumber, parse } from 'lossless-json';

/**
 * Parses request JSON without losing 64-bit integers: an integer that a JavaScript number cannot hold exactly
 * (beyond ±2^53, such as `1152921504606846977`) becomes its digits as a string, which protobuf-es's `fromJson`
 * accepts for int64, uint64, fixed64 and sfixed64 fields (proto3 JSON); every other number is a number.
 * @throws SyntaxError for text that is not one JSON value (duplicate keys included).
 */
export function parseRequestJson(text: string): JsonValue {
  return parse(text, null, (digits) => (isInteger(digits) && !isSafeNumber(digits) ? digits : Number(digits))) as JsonValue;
}
