import { ValidationRulesError } from './validation-rules-error.js';

/**
 * Compiles the `buf.validate` rules of every message the services' methods take or return (and what those messages
 * contain), as a server serving them would when it starts: for `generate` and `serve` to fail on a broken rule with
 * its file and field, before any request. protovalidate is loaded only when this is called.
 * @param descriptorSet protobuf-encoded FileDescriptorSet with the services and their imports.
 * @param services fully-qualified service names (`shop.v1.ShopService`); names the set lacks are skipped.
 * @throws ValidationRulesError listing every rule that does not compile; Error when protobuf-es cannot read the set.
 */
export async function checkValidationRules(descriptorSet: Uint8Array, services: readonly string[]): Promise<void> {
  const [{ createFileRegistry, fromBinary }, { FileDescriptorSetSchema }, { createValidator }, { compileRules }] =
    await Promise.all([
      import('@bufbuild/protobuf'),
      import('@bufbuild/protobuf/wkt'),
      import('@bufbuild/protovalidate'),
      import('./compile-rules.js'),
    ]);
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const messages = services.flatMap((name) => {
    const service = registry.getService(name);
    return service ? service.methods.flatMap((method) => [method.input, method.output]) : [];
  });
  const problems = compileRules(createValidator({ registry }), messages);
  if (problems.length > 0) throw new ValidationRulesError(problems);
}
