import { ClientError, type ClientMiddleware, type Metadata } from 'nice-grpc';
import { STATUS_DETAILS_TRAILER } from '../vocabulary/error-details.js';
import { RichClientError } from './rich-errors.js';
import { decodeStatusDetails } from './status-details.js';

/**
 * Client middleware that turns a `ClientError` whose trailers carry `grpc-status-details-bin` into a
 * {@link RichClientError} with the decoded details (as grpc-go's `status.FromError` reads them). A status without
 * details, or with bytes that are not a google.rpc.Status, stays the `ClientError` it was. Generated clients use it.
 */
export function createErrorDetailsClientMiddleware(): ClientMiddleware {
  return async function* errorDetails(call, options) {
    let trailer: Metadata | undefined;
    try {
      return yield* call.next(call.request, {
        ...options,
        onTrailer(received: Metadata) {
          trailer = received;
          options.onTrailer?.(received);
        },
      });
    } catch (error) {
      throw withErrorDetails(error, trailer);
    }
  };
}

/**
 * `error` as a {@link RichClientError} when it is a `ClientError` and `trailer` carries `grpc-status-details-bin`;
 * otherwise `error` unchanged.
 */
export function withErrorDetails(error: unknown, trailer: Metadata | undefined): unknown {
  if (!(error instanceof ClientError) || error instanceof RichClientError) return error;
  const bytes = trailer?.get(STATUS_DETAILS_TRAILER);
  if (!(bytes instanceof Uint8Array)) return error;
  try {
    const status = decodeStatusDetails(bytes);
    return new RichClientError(error.path, error.code, error.details, status.details);
  } catch {
    return error;
  }
}
