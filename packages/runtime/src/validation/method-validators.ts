import { createFileRegistry, fromBinary, type DescMessage, type DescMethod } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { createValidator, type Validator } from '@bufbuild/protovalidate';
import { ServerError, Status } from 'nice-grpc';
import { compileRules, hasValidationRules } from './compile-rules.js';
import { ValidationRulesError } from './validation-rules-error.js';
import { resolveValidation } from './validation-scope.js';
import { describeViolation, invalidRequestError, toFieldViolations } from './violations.js';

/** What a server validates against the contract's `buf.validate` rules (`ServerOptions.validation`). */
export interface ValidationOptions {
  /**
   * Validate each request message (every message of a request stream too) after auth and before the handler; a
   * violation is answered INVALID_ARGUMENT with a BadRequest detail. @defaultValue true
   */
  readonly requests?: boolean;
  /**
   * Validate each response message the handler returns or yields; a violation is a bug of the handler, answered
   * INTERNAL with the generic message (the violation goes to the request log's error detail). Meant for tests and
   * development. @defaultValue false
   */
  readonly responses?: boolean;
}

/** A method's checks, on the messages' bytes as they cross the wire. */
export interface MethodValidator {
  /**
   * Reads one request message's bytes with protobuf-es and validates it. The bytes are ts-proto's encoding of the
   * request the handler gets, so what is validated is what the handler sees.
   * @throws InvalidArgumentError with `details.badRequest` on a violation; ServerError INTERNAL when protobuf-es
   *   cannot read the bytes; Error (unexpected: INTERNAL) when a rule fails to evaluate (protovalidate's RuntimeError).
   */
  readonly request?: (bytes: Uint8Array) => void;
  /**
   * Reads one encoded response message and validates it.
   * @throws Error naming the method and the first violation, or the rule that failed to evaluate (INTERNAL).
   */
  readonly response?: (bytes: Uint8Array) => void;
}

/** The methods that have something to validate, by gRPC path; a method not in the map is not validated at all. */
export type MethodValidators = ReadonlyMap<string, MethodValidator>;

/**
 * Plans validation for the methods at `paths` from the contract's descriptors: a method gets a request check only
 * when its request message, or a message it contains, has `buf.validate` rules (and a response check likewise with
 * `responses`); every rule of those messages is compiled now (see `compileRules`).
 * @param descriptorSet protobuf-encoded FileDescriptorSet with the services and their imports (validate.proto too).
 * @param paths the served methods (`/pkg.Service/Method`); paths the set does not describe are not validated.
 * @throws ValidationRulesError naming the file, message and field of every rule that does not compile; Error when
 *   protobuf-es cannot read the descriptor set.
 */
export function createMethodValidators(
  descriptorSet: Uint8Array,
  paths: Iterable<string>,
  options: ValidationOptions = {},
): MethodValidators {
  const { requests, responses } = resolveValidation(options);
  const validators = new Map<string, MethodValidator>();
  if (!requests && !responses) return validators;
  let registry;
  try {
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`the descriptor set cannot be read for request validation: ${reason}`, { cause: error });
  }
  const methods = new Map<string, DescMethod>();
  for (const type of registry) {
    if (type.kind !== 'service') continue;
    for (const method of type.methods) methods.set(`/${type.typeName}/${method.name}`, method);
  }
  const validator = createValidator({ registry });
  const ruled = new Map<DescMessage, boolean>();
  const hasRules = (message: DescMessage) => {
    let has = ruled.get(message);
    if (has === undefined) ruled.set(message, (has = hasValidationRules(message)));
    return has;
  };
  for (const path of paths) {
    const method = methods.get(path);
    if (!method) continue;
    const request = requests && hasRules(method.input) ? requestValidator(validator, path, method.input) : undefined;
    const response = responses && hasRules(method.output) ? responseValidator(validator, path, method.output) : undefined;
    if (request || response) validators.set(path, { ...(request ? { request } : {}), ...(response ? { response } : {}) });
  }
  const problems = compileRules(
    validator,
    [...ruled].flatMap(([message, has]) => (has ? [message] : [])),
  );
  if (problems.length > 0) throw new ValidationRulesError(problems);
  return validators;
}

function requestValidator(validator: Validator, path: string, schema: DescMessage): (bytes: Uint8Array) => void {
  return (bytes) => {
    let message;
    try {
      message = fromBinary(schema, bytes, { readUnknownFields: false });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ServerError(Status.INTERNAL, `the request could not be decoded: ${reason}`);
    }
    const result = validator.validate(schema, message);
    if (result.kind === 'invalid') throw invalidRequestError(result.violations);
    if (result.kind === 'error') {
      throw new Error(`the request of ${path} could not be validated: ${result.error.message}`, { cause: result.error });
    }
  };
}

function responseValidator(validator: Validator, path: string, schema: DescMessage): (bytes: Uint8Array) => void {
  return (bytes) => {
    const result = validator.validate(schema, fromBinary(schema, bytes, { readUnknownFields: false }));
    if (result.kind === 'valid') return;
    if (result.kind === 'error') {
      throw new Error(`the response of ${path} could not be validated: ${result.error.message}`, { cause: result.error });
    }
    const violations = toFieldViolations(result.violations);
    const first = violations[0];
    throw new Error(`invalid response of ${path}: ${first ? describeViolation(first) : 'a rule is violated'}`);
  };
}
