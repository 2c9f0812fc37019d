import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/**
 * Where a message's sub-messages are, by field number: the fields strict decoding walks into. A field that is not in
 * the map is only skipped (its encoding checked, not its content).
 */
export type MessageWireShape = ReadonlyMap<number, NestedMessageField>;

/** A field whose declared type is a message, or a group (proto2 `group`, editions' `DELIMITED` encoding). */
export interface NestedMessageField {
  /** Encoded between START_GROUP and END_GROUP tags rather than length-delimited. */
  readonly isGroup: boolean;
  readonly message: MessageWireShape;
}

/** The nesting protobuf's own parsers stop at (C++, Go and ts-proto's generated decoders). */
const MAX_DEPTH = 100;

/**
 * Walks a protobuf message's wire format and throws where it is malformed, which ts-proto's generated decoders do not
 * all do: their loop ends at a tag of 0 or at an END_GROUP (`if ((tag & 7) === 4 || tag === 0) break;`) and returns
 * the fields read so far, silently dropping the rest. Refused here:
 * - field number 0, wire types 6 and 7, and tags beyond 32 bits (`BinaryReader.tag()` of protobuf-es);
 * - an END_GROUP no START_GROUP of the same field number opened, and a group never closed;
 * - a varint or a length that runs past the end of the message or of the sub-message it is in;
 * - the same inside every field `shape` declares a message (or group), recursively, up to 100 levels.
 *
 * A field whose wire type does not match its declared type but can be skipped (a string sent as a varint) is
 * accepted: protobuf's rule treats it as an unknown field, and ts-proto's decoders skip it. Unknown length-delimited
 * fields are skipped without looking inside, as every protobuf parser does.
 * @param bytes one serialised message.
 * @param shape the message's sub-message fields; an empty map walks the top level only.
 * @throws Error saying what is malformed and at which byte offset.
 */
export function checkWireFormat(bytes: Uint8Array, shape: MessageWireShape): void {
  const reader = new BinaryReader(bytes);
  try {
    walk(reader, bytes, bytes.length, shape, undefined, MAX_DEPTH);
  } catch (error) {
    // protobuf-es's reasons ("premature EOF", "illegal tag: field no 0 wire type 0"), with where they happened.
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${reason} (at byte ${Math.min(reader.pos, bytes.length)})`, { cause: error });
  }
}

/**
 * Reads fields up to `end`, or up to the END_GROUP of `group` when it is a group's content.
 * @throws Error for the first malformed field.
 */
function walk(
  reader: BinaryReader,
  bytes: Uint8Array,
  end: number,
  shape: MessageWireShape,
  group: number | undefined,
  depth: number,
): void {
  if (depth <= 0) throw new Error(`messages nested more than ${MAX_DEPTH} levels deep`);
  while (reader.pos < end) {
    const [fieldNo, wireType] = reader.tag();
    if (wireType === WireType.EndGroup) {
      if (fieldNo === group) return;
      throw new Error(`END_GROUP of field ${fieldNo} without its START_GROUP`);
    }
    const nested = shape.get(fieldNo);
    if (nested && !nested.isGroup && wireType === WireType.LengthDelimited) {
      const length = reader.uint32();
      const nestedEnd = reader.pos + length;
      if (nestedEnd > end) throw new Error(`field ${fieldNo}'s length ${length} runs past the end of its message`);
      walk(reader, bytes, nestedEnd, nested.message, undefined, depth - 1);
    } else if (nested?.isGroup && wireType === WireType.StartGroup) {
      walk(reader, bytes, end, nested.message, fieldNo, depth - 1);
    } else {
      skip(reader, bytes, wireType, fieldNo);
    }
    if (reader.pos > end) throw new Error(`field ${fieldNo} runs past the end of its message`);
  }
  if (group !== undefined) throw new Error(`group of field ${group} without its END_GROUP`);
}

/**
 * Moves past one field's value. The common wire types are skipped here, not with `BinaryReader.skip`, which returns
 * the skipped bytes as a new subarray: an allocation per field, which doubled the check's cost for small messages.
 * Groups go to `skip`, which checks their nesting and END_GROUP's field number. Bounds are checked by the caller.
 */
function skip(reader: BinaryReader, bytes: Uint8Array, wireType: WireType, fieldNo: number): void {
  switch (wireType) {
    case WireType.Varint: {
      const start = reader.pos;
      while ((bytes[reader.pos++] ?? 0) & 0x80) {
        if (reader.pos - start === 10) throw new Error(`field ${fieldNo}'s varint is longer than 10 bytes`);
      }
      return;
    }
    case WireType.Bit64:
      reader.pos += 8;
      return;
    case WireType.Bit32:
      reader.pos += 4;
      return;
    case WireType.LengthDelimited: {
      const length = reader.uint32();
      reader.pos += length;
      return;
    }
    default:
      reader.skip(wireType, fieldNo);
  }
}
