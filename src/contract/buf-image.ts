import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

// Apart from buf.ts (which runs buf and stays light for a run the cache answers): protobuf's wire module is loaded
// only when a run compiles the contracts.

/** Field number of `ImageFile.buf_extension` (buf.alpha.image.v1), the only field an image file adds. */
const IMAGE_FILE_BUF_EXTENSION = 8042;

/**
 * The FileDescriptorSet of a buf image: images are wire compatible with it (`repeated ImageFile file = 1`, each a
 * FileDescriptorProto plus buf's field 8042), so dropping that field from each file gives the bytes
 * `--as-file-descriptor-set` writes. Done on the wire, not by decoding: decoding and encoding again would reorder or
 * drop custom options.
 */
export function imageToDescriptorSet(image: Uint8Array): Uint8Array {
  const set = new BinaryWriter();
  const reader = new BinaryReader(image);
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo !== 1 || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, fieldNo);
      set.raw(image.subarray(start, reader.pos));
      continue;
    }
    const fileBytes = reader.bytes();
    const file = new BinaryReader(fileBytes);
    const kept = new BinaryWriter();
    while (file.pos < file.len) {
      const fieldStart = file.pos;
      const [number, type] = file.tag();
      file.skip(type, number);
      if (number !== IMAGE_FILE_BUF_EXTENSION) kept.raw(fileBytes.subarray(fieldStart, file.pos));
    }
    set.tag(1, WireType.LengthDelimited).bytes(kept.finish());
  }
  return set.finish();
}
