import type { Metadata } from 'nice-grpc';
import { decodeStatusDetails, type ErrorDetails } from '@grpcforge/runtime';
import { STATUS_DETAILS_TRAILER, type ErrorDetailsJson } from '@grpcforge/runtime/vocabulary';
import { errorMessage } from '../util/errors.js';

/** What a failed call's `grpc-status-details-bin` held: its details, or why they could not be read. */
export type CallStatusDetails =
  { readonly details: ErrorDetails; readonly problem?: undefined } | { readonly details?: undefined; readonly problem: string };

/**
 * Reads `grpc-status-details-bin` from a call's trailers: the binary google.rpc.Status (grpc-js hands `-bin` metadata
 * over as a Buffer, already base64-decoded), decoded as grpc-go's `status.FromError` does.
 * @returns `undefined` when the trailers carry no such entry (or none arrived); `problem`, one line, when the value
 * is not a google.rpc.Status: a caller prints it instead of failing the command
 */
export function statusDetailsOf(trailer: Metadata | undefined): CallStatusDetails | undefined {
  const value = trailer?.get(STATUS_DETAILS_TRAILER);
  if (value === undefined) return undefined;
  if (!(value instanceof Uint8Array)) return { problem: `${STATUS_DETAILS_TRAILER} is not binary metadata` };
  try {
    return { details: decodeStatusDetails(value).details };
  } catch (error) {
    return {
      problem: `${STATUS_DETAILS_TRAILER} (${value.length} bytes) is not a google.rpc.Status: ${errorMessage(error).split('\n')[0] ?? ''}`,
    };
  }
}

/** Details as JSON output carries them: entries of unknown types with their bytes in base64. */
export function errorDetailsJson(details: ErrorDetails): ErrorDetailsJson {
  const { unknown, ...known } = details;
  if (unknown === undefined) return known;
  return {
    ...known,
    unknown: unknown.map((entry) => ({ typeUrl: entry.typeUrl, value: Buffer.from(entry.value).toString('base64') })),
  };
}
