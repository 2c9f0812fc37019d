import { pathToString } from '@bufbuild/protobuf/reflect';
import type { Violation } from '@bufbuild/protovalidate';
import { InvalidArgumentError } from '../errors.js';
import type { FieldViolationDetail } from '../vocabulary/error-details.js';

/**
 * At most this many violations reach a BadRequest: a large request of many small wrong items must not cost a
 * violation object each, and the Status is bounded anyway (`STATUS_DETAILS_MAX_BYTES`).
 */
export const MAX_FIELD_VIOLATIONS = 100;

/**
 * protovalidate's violations as google.rpc.BadRequest field violations, the first {@link MAX_FIELD_VIOLATIONS}: `field` is the path protobuf-es prints
 * (`items[0].sku`, `counts["a"]`; empty for a rule of the message itself), `description` the rule's message,
 * `reason` the rule id (`string.min_len`).
 */
export function toFieldViolations(violations: readonly Violation[]): FieldViolationDetail[] {
  return violations.slice(0, MAX_FIELD_VIOLATIONS).map((violation) => ({
    field: pathToString(violation.field),
    description: violation.message,
    reason: violation.ruleId,
  }));
}

/**
 * `<field>: <message> [<rule id>]` of a violation (protovalidate's own format), without the field for a rule of the
 * message itself, e.g. `username: must be at least 3 characters [string.min_len]`.
 */
export function describeViolation(violation: FieldViolationDetail): string {
  const text = violation.field === '' ? violation.description : `${violation.field}: ${violation.description}`;
  return violation.reason ? `${text} [${violation.reason}]` : text;
}

/**
 * The error a request that breaks its rules is answered with: INVALID_ARGUMENT, `invalid request: <first field path>:
 * <its message> [<rule id>]`, the violations (at most {@link MAX_FIELD_VIOLATIONS}) in the BadRequest detail (error mapping sends it in `grpc-status-details-bin`).
 * @param violations at least one.
 */
export function invalidRequestError(violations: readonly Violation[]): InvalidArgumentError {
  const fieldViolations = toFieldViolations(violations);
  const first = fieldViolations[0];
  const message = first ? `invalid request: ${describeViolation(first)}` : 'invalid request';
  return new InvalidArgumentError(message, { details: { badRequest: { fieldViolations } } });
}
