import { ClientError, ServerError, type Status } from 'nice-grpc';
import type { ErrorDetails } from '../vocabulary/error-details.js';

/**
 * A nice-grpc `ServerError` with the rich error model's details: error mapping sends them in `grpc-status-details-bin`.
 * For code that speaks gRPC statuses; domain code throws a `DomainError` with `details` instead.
 * (`details` is nice-grpc's name for the status message, so the structured details are `errorDetails`.)
 */
export class RichServerError extends ServerError {
  /** The details sent with the status. */
  readonly errorDetails: ErrorDetails;

  /**
   * @param code the gRPC status code
   * @param message the status message (nice-grpc's `details`)
   * @param errorDetails what `grpc-status-details-bin` carries
   */
  constructor(code: Status, message: string, errorDetails: ErrorDetails) {
    super(code, message);
    this.name = 'RichServerError';
    this.errorDetails = errorDetails;
  }
}

/**
 * A nice-grpc `ClientError` whose status came with `grpc-status-details-bin`: the error details, decoded. Generated
 * clients throw it (through `createErrorDetailsClientMiddleware`); a status without details stays a `ClientError`.
 */
export class RichClientError extends ClientError {
  /** The details the server sent. */
  readonly errorDetails: ErrorDetails;

  /**
   * @param path the method path, e.g. `/auth.v1.AuthService/Login`
   * @param message the status message (nice-grpc's `details`)
   */
  constructor(path: string, code: Status, message: string, errorDetails: ErrorDetails) {
    super(path, code, message);
    this.name = 'RichClientError';
    this.errorDetails = errorDetails;
  }

  /** `errorDetails.errorInfo.reason`, the error's declared reason, e.g. `QUOTA_EXCEEDED`. */
  get reason(): string | undefined {
    return this.errorDetails.errorInfo?.reason;
  }
}

/** Whether `error` is a {@link RichClientError} (also across copies of the runtime: checked by name and shape). */
export function isRichClientError(error: unknown): error is RichClientError {
  return (
    error instanceof RichClientError ||
    (error instanceof ClientError &&
      error.name === 'RichClientError' &&
      typeof (error as { errorDetails?: unknown }).errorDetails === 'object')
  );
}
