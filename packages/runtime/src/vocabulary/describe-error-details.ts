import { ERROR_DETAIL_KINDS, type ErrorDetails } from './error-details.js';

/**
 * {@link ErrorDetails} with the bytes of entries of unknown types as base64 text: what JSON output carries
 * (`grpcforge call --json`, the dashboard explorer's answer). Every other entry is already JSON.
 */
export type ErrorDetailsJson = Omit<ErrorDetails, 'unknown'> & {
  /** Entries of types outside google/rpc/error_details.proto: their type URL and their bytes in base64. */
  readonly unknown?: readonly { readonly typeUrl: string; readonly value: string }[];
};

/** Bytes of a base64 text (without decoding it). */
const base64Bytes = (text: string) => Math.floor((text.length * 3) / 4) - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0);

/**
 * The details of an error as short lines for people, one per entry (one per violation or link), kind first, in the
 * order of `ERROR_DETAIL_KINDS`, then entries of unknown types:
 * `bad request: username: value length must be at least 3 characters [string.min_len]`,
 * `error info: INVALID_CREDENTIALS (auth.v1) username=bob`, `retry info: retry after 1500 ms`. A DebugInfo's stack
 * entries follow its line, indented by two spaces. The text is as the server sent it: a terminal printer escapes it.
 */
export function describeErrorDetails(details: ErrorDetails | ErrorDetailsJson): string[] {
  const lines: string[] = [];
  for (const kind of ERROR_DETAIL_KINDS) {
    switch (kind) {
      case 'errorInfo': {
        const info = details.errorInfo;
        if (!info) break;
        const metadata = Object.entries(info.metadata ?? {}).map(([key, value]) => ` ${key}=${value}`);
        lines.push(`error info: ${info.reason}${info.domain ? ` (${info.domain})` : ''}${metadata.join('')}`);
        break;
      }
      case 'badRequest':
        for (const violation of details.badRequest?.fieldViolations ?? []) {
          lines.push(
            `bad request: ${violation.field}: ${violation.description}${violation.reason ? ` [${violation.reason}]` : ''}`,
          );
        }
        break;
      case 'retryInfo':
        if (details.retryInfo) lines.push(`retry info: retry after ${details.retryInfo.retryDelayMs} ms`);
        break;
      case 'quotaFailure':
        for (const violation of details.quotaFailure?.violations ?? []) {
          lines.push(`quota failure: ${violation.subject}: ${violation.description}`);
        }
        break;
      case 'preconditionFailure':
        for (const violation of details.preconditionFailure?.violations ?? []) {
          lines.push(`precondition failure: ${violation.type} ${violation.subject}: ${violation.description}`);
        }
        break;
      case 'resourceInfo': {
        const resource = details.resourceInfo;
        if (!resource) break;
        lines.push(
          `resource info: ${resource.resourceType} ${resource.resourceName}` +
            (resource.owner ? ` (owner ${resource.owner})` : '') +
            (resource.description ? `: ${resource.description}` : ''),
        );
        break;
      }
      case 'requestInfo': {
        const request = details.requestInfo;
        if (request) lines.push(`request info: ${request.requestId}${request.servingData ? ` (${request.servingData})` : ''}`);
        break;
      }
      case 'help':
        for (const link of details.help?.links ?? []) lines.push(`help: ${link.description} <${link.url}>`);
        break;
      case 'localizedMessage': {
        const localized = details.localizedMessage;
        if (localized) lines.push(`localized message (${localized.locale}): ${localized.message}`);
        break;
      }
      case 'debugInfo': {
        const debug = details.debugInfo;
        if (!debug) break;
        lines.push(`debug info: ${debug.detail}`, ...debug.stackEntries.map((entry) => `  ${entry}`));
        break;
      }
    }
  }
  for (const other of details.unknown ?? []) {
    const bytes = typeof other.value === 'string' ? base64Bytes(other.value) : other.value.length;
    lines.push(`other detail: ${other.typeUrl} (${bytes} bytes)`);
  }
  return lines;
}
