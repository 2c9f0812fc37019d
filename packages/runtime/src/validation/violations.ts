import { pathToString } from '@bufbuild/protobuf/reflect';
import type { Violation } from '@bufbuild/protovalidate';
import { InvalidArgumentError } from '../errors.js';
import type { FieldViolationDetail } from '../vocabulary/error-details.js';

/**
 * protovalidate's violations as google.rpc.BadRequest field violations: `field` is the path protobuf-es prints
 * (`items[0].sku`, `counts["a"]`; empty for a rule of the message itself), `description` the rule's message,
 * `reason` the rule id (`string.min_len`).
 */
export function toFieldViolations(violations: readonly Violation[]): FieldViolationDetail[] {
  return violations.map((violation) => ({
    field: pathToString(violation.field),
    description: violation.message,
    reason: violation.ruleId,
  }));
}

/** `<field>: <message>` of a violation, or its message alone for a rule of the message itself. */
export function describeViolation(violation: FieldViolationDetail): string {
  return violation.field === '' ? violation.description : `${violation.field}: ${violation.description}`;
}

/**
 * The error a request that breaks its rules is answered with: INVALID_ARGUMENT, `invalid request: <first field path>:
 * <its message>`, every violation in the BadRequest detail (error mapping sends it in `grpc-status-details-bin`).
 * @param violations at least one.
 */
export function invalidRequestError(violations: readonly Violation[]): InvalidArgumentError {
  const fieldViolations = toFieldViolations(violations);
  const first = fieldViolations[0];
  const message = first ? `invalid request: ${describeViolation(first)}` : 'invalid request';
  return new InvalidArgumentError(message, { details: { badRequest: { fieldViolations } } });
}
