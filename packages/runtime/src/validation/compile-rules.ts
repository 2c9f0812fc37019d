import { create, getOption, hasOption, ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { CompilationError, type Validator } from '@bufbuild/protovalidate';
import {
  field as fieldRulesExtension,
  message as messageRulesExtension,
  oneof as oneofRulesExtension,
  type FieldRules,
} from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
import type { ValidationRuleProblem } from './validation-rules-error.js';

/**
 * Whether validating `message` can find a violation: it, or a message it contains (fields, oneofs, list items, map
 * values, transitively, cycles included), carries `buf.validate` options. The options are read by their extension
 * numbers, so a descriptor set with its own copy of `buf/validate/validate.proto` is read as protovalidate's own.
 */
export function hasValidationRules(message: DescMessage): boolean {
  return reachableMessages([message]).some(hasOwnRules);
}

/**
 * Every message reachable from `roots` through message fields, list items and map values, each once, the ones a
 * message contains before the message itself (so a broken rule is found first in the message that declares it).
 */
export function reachableMessages(roots: Iterable<DescMessage>): DescMessage[] {
  const order: DescMessage[] = [];
  const seen = new Set<DescMessage>();
  const visit = (message: DescMessage) => {
    if (seen.has(message)) return;
    seen.add(message);
    for (const field of message.fields) {
      const nested = messageOf(field);
      if (nested) visit(nested);
    }
    order.push(message);
  };
  for (const root of roots) visit(root);
  return order;
}

/**
 * Compiles the rules of `messages` and of what they contain with `validator`, before any request needs them.
 * protovalidate plans a message's rules when it first validates one, and compiles a CEL expression then but throws
 * its error only when the rule is evaluated, which a field left unset may never do: each message with rules is
 * therefore validated once empty and once per field with rules, that field set to a non-zero value, so every rule
 * it declares runs. Violations of those probes and runtime errors (a CEL expression failing on the probe's value)
 * are not problems; compilation errors are, attributed to the field whose rule has the failing id.
 * @returns the rules that do not compile, one entry per error; empty when all compile.
 */
export function compileRules(validator: Validator, messages: Iterable<DescMessage>): ValidationRuleProblem[] {
  const problems: ValidationRuleProblem[] = [];
  // A message planned after one it contains meets that one's error again: it is reported where it was found first.
  const reported = new Set<string>();
  for (const message of reachableMessages(messages)) {
    if (!hasOwnRules(message)) continue;
    const probes: [DescField | undefined, ReflectMessage][] = [[undefined, reflect(message, create(message))]];
    for (const field of message.fields) {
      const probe = hasOption(field, fieldRulesExtension) ? probeWith(message, field) : undefined;
      if (probe) probes.push([field, probe]);
    }
    for (const [probed, probe] of probes) {
      const result = validator.validate(message, probe.message);
      if (result.kind !== 'error' || !(result.error instanceof CompilationError)) continue;
      const reason = result.error.message;
      if (reported.has(reason)) continue;
      reported.add(reason);
      const field = fieldOfRule(message, reason) ?? probed;
      problems.push({
        file: message.file.proto.name,
        message: message.typeName,
        ...(field ? { field: field.name } : {}),
        reason,
      });
    }
  }
  return problems;
}

/** Whether the message itself, one of its oneofs or one of its fields carries `buf.validate` options. */
function hasOwnRules(message: DescMessage): boolean {
  return (
    hasOption(message, messageRulesExtension) ||
    message.oneofs.some((oneof) => hasOption(oneof, oneofRulesExtension)) ||
    message.fields.some((field) => hasOption(field, fieldRulesExtension))
  );
}

function messageOf(field: DescField): DescMessage | undefined {
  switch (field.fieldKind) {
    case 'message':
      return field.message;
    case 'list':
      return field.listKind === 'message' ? field.message : undefined;
    case 'map':
      return field.mapKind === 'message' ? field.message : undefined;
    default:
      return undefined;
  }
}

/**
 * The field whose CEL rule (its own, or its items', keys' or values') has the id protovalidate's compilation error
 * names (`failed to compile <id>: ...`), or undefined when the error is the message's own or names no such rule.
 */
function fieldOfRule(message: DescMessage, reason: string): DescField | undefined {
  const named = (ids: readonly string[]) => ids.some((id) => reason.startsWith(`failed to compile ${id}: `));
  const messageRules = getOption(message, messageRulesExtension);
  if (named([...messageRules.cel.map((rule) => rule.id), ...messageRules.celExpression])) return undefined;
  return message.fields.find(
    (field) => hasOption(field, fieldRulesExtension) && named(celIdsOf(getOption(field, fieldRulesExtension))),
  );
}

function celIdsOf(rules: FieldRules | undefined): string[] {
  if (!rules) return [];
  const own = [...rules.cel.map((rule) => rule.id), ...rules.celExpression];
  switch (rules.type.case) {
    case 'repeated':
      return [...own, ...celIdsOf(rules.type.value.items)];
    case 'map':
      return [...own, ...celIdsOf(rules.type.value.keys), ...celIdsOf(rules.type.value.values)];
    default:
      return own;
  }
}

/**
 * An empty `message` with only `field` set to a value that is not its zero value (one item or entry for lists and
 * maps); undefined when the probe's value does not fit (a 64-bit field read as a string, `jstype = JS_STRING`).
 */
function probeWith(message: DescMessage, field: DescField): ReflectMessage | undefined {
  const probe = reflect(message, create(message));
  try {
    setProbe(probe, field);
  } catch {
    return undefined;
  }
  return probe;
}

function setProbe(probe: ReflectMessage, field: DescField): void {
  switch (field.fieldKind) {
    case 'scalar':
      probe.set(field, scalarProbe(field.scalar));
      break;
    case 'enum':
      probe.set(field, enumProbe(field));
      break;
    case 'message':
      probe.set(field, reflect(field.message, create(field.message)));
      break;
    case 'list': {
      const list = probe.get(field);
      if (field.listKind === 'message') list.add(reflect(field.message, create(field.message)));
      else if (field.listKind === 'enum') list.add(enumProbe(field));
      else list.add(scalarProbe(field.scalar));
      break;
    }
    case 'map': {
      const map = probe.get(field);
      const key = scalarProbe(field.mapKey);
      if (field.mapKind === 'message') map.set(key, reflect(field.message, create(field.message)));
      else if (field.mapKind === 'enum') map.set(key, enumProbe(field));
      else map.set(key, scalarProbe(field.scalar));
      break;
    }
  }
}

function enumProbe(field: DescField): number {
  return field.enum?.values.find((value) => value.number !== 0)?.number ?? 0;
}

function scalarProbe(scalar: ScalarType): string | number | bigint | boolean | Uint8Array {
  switch (scalar) {
    case ScalarType.STRING:
      return 'probe';
    case ScalarType.BYTES:
      return new Uint8Array([1]);
    case ScalarType.BOOL:
      return true;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 1n;
    default:
      return 1;
  }
}
