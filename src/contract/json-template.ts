import { ScalarType, type DescField, type DescMessage, type JsonObject, type JsonValue } from '@bufbuild/protobuf';

/**
 * Proto-JSON templates of messages: what a person edits to call a method (the dashboard's explorer, its catalog).
 * Every field appears by its JSON name with a placeholder of its type, and the result is accepted by `fromJson` of
 * that message (the unit tests check every message of real contracts).
 */

/** Placeholders of the well-known types that proto JSON writes as something other than an object. */
const WELL_KNOWN: Readonly<Record<string, JsonValue>> = {
  'google.protobuf.Timestamp': '1970-01-01T00:00:00Z',
  'google.protobuf.Duration': '0s',
  'google.protobuf.FieldMask': '',
  'google.protobuf.Struct': {},
  'google.protobuf.Value': null,
  'google.protobuf.ListValue': [],
  // `{}` is an empty Any: a `@type` would need the named message in the caller's registry.
  'google.protobuf.Any': {},
  'google.protobuf.Empty': {},
  'google.protobuf.DoubleValue': 0,
  'google.protobuf.FloatValue': 0,
  'google.protobuf.Int64Value': '0',
  'google.protobuf.UInt64Value': '0',
  'google.protobuf.Int32Value': 0,
  'google.protobuf.UInt32Value': 0,
  'google.protobuf.BoolValue': false,
  'google.protobuf.StringValue': '',
  'google.protobuf.BytesValue': '',
};

/** The placeholder of a scalar: `""`, `0`, `false`; 64-bit integers as the string `"0"`, bytes as `""` (base64). */
function scalarPlaceholder(type: ScalarType): JsonValue {
  switch (type) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return '';
    case ScalarType.BOOL:
      return false;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return '0';
    default:
      return 0;
  }
}

/** A map key as proto JSON writes it: always a string. */
function mapKeyPlaceholder(type: ScalarType): string {
  if (type === ScalarType.STRING) return 'key';
  if (type === ScalarType.BOOL) return 'false';
  return '0';
}

/** An enum's placeholder: the name of its first value; `null` for `google.protobuf.NullValue`. */
function enumPlaceholder(field: { readonly enum: { readonly typeName: string; readonly values: readonly { name: string }[] } }) {
  if (field.enum.typeName === 'google.protobuf.NullValue') return null;
  return field.enum.values[0]?.name ?? 0;
}

/**
 * The proto-JSON template of a message: every field by its JSON name with a placeholder of its type (`""`, `0`,
 * `false`, the first enum value's name, 64-bit integers as `"0"`, bytes as `""`), a repeated field as a list of one
 * element, a map as one entry, well-known types as proto JSON writes them (Timestamp `"1970-01-01T00:00:00Z"`,
 * Duration `"0s"`, wrappers as their scalar, Struct `{}`, Value `null`, ListValue `[]`, Any `{}`), only the first
 * member of each oneof. A message met again inside itself (a cycle) is `{}` there. Pure.
 * @returns a value `fromJson(message, value)` accepts.
 */
export function jsonTemplate(message: DescMessage): JsonValue {
  return messageTemplate(message, new Set());
}

function messageTemplate(message: DescMessage, path: ReadonlySet<string>): JsonValue {
  const wellKnown = WELL_KNOWN[message.typeName];
  if (wellKnown !== undefined) return structuredClone(wellKnown);
  if (path.has(message.typeName)) return {};
  const inner = new Set(path).add(message.typeName);
  const template: JsonObject = {};
  for (const member of message.members) {
    // A oneof takes one member: its first.
    const field = member.kind === 'oneof' ? member.fields[0] : member;
    if (field) template[field.jsonName] = fieldTemplate(field, inner);
  }
  return template;
}

function fieldTemplate(field: DescField, path: ReadonlySet<string>): JsonValue {
  switch (field.fieldKind) {
    case 'scalar':
      return scalarPlaceholder(field.scalar);
    case 'enum':
      return enumPlaceholder(field);
    case 'message':
      return messageTemplate(field.message, path);
    case 'list':
      if (field.listKind === 'scalar') return [scalarPlaceholder(field.scalar)];
      if (field.listKind === 'enum') return [enumPlaceholder(field)];
      return [messageTemplate(field.message, path)];
    case 'map': {
      const key = mapKeyPlaceholder(field.mapKey);
      if (field.mapKind === 'scalar') return { [key]: scalarPlaceholder(field.scalar) };
      if (field.mapKind === 'enum') return { [key]: enumPlaceholder(field) };
      return { [key]: messageTemplate(field.message, path) };
    }
  }
}
