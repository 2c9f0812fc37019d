/** One `buf.validate` rule that does not compile, and where the contract declares it. */
export interface ValidationRuleProblem {
  /** The .proto file that declares the message, as in the descriptor set (`shop/v1/shop.proto`). */
  readonly file: string;
  /** The message's fully-qualified name (`shop.v1.LoginRequest`). */
  readonly message: string;
  /** The field whose rule it is (its proto name); absent for a rule of the message itself (`buf.validate.message`). */
  readonly field?: string;
  /** protovalidate's reason (`failed to compile nickname.broken: syntax error: ...`). */
  readonly reason: string;
}

/**
 * The contract's `buf.validate` rules do not compile (a CEL expression with a syntax error, a rule of the wrong type
 * for its field, a oneof rule naming a field the message lacks): thrown when a server starts, and by
 * `checkValidationRules`, never while a request is answered.
 */
export class ValidationRulesError extends Error {
  /** Every rule that does not compile, in the order of the messages and fields. */
  readonly problems: readonly ValidationRuleProblem[];

  /** @param problems at least one. */
  constructor(problems: readonly ValidationRuleProblem[]) {
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super(`buf.validate rules do not compile: ${first ? describeRuleProblem(first) : 'no problem given'}${more}`);
    this.name = 'ValidationRulesError';
    this.problems = problems;
  }
}

/** `<file>: <message>.<field>: <reason>`, or `<file>: <message>: <reason>` for a rule of the message itself. */
export function describeRuleProblem(problem: ValidationRuleProblem): string {
  const where = problem.field === undefined ? problem.message : `${problem.message}.${problem.field}`;
  return `${problem.file}: ${where}: ${problem.reason}`;
}
