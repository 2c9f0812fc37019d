import {
  getExtension,
  hasExtension,
  type DescEnum,
  type DescExtension,
  type DescMessage,
  type FileRegistry,
} from '@bufbuild/protobuf';
import type { FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { UserError } from '../util/errors.js';
import type { ContractErrorCatalog, ContractErrorReason } from './model.js';

/** `(grpcforge.v1.error)` on EnumValueOptions and `(grpcforge.v1.error_domain)` on EnumOptions (grpcforge/v1/errors.proto). */
export const ERROR_RULE_EXTENSION = 'grpcforge.v1.error';
export const ERROR_DOMAIN_EXTENSION = 'grpcforge.v1.error_domain';

/** The gRPC status code names an error reason may declare: every code but OK (gRPC's "Status codes and their use"). */
export const ERROR_STATUS_NAMES = [
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

// google.rpc.ErrorInfo (AIP-193): a reason is UPPER_SNAKE_CASE of at most 63 characters; metadata keys lowerCamelCase
// of at most 64. Keys stay plain identifiers, so generated code can name them without quotes.
const REASON_PATTERN = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
const REASON_MAX = 63;
const METADATA_KEY_PATTERN = /^[a-z][a-zA-Z0-9]*$/;
const METADATA_KEY_MAX = 64;

// Field numbers in descriptor.proto, for the SourceCodeInfo paths of enums and their values.
const FILE_MESSAGE_TYPE = 4;
const FILE_ENUM_TYPE = 5;
const MESSAGE_NESTED_TYPE = 3;
const MESSAGE_ENUM_TYPE = 4;
const ENUM_VALUE = 2;

/** The shape `(grpcforge.v1.error)` decodes to (grpcforge.v1.ErrorRule, read through the registry). */
interface ErrorRuleValue {
  readonly code: string;
  readonly metadata: readonly string[];
  readonly message: string;
}

/**
 * The error catalogs of a descriptor set: every enum with at least one value carrying `(grpcforge.v1.error)`. Option
 * values are read from the descriptors' options (the extensions as the registry declares them), never from .proto
 * text. A set that does not include grpcforge/v1/errors.proto has no catalogs.
 * @param comments leading comments of a file's declarations, by SourceCodeInfo path joined with dots.
 * @returns catalogs sorted by fully-qualified name.
 * @throws UserError `contract-invalid` naming the file and the enum value: a status code name that is not one of
 *   {@link ERROR_STATUS_NAMES}, a value name without the enum's UPPER_SNAKE_CASE prefix, a reason or metadata key
 *   AIP-193 does not allow, a metadata key declared twice, a catalog without a domain (no package and no
 *   `error_domain`), or one reason declared twice in one domain.
 */
export function readErrorCatalogs(
  registry: FileRegistry,
  comments: (file: FileDescriptorProto) => ReadonlyMap<string, string>,
): ContractErrorCatalog[] {
  const ruleExtension = registry.getExtension(ERROR_RULE_EXTENSION);
  if (!ruleExtension) return [];
  const domainExtension = registry.getExtension(ERROR_DOMAIN_EXTENSION);
  const catalogs: ContractErrorCatalog[] = [];
  for (const file of registry.files) {
    for (const descEnum of enumsOf(file.enums, file.messages)) {
      const catalog = readCatalog(descEnum, ruleExtension, domainExtension, comments(file.proto));
      if (catalog) catalogs.push(catalog);
    }
  }
  catalogs.sort((a, b) => a.fullName.localeCompare(b.fullName));
  assertUniqueReasons(catalogs);
  return catalogs;
}

/** Every enum of a file, top-level and nested, in declaration order. */
function enumsOf(enums: readonly DescEnum[], messages: readonly DescMessage[]): DescEnum[] {
  return [...enums, ...messages.flatMap((message) => enumsOf(message.nestedEnums, message.nestedMessages))];
}

function readCatalog(
  descEnum: DescEnum,
  ruleExtension: DescExtension,
  domainExtension: DescExtension | undefined,
  comments: ReadonlyMap<string, string>,
): ContractErrorCatalog | undefined {
  const file = descEnum.file.proto.name;
  const values = descEnum.values.filter((value) => value.proto.options && hasExtension(value.proto.options, ruleExtension));
  if (values.length === 0) return undefined;
  const packageName = descEnum.file.proto.package;
  const where = `${file}: enum ${descEnum.typeName}`;
  const declaredDomain =
    domainExtension && descEnum.proto.options && hasExtension(descEnum.proto.options, domainExtension)
      ? String(getExtension(descEnum.proto.options, domainExtension))
      : '';
  const domain = declaredDomain || packageName;
  if (!domain) {
    throw new UserError('contract-invalid', `${where}: an error catalog needs a domain`, [
      'declare a package in the file, or option (grpcforge.v1.error_domain) = "..." on the enum',
    ]);
  }
  const prefix = `${upperSnakeCase(descEnum.name)}_`;
  const enumPath = sourcePath(descEnum);
  const reasons = values.map((value): ContractErrorReason => {
    const at = `${file}: enum value ${descEnum.typeName}.${value.name}`;
    const rule = errorRuleOf(getExtension(value.proto.options!, ruleExtension));
    if (!value.name.startsWith(prefix) || value.name.length === prefix.length) {
      throw new UserError('contract-invalid', `${at}: an error reason's name starts with its enum's prefix "${prefix}"`, [
        `rename it ${prefix}${value.name} (buf lint's ENUM_VALUE_PREFIX asks for the same)`,
      ]);
    }
    const reason = value.name.slice(prefix.length);
    if (!REASON_PATTERN.test(reason) || reason.length > REASON_MAX) {
      throw new UserError(
        'contract-invalid',
        `${at}: the reason "${reason}" is not UPPER_SNAKE_CASE of at most ${REASON_MAX} characters starting with a letter (AIP-193)`,
      );
    }
    if (!(ERROR_STATUS_NAMES as readonly string[]).includes(rule.code)) {
      throw new UserError(
        'contract-invalid',
        `${at}: (grpcforge.v1.error).code is ${rule.code ? `"${rule.code}"` : 'missing'}; expected a status code name other than OK`,
        [`one of ${ERROR_STATUS_NAMES.join(', ')}`],
      );
    }
    const seen = new Set<string>();
    for (const key of rule.metadata) {
      if (!METADATA_KEY_PATTERN.test(key) || key.length > METADATA_KEY_MAX) {
        throw new UserError(
          'contract-invalid',
          `${at}: the metadata key "${key}" is not lowerCamelCase of at most ${METADATA_KEY_MAX} characters (AIP-193)`,
        );
      }
      if (seen.has(key)) throw new UserError('contract-invalid', `${at}: the metadata key "${key}" is declared twice`);
      seen.add(key);
    }
    return {
      reason,
      enumValueName: value.name,
      code: rule.code,
      metadataKeys: [...rule.metadata],
      message: rule.message || reason.toLowerCase().replace(/_/g, ' '),
      comment: comments.get([...enumPath, ENUM_VALUE, descEnum.values.indexOf(value)].join('.')) ?? '',
    };
  });
  return {
    fullName: descEnum.typeName,
    name: descEnum.name,
    domain,
    package: packageName,
    file,
    comment: comments.get(enumPath.join('.')) ?? '',
    reasons,
  };
}

/**
 * The decoded `(grpcforge.v1.error)` as {@link ErrorRuleValue}. The registry builds the message from the descriptors in
 * the set (there is no generated grpcforge.v1.ErrorRule here), so its fields are read by name; unset ones are empty.
 */
function errorRuleOf(value: unknown): ErrorRuleValue {
  const rule = value as Partial<ErrorRuleValue>;
  return { code: rule.code ?? '', metadata: rule.metadata ?? [], message: rule.message ?? '' };
}

/** One reason means one thing in its domain: the same (domain, reason) in two catalogs is refused. */
function assertUniqueReasons(catalogs: readonly ContractErrorCatalog[]): void {
  const owners = new Map<string, { catalog: ContractErrorCatalog; reason: ContractErrorReason }>();
  for (const catalog of catalogs) {
    for (const reason of catalog.reasons) {
      const key = `${catalog.domain}\u0000${reason.reason}`;
      const other = owners.get(key);
      if (other) {
        throw new UserError(
          'contract-invalid',
          `${catalog.file}: enum value ${catalog.fullName}.${reason.enumValueName}: the reason ${reason.reason} of domain ` +
            `"${catalog.domain}" is declared twice (also ${other.catalog.file}: ${other.catalog.fullName}.${other.reason.enumValueName})`,
          ['a reason means one thing within its domain: rename one, or give one enum its own (grpcforge.v1.error_domain)'],
        );
      }
      owners.set(key, { catalog, reason });
    }
  }
}

/** SourceCodeInfo path of an enum: `5.i` at the top level, `4.i(.3.j)*.4.k` nested in messages. */
function sourcePath(descEnum: DescEnum): number[] {
  const parent = descEnum.parent;
  if (!parent) return [FILE_ENUM_TYPE, descEnum.file.enums.indexOf(descEnum)];
  const path: number[] = [MESSAGE_ENUM_TYPE, parent.nestedEnums.indexOf(descEnum)];
  let message = parent;
  while (message.parent) {
    path.unshift(MESSAGE_NESTED_TYPE, message.parent.nestedMessages.indexOf(message));
    message = message.parent;
  }
  path.unshift(FILE_MESSAGE_TYPE, message.file.messages.indexOf(message));
  return path;
}

/**
 * `AuthErrorReason` → `AUTH_ERROR_REASON`, `HTTPError` → `HTTP_ERROR`: the prefix buf lint's ENUM_VALUE_PREFIX asks
 * every value of an enum to start with (followed by `_`).
 */
export function upperSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}
