import { VALIDATE_PROTO } from '@grpcforge/runtime/vocabulary';
import { UserError } from '../util/errors.js';
import type { ContractSet } from './model.js';

/**
 * Whether any file of the contract imports protovalidate's `validate.proto`: without it no message can carry
 * `buf.validate` rules, and the check need not load protovalidate at all.
 */
export function importsValidationRules(contract: ContractSet): boolean {
  return contract.files.some((file) => file.dependencies.includes(VALIDATE_PROTO));
}

/**
 * The contract's `buf.validate` rules do not compile (code `validation-rules-invalid`, exit 2): a CEL expression with
 * a syntax error, a rule of the wrong type for its field. The runtime's `ValidationRulesError` as a user error.
 */
export class ValidationRulesUserError extends UserError {
  /**
   * @param message the runtime error's message (`buf.validate rules do not compile: <first problem>`).
   * @param problems one line per rule, `<file>: <message>.<field>: <reason>`.
   */
  constructor(message: string, problems: readonly string[], options?: { cause?: unknown }) {
    super('validation-rules-invalid', message, problems, options);
  }
}
