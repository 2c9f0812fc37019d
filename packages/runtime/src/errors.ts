import { Status } from 'nice-grpc';

/**
 * Errors handlers and domain code may throw without knowing gRPC. The error-mapping middleware turns each into its
 * status code, with the error's message as the status details (so write messages meant for callers).
 */
export class DomainError extends Error {
  /** The gRPC status the error maps to. */
  readonly status: Status;

  constructor(status: Status, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.status = status;
  }
}

/** NOT_FOUND: the requested entity does not exist. */
export class NotFoundError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.NOT_FOUND, message, options);
  }
}

/** INVALID_ARGUMENT: the request is malformed whatever the system's state. */
export class InvalidArgumentError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.INVALID_ARGUMENT, message, options);
  }
}

/** ALREADY_EXISTS: the entity a create call names exists. */
export class AlreadyExistsError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.ALREADY_EXISTS, message, options);
  }
}

/** PERMISSION_DENIED: the caller is known but may not do this. */
export class PermissionDeniedError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.PERMISSION_DENIED, message, options);
  }
}

/** FAILED_PRECONDITION: the system is not in the state the operation needs. */
export class FailedPreconditionError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.FAILED_PRECONDITION, message, options);
  }
}

/** RESOURCE_EXHAUSTED: a quota or rate limit was hit. */
export class ResourceExhaustedError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Status.RESOURCE_EXHAUSTED, message, options);
  }
}

/** UNAVAILABLE: a dependency is down; the caller may retry. */
export class UnavailableError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
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
