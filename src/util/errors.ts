/**
 * The error taxonomy of grpcforge. The CLI maps these to exit codes in one place (`cli/main.ts`):
 * a {@link UserError} exits 2 (bad config, contract, flags or environment), anything else is a bug.
 */

/** Base class: every error grpcforge throws on purpose has a stable, machine-readable `code`. */
export class GrpcforgeError extends Error {
  /** Stable identifier, for example `config-invalid` or `contract-invalid`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Something the user can fix: a bad `grpcforge.yaml`, a malformed contract, a wrong flag, a missing file.
 * `details` carries one line per problem (for example every config error), printed after the message.
 */
export class UserError extends GrpcforgeError {
  readonly details: readonly string[];

  constructor(code: string, message: string, details: readonly string[] = [], options?: { cause?: unknown }) {
    super(code, message, options);
    this.details = details;
  }
}

/** A bug in grpcforge itself. The CLI prints it with versions and asks for an issue. */
export class InternalError extends GrpcforgeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('internal', message, options);
  }
}

/** Returns the error's message, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
