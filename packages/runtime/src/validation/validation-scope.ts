import { VALIDATE_PROTO } from '../vocabulary/validation.js';
import type { ValidationOptions } from './method-validators.js';

/** {@link ValidationOptions} with their defaults applied. */
export interface ResolvedValidation {
  readonly requests: boolean;
  readonly responses: boolean;
}

/** `options` with their defaults: requests validated unless turned off, responses only when turned on. */
export function resolveValidation(options: ValidationOptions = {}): ResolvedValidation {
  return { requests: options.requests ?? true, responses: options.responses ?? false };
}

/**
 * What a server over `descriptorSet` validates, or `undefined` when it can validate nothing: validation is off, there
 * is no set, or no file of the set imports validate.proto. No message can carry rules otherwise, and the file's path
 * would be in the set's bytes (a file's name or dependency), so the check neither parses the set nor loads
 * protovalidate: the server's start and the host's prefetch of its modules both ask it.
 */
export function validationScopeOf(
  descriptorSet: Uint8Array | undefined,
  options?: ValidationOptions,
): ResolvedValidation | undefined {
  const scope = resolveValidation(options);
  if (!descriptorSet || (!scope.requests && !scope.responses)) return undefined;
  const bytes = Buffer.from(descriptorSet.buffer, descriptorSet.byteOffset, descriptorSet.byteLength);
  return bytes.indexOf(VALIDATE_PROTO) < 0 ? undefined : scope;
}
