import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema, MethodOptions_IdempotencyLevel, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { readErrorCatalogs } from './error-catalogs.js';
import type { ContractMethod, ContractService, ContractSet, IdempotencyLevel, MethodKind } from './model.js';

// Field numbers in descriptor.proto, used to find comments in SourceCodeInfo.
const FILE_SERVICE = 6;
const SERVICE_METHOD = 2;

const KINDS: Record<string, MethodKind> = {
  unary: 'unary',
  server_streaming: 'serverStreaming',
  client_streaming: 'clientStreaming',
  bidi_streaming: 'bidiStreaming',
};

/**
 * Builds the contract model from a FileDescriptorSet (protobuf binary, as `buf build` writes it). Pure.
 * @throws Error when the bytes are not a FileDescriptorSet or a file's imports are missing from it.
 * @throws UserError `contract-invalid` for a malformed error catalog (see {@link readErrorCatalogs}).
 */
export function buildContractSet(descriptorSet: Uint8Array): ContractSet {
  const set = fromBinary(FileDescriptorSetSchema, descriptorSet);
  const registry = createFileRegistry(set);
  const services: ContractService[] = [];
  const commentsByFile = new Map<string, Map<string, string>>();
  const commentsOf = (file: FileDescriptorProto) => {
    let comments = commentsByFile.get(file.name);
    if (!comments) commentsByFile.set(file.name, (comments = commentsByPath(file)));
    return comments;
  };
  for (const file of registry.files) {
    const comments = commentsOf(file.proto);
    file.services.forEach((service, serviceIndex) => {
      services.push({
        fullName: service.typeName,
        name: service.name,
        packageName: file.proto.package,
        file: file.proto.name,
        comment: comments.get(`${FILE_SERVICE}.${serviceIndex}`) ?? '',
        deprecated: service.deprecated,
        methods: service.methods.map((method, methodIndex): ContractMethod => ({
          name: method.name,
          path: `/${service.typeName}/${method.name}`,
          kind: KINDS[method.methodKind] ?? 'unary',
          inputType: method.input.typeName,
          outputType: method.output.typeName,
          idempotency: idempotencyOf(method.idempotency),
          comment: comments.get(`${FILE_SERVICE}.${serviceIndex}.${SERVICE_METHOD}.${methodIndex}`) ?? '',
          deprecated: method.deprecated,
        })),
      });
    });
  }
  return {
    services: services.sort((a, b) => a.fullName.localeCompare(b.fullName)),
    files: set.file
      .map((file) => ({ path: file.name, packageName: file.package, dependencies: [...file.dependency] }))
      .sort((a, b) => a.path.localeCompare(b.path)),
    errorCatalogs: readErrorCatalogs(registry, commentsOf),
    descriptorSet,
  };
}

function idempotencyOf(level: MethodOptions_IdempotencyLevel): IdempotencyLevel {
  if (level === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return 'noSideEffects';
  if (level === MethodOptions_IdempotencyLevel.IDEMPOTENT) return 'idempotent';
  return 'unknown';
}

/** Leading comments of a file's declarations, keyed by their SourceCodeInfo path joined with dots. */
function commentsByPath(file: FileDescriptorProto): Map<string, string> {
  const comments = new Map<string, string>();
  for (const location of file.sourceCodeInfo?.location ?? []) {
    if (location.leadingComments) comments.set(location.path.join('.'), cleanComment(location.leadingComments));
  }
  return comments;
}

/** Strips the single leading space protoc keeps after `//` and trailing blank lines. */
function cleanComment(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/^ /, '').trimEnd())
    .join('\n')
    .trim();
}
