import { createFileRegistry, fromBinary, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { MessageWireShape, NestedMessageField } from './check-wire-format.js';

/**
 * Each method's request shape for strict decoding ({@link checkWireFormat}), by gRPC path (`/pkg.Service/Method`),
 * read from the contract's descriptors: which fields of the request, and of its sub-messages, are messages or groups
 * (map values that are messages included, under their entry's field 2). Recursive types share one shape object.
 * A set protobuf-es cannot resolve (an import missing) gives no shapes: requests are then checked at the top level.
 * @param descriptorSet protobuf-encoded FileDescriptorSet with every file the services need (imports included).
 */
export function readRequestWireShapes(descriptorSet: Uint8Array): ReadonlyMap<string, MessageWireShape> {
  const shapes = new Map<string, MessageWireShape>();
  let registry;
  try {
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  } catch {
    return shapes;
  }
  const known = new Map<DescMessage, Map<number, NestedMessageField>>();
  const shapeOf = (message: DescMessage): MessageWireShape => {
    const cached = known.get(message);
    if (cached) return cached;
    const fields = new Map<number, NestedMessageField>();
    known.set(message, fields);
    for (const field of message.fields) {
      if (field.fieldKind === 'message' || (field.fieldKind === 'list' && field.listKind === 'message')) {
        fields.set(field.number, { isGroup: field.delimitedEncoding, message: shapeOf(field.message) });
      } else if (field.fieldKind === 'map' && field.mapKind === 'message') {
        const entry = new Map([[2, { isGroup: false, message: shapeOf(field.message) }]]);
        fields.set(field.number, { isGroup: false, message: entry });
      }
    }
    return fields;
  };
  for (const type of registry) {
    if (type.kind !== 'service') continue;
    for (const method of type.methods) shapes.set(`/${type.typeName}/${method.name}`, shapeOf(method.input));
  }
  return shapes;
}
