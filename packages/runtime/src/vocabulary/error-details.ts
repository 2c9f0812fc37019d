/**
 * The rich error model (google.rpc.Status, https://google.aip.dev/193) as plain data: the details an error carries to
 * the client in the `grpc-status-details-bin` trailer, one optional entry per type of googleapis'
 * `google/rpc/error_details.proto`. Handlers give them to `DomainError`/`RichServerError`; clients read them from
 * `RichClientError.errorDetails`; `grpcforge call --json`, the dashboard and the store show the same shapes.
 *
 * A Status may hold several entries of one type: on decoding, the lists of `BadRequest`, `QuotaFailure`,
 * `PreconditionFailure` and `Help` are joined and the first entry of any other type is kept. An entry of a type that
 * is not in error_details.proto is kept, undecoded, in `unknown`.
 */

/** google.rpc.BadRequest.FieldViolation: one field of the request that is wrong, and why. */
export interface FieldViolationDetail {
  /** A path to the field, dots between fields and `[index]` or `["key"]` for elements (AIP-193), e.g. `user.emails[2]`. */
  readonly field: string;
  /** What is wrong with it, for a developer. */
  readonly description: string;
  /** A machine-readable reason, UPPER_SNAKE_CASE, e.g. the protovalidate rule id `string.min_len`. @defaultValue `''` */
  readonly reason?: string;
}

/** google.rpc.ErrorInfo: why the error happened, as a stable reason within a domain, with its context. */
export interface ErrorInfoDetail {
  /** UPPER_SNAKE_CASE, at most 63 characters, unique within `domain`, e.g. `QUOTA_EXCEEDED`. */
  readonly reason: string;
  /** Who defines the reason: the service or its package, e.g. `auth.v1` or `pubsub.googleapis.com`. */
  readonly domain: string;
  /** Context of this occurrence; keys lowerCamelCase, at most 64 characters (AIP-193). @defaultValue `{}` */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** google.rpc.QuotaFailure.Violation: a quota check that failed. */
export interface QuotaViolationDetail {
  /** Whose quota, e.g. `project:123` or `key:gf_ab12`. */
  readonly subject: string;
  readonly description: string;
}

/** google.rpc.PreconditionFailure.Violation: a precondition that is not met. */
export interface PreconditionViolationDetail {
  /** The kind of precondition, service-specific, e.g. `TOS`. */
  readonly type: string;
  /** What the precondition is about, relative to `type`. */
  readonly subject: string;
  readonly description: string;
}

/** google.rpc.ResourceInfo: the resource the error is about. */
export interface ResourceInfoDetail {
  /** A type name, e.g. `user.v1.User` or a type URL. */
  readonly resourceType: string;
  readonly resourceName: string;
  /** @defaultValue `''` */
  readonly owner?: string;
  /** @defaultValue `''` */
  readonly description?: string;
}

/** google.rpc.Help.Link */
export interface HelpLinkDetail {
  readonly description: string;
  readonly url: string;
}

/**
 * The details of an error, by type. Every entry is optional; an error with none sends no `grpc-status-details-bin`.
 * `debugInfo` is sent only when the server allows it (`server.errors.debugInfo`), since a stack trace is for the
 * service's own developers.
 */
export interface ErrorDetails {
  /** google.rpc.BadRequest: the request's fields that are wrong (what validation answers). */
  readonly badRequest?: { readonly fieldViolations: readonly FieldViolationDetail[] };
  /** google.rpc.ErrorInfo: the error's reason (a contract's declared error reasons), domain and metadata. */
  readonly errorInfo?: ErrorInfoDetail;
  /** google.rpc.RetryInfo: how long to wait before retrying, in ms. */
  readonly retryInfo?: { readonly retryDelayMs: number };
  /** google.rpc.QuotaFailure */
  readonly quotaFailure?: { readonly violations: readonly QuotaViolationDetail[] };
  /** google.rpc.PreconditionFailure */
  readonly preconditionFailure?: { readonly violations: readonly PreconditionViolationDetail[] };
  /** google.rpc.ResourceInfo */
  readonly resourceInfo?: ResourceInfoDetail;
  /** google.rpc.RequestInfo: the request id, to quote when reporting the error. */
  readonly requestInfo?: { readonly requestId: string; readonly servingData?: string };
  /** google.rpc.Help */
  readonly help?: { readonly links: readonly HelpLinkDetail[] };
  /** google.rpc.LocalizedMessage: a message for the end user, in `locale` (BCP-47). */
  readonly localizedMessage?: { readonly locale: string; readonly message: string };
  /** google.rpc.DebugInfo: only sent when the server allows it. */
  readonly debugInfo?: { readonly stackEntries: readonly string[]; readonly detail: string };
  /** Entries of other types, as their `google.protobuf.Any` type URL and bytes. */
  readonly unknown?: readonly { readonly typeUrl: string; readonly value: Uint8Array }[];
}

/** The trailer that carries the binary google.rpc.Status (gRPC's rich error model; grpc-go's `status.FromError`). */
export const STATUS_DETAILS_TRAILER = 'grpc-status-details-bin';

/**
 * The most a server sends in `grpc-status-details-bin`, in bytes of the binary google.rpc.Status (base64 on the wire
 * makes it a third more). grpc-java clients refuse a status whose metadata passes 8 KiB by default, and a trailer past
 * the client's HTTP/2 header list limit (64 KiB for Node) never arrives at all; details that would be larger are
 * trimmed: lists keep their first entries, then kinds are left out, `debugInfo` first and `errorInfo` last.
 */
export const STATUS_DETAILS_MAX_BYTES = 4096;

/** The kinds of {@link ErrorDetails}, in the order they are encoded. */
export const ERROR_DETAIL_KINDS = [
  'errorInfo',
  'badRequest',
  'retryInfo',
  'quotaFailure',
  'preconditionFailure',
  'resourceInfo',
  'requestInfo',
  'help',
  'localizedMessage',
  'debugInfo',
] as const satisfies readonly (keyof ErrorDetails)[];

/** One of {@link ERROR_DETAIL_KINDS}. */
export type ErrorDetailKind = (typeof ERROR_DETAIL_KINDS)[number];

/** Whether `details` holds anything to send. */
export function hasErrorDetails(details: ErrorDetails | undefined): details is ErrorDetails {
  if (!details) return false;
  return ERROR_DETAIL_KINDS.some((kind) => details[kind] !== undefined) || (details.unknown?.length ?? 0) > 0;
}
