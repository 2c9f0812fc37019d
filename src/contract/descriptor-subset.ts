import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import type { ContractSet } from './model.js';

/**
 * The files that declare `serviceNames` and everything they import, transitively, without source info, as a
 * protobuf-encoded FileDescriptorSet in dependency order. What server reflection needs to describe those services.
 * Pure and deterministic.
 */
export function buildDescriptorSubset(contract: ContractSet, serviceNames: readonly string[]): Uint8Array {
  const set = fromBinary(FileDescriptorSetSchema, contract.descriptorSet);
  const byName = new Map(set.file.map((file) => [file.name, file]));
  const roots = contract.services.filter((service) => serviceNames.includes(service.fullName)).map((service) => service.file);
  const ordered: FileDescriptorProto[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const file = byName.get(name);
    if (!file) return;
    for (const dependency of file.dependency) visit(dependency);
    ordered.push({ ...file, sourceCodeInfo: undefined });
  };
  for (const root of [...roots].sort()) visit(root);
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: ordered }));
}

/**
 * Whether a FileDescriptorSet (protobuf binary) holds the file `fileName`, e.g. `buf/validate/validate.proto`: a
 * subset built by {@link buildDescriptorSubset} holds it when a file of the services imports it.
 */
export function descriptorSetImports(descriptorSet: Uint8Array, fileName: string): boolean {
  return fromBinary(FileDescriptorSetSchema, descriptorSet).file.some((file) => file.name === fileName);
}
