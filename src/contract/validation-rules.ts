import { ValidationRulesError, checkValidationRules, describeRuleProblem } from '@grpcforge/runtime';
import type { ResolvedConfig } from '../config/resolved.js';
import { UserError } from '../util/errors.js';
import type { ContractSet } from './model.js';

/** Where protovalidate's rules are declared (the `buf.validate` package). */
const VALIDATE_PROTO = 'buf/validate/validate.proto';

/**
 * The contract's `buf.validate` rules do not compile (code `validation-rules-invalid`, exit 2): one detail line per
 * rule, `<file>: <message>.<field>: <reason>`.
 */
export class ValidationRulesUserError extends UserError {
  constructor(error: ValidationRulesError) {
    super('validation-rules-invalid', error.message, error.problems.map(describeRuleProblem), { cause: error });
  }
}

/**
 * Compiles the `buf.validate` rules of every message the workspace's services serve or consume (what their methods
 * take and return, and what those messages contain), as a server does when it starts: `generate` fails on a broken
 * CEL expression instead of `serve`.
 * @throws ValidationRulesUserError naming the file, message and field of each rule that does not compile.
 */
export async function checkContractValidationRules(config: ResolvedConfig, contract: ContractSet): Promise<void> {
  const services = [
    ...new Set(config.services.flatMap((service) => [...service.serves, ...service.consumes.map((consume) => consume.service)])),
  ].sort();
  // Rules need validate.proto: a contract that never imports it has none, and protovalidate is not even loaded.
  const importsRules = contract.files.some((file) => file.dependencies.includes(VALIDATE_PROTO));
  if (services.length === 0 || !importsRules) return;
  try {
    await checkValidationRules(contract.descriptorSet, services);
  } catch (error) {
    throw error instanceof ValidationRulesError ? new ValidationRulesUserError(error) : error;
  }
}
