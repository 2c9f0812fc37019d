import { Status } from 'nice-grpc';
import type { ErrorDetails } from './vocabulary/error-details.js';

/** Options of {@link DomainError} and its subclasses. */
export interface DomainErrorOptions {
  /** The error this one wraps (`Error.cause`): kept on the server, never sent. */
  readonly cause?: unknown;
  /**
   * The rich error model's details (google.rpc.Status), sent to the client in `grpc-status-details-bin`: a generated
   * client reads them as `RichClientError.errorDetails`.
   */
  readonly details?: ErrorDetails;
}

/**
 * Errors handlers and domain code may throw without knowing gRPC. The error-mapping middleware turns each into its
 * status code, with the error's message as the status message (so write messages meant for callers), and its
 * `details` into a google.rpc.Status in the `grpc-status-details-bin` trailer.
 * @example
 * ```ts
 * throw new NotFoundError(`no user ${request.id}`, { details: { resourceInfo: { resourceType: 'user.v1.User', resourceName: request.id } } });
 * ```
 */
export class DomainError extends Error {
  /** The gRPC status the error maps to. */
  readonly status: Status;
  /** The details sent with the status. @defaultValue `{}` */
  readonly details: ErrorDetails;

  constructor(status: Status, message: string, options?: DomainErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.details = options?.details ?? {};
  }
}

/** NOT_FOUND: the requested entity does not exist. */
export class NotFoundError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super(Status.NOT_FOUND, message, options);
  }
}

/** INVALID_ARGUMENT: the request is malformed whatever the system's state. */
export class InvalidArgumentError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super(Status.INVALID_ARGUMENT, message, options);
  }
}

/** ALREADY_EXISTS: the entity a create call names exists. */
export class AlreadyExistsError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super(Status.ALREADY_EXISTS, message, options);
  }
}

/** PERMISSION_DENIED: the caller is known but may not do this. */
export class PermissionDeniedError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super(Status.PERMISSION_DENIED, message, options);
  }
}

/** FAILED_PRECONDITION: the system is not in the state the operation needs. */
export class FailedPreconditionError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super(Status.FAILED_PRECONDITION, message, options);
  }
}

/** RESOURCE_EXHAUSTED: a quota or rate limit was hit. */
export class ResourceExhaustedError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super(Status.RESOURCE_EXHAUSTED, message, options);
  }
}

/** UNAVAILABLE: a dependency is down; the caller may retry. */
export class UnavailableError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super(Status.UNAVAILABLE, message, options);
  }
}

/**
 * A gRPC status by its name (`NOT_FOUND`, any case) or its number (`5`, or `'5'` as a flag gives it), as scenario
 * files and `--code` write them.
 * @returns `undefined` for anything that is not one of the 17 codes (gRPC spec, "Status codes and their use").
 */
export function parseStatusCode(code: string | number): Status | undefined {
  const text = String(code).trim();
  const name = /^\d+$/.test(text) ? Status[Number(text)] : text.toUpperCase();
  return Object.values(Status).find((value): value is Status => typeof value === 'number' && Status[value] === name);
}
