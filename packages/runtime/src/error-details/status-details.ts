import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import {
  BadRequestSchema,
  DebugInfoSchema,
  ErrorInfoSchema,
  HelpSchema,
  LocalizedMessageSchema,
  PreconditionFailureSchema,
  QuotaFailureSchema,
  RequestInfoSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
} from '../gen/google/rpc/error_details_pb.js';
import { StatusSchema } from '../gen/google/rpc/status_pb.js';
import {
  ERROR_DETAIL_KINDS,
  STATUS_DETAILS_MAX_BYTES,
  hasErrorDetails,
  type ErrorDetailKind,
  type ErrorDetails,
  type FieldViolationDetail,
  type HelpLinkDetail,
  type PreconditionViolationDetail,
  type QuotaViolationDetail,
} from '../vocabulary/error-details.js';

/** A google.rpc.Status as plain data: what `grpc-status-details-bin` carries. */
export interface DecodedStatus {
  /** The gRPC status code (0–16). */
  readonly code: number;
  readonly message: string;
  readonly details: ErrorDetails;
}

/** How each kind of detail maps to and from its google.rpc message. */
interface DetailCodec<Kind extends ErrorDetailKind, Desc extends DescMessage> {
  readonly schema: Desc;
  toMessage(value: NonNullable<ErrorDetails[Kind]>): MessageShape<Desc>;
  fromMessage(message: MessageShape<Desc>): NonNullable<ErrorDetails[Kind]>;
  /**
   * The kind's list, when it has one: what trimming caps. With `joins`, a second entry of the same type decoded from
   * one Status adds its items to the first; other kinds keep the first entry.
   */
  readonly list?: DetailList<NonNullable<ErrorDetails[Kind]>>;
}

/** The list of a kind of detail: read, and replaced (a copy of the detail with other items). */
interface DetailList<Value> {
  items(value: Value): readonly unknown[];
  withItems(value: Value, items: readonly unknown[]): Value;
  /** Whether entries of the type decoded from one Status are joined into one. */
  readonly joins: boolean;
}

type Codecs = { readonly [Kind in ErrorDetailKind]: DetailCodec<Kind, DescMessage> };

function codec<Kind extends ErrorDetailKind, Desc extends DescMessage>(
  value: DetailCodec<Kind, Desc>,
): DetailCodec<Kind, DescMessage> {
  return value;
}

const MAX_SAFE_SECONDS = BigInt(Number.MAX_SAFE_INTEGER) / 1000n;
const MAX_SAFE_MS = Number(MAX_SAFE_SECONDS) * 1000;

const CODECS: Codecs = {
  errorInfo: codec({
    schema: ErrorInfoSchema,
    toMessage: (value) =>
      create(ErrorInfoSchema, {
        reason: value.reason,
        domain: value.domain,
        // Strings by type; JavaScript callers that pass a number (`{ limit: 10 }`) get its text, not a failed encode.
        metadata: Object.fromEntries(Object.entries(value.metadata ?? {}).map(([key, text]) => [key, String(text as unknown)])),
      }),
    fromMessage: (message) => ({ reason: message.reason, domain: message.domain, metadata: { ...message.metadata } }),
  }),
  badRequest: codec({
    schema: BadRequestSchema,
    toMessage: (value) =>
      create(BadRequestSchema, {
        fieldViolations: value.fieldViolations.map((violation) => ({
          field: violation.field,
          description: violation.description,
          reason: violation.reason ?? '',
        })),
      }),
    fromMessage: (message) => ({
      fieldViolations: message.fieldViolations.map((violation) => ({
        field: violation.field,
        description: violation.description,
        ...(violation.reason ? { reason: violation.reason } : {}),
      })),
    }),
    list: {
      items: (value) => value.fieldViolations,
      withItems: (_, items) => ({ fieldViolations: items as FieldViolationDetail[] }),
      joins: true,
    },
  }),
  retryInfo: codec({
    schema: RetryInfoSchema,
    toMessage: (value) => {
      // A delay that is not a finite number of ms (NaN from arithmetic on a missing header) is sent as 0, not thrown:
      // error mapping encodes while answering an error, where a RangeError from BigInt would replace the status.
      const ms = Number.isFinite(value.retryDelayMs) ? Math.min(Math.max(0, Math.round(value.retryDelayMs)), MAX_SAFE_MS) : 0;
      return create(RetryInfoSchema, {
        retryDelay: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 },
      });
    },
    fromMessage: (message) => {
      const seconds = message.retryDelay?.seconds ?? 0n;
      // A negative Duration (seconds and nanos share its sign) is no delay.
      if (seconds < 0n || (seconds === 0n && (message.retryDelay?.nanos ?? 0) < 0)) return { retryDelayMs: 0 };
      const clamped = seconds > MAX_SAFE_SECONDS ? MAX_SAFE_SECONDS : seconds;
      return { retryDelayMs: Number(clamped) * 1000 + Math.round((message.retryDelay?.nanos ?? 0) / 1_000_000) };
    },
  }),
  quotaFailure: codec({
    schema: QuotaFailureSchema,
    toMessage: (value) =>
      create(QuotaFailureSchema, {
        violations: value.violations.map((violation) => ({ subject: violation.subject, description: violation.description })),
      }),
    fromMessage: (message) => ({
      violations: message.violations.map((violation) => ({ subject: violation.subject, description: violation.description })),
    }),
    list: {
      items: (value) => value.violations,
      withItems: (_, items) => ({ violations: items as QuotaViolationDetail[] }),
      joins: true,
    },
  }),
  preconditionFailure: codec({
    schema: PreconditionFailureSchema,
    toMessage: (value) =>
      create(PreconditionFailureSchema, { violations: value.violations.map((violation) => ({ ...violation })) }),
    fromMessage: (message) => ({
      violations: message.violations.map((violation) => ({
        type: violation.type,
        subject: violation.subject,
        description: violation.description,
      })),
    }),
    list: {
      items: (value) => value.violations,
      withItems: (_, items) => ({ violations: items as PreconditionViolationDetail[] }),
      joins: true,
    },
  }),
  resourceInfo: codec({
    schema: ResourceInfoSchema,
    toMessage: (value) =>
      create(ResourceInfoSchema, {
        resourceType: value.resourceType,
        resourceName: value.resourceName,
        owner: value.owner ?? '',
        description: value.description ?? '',
      }),
    fromMessage: (message) => ({
      resourceType: message.resourceType,
      resourceName: message.resourceName,
      ...(message.owner ? { owner: message.owner } : {}),
      ...(message.description ? { description: message.description } : {}),
    }),
  }),
  requestInfo: codec({
    schema: RequestInfoSchema,
    toMessage: (value) => create(RequestInfoSchema, { requestId: value.requestId, servingData: value.servingData ?? '' }),
    fromMessage: (message) => ({
      requestId: message.requestId,
      ...(message.servingData ? { servingData: message.servingData } : {}),
    }),
  }),
  help: codec({
    schema: HelpSchema,
    toMessage: (value) => create(HelpSchema, { links: value.links.map((link) => ({ ...link })) }),
    fromMessage: (message) => ({ links: message.links.map((link) => ({ description: link.description, url: link.url })) }),
    list: {
      items: (value) => value.links,
      withItems: (_, items) => ({ links: items as HelpLinkDetail[] }),
      joins: true,
    },
  }),
  localizedMessage: codec({
    schema: LocalizedMessageSchema,
    toMessage: (value) => create(LocalizedMessageSchema, { locale: value.locale, message: value.message }),
    fromMessage: (message) => ({ locale: message.locale, message: message.message }),
  }),
  debugInfo: codec({
    schema: DebugInfoSchema,
    toMessage: (value) => create(DebugInfoSchema, { stackEntries: [...value.stackEntries], detail: value.detail }),
    fromMessage: (message) => ({ stackEntries: [...message.stackEntries], detail: message.detail }),
    list: {
      items: (value) => value.stackEntries,
      withItems: (value, items) => ({ ...value, stackEntries: items as string[] }),
      joins: false,
    },
  }),
};

const KIND_BY_TYPE_NAME = new Map<string, ErrorDetailKind>(
  ERROR_DETAIL_KINDS.map((kind) => [CODECS[kind].schema.typeName, kind]),
);

/**
 * Encodes a google.rpc.Status with its details, as the value of `grpc-status-details-bin` (the binary message; gRPC
 * base64-encodes `-bin` metadata on the wire itself). Entries are packed as `google.protobuf.Any` with
 * `type.googleapis.com/google.rpc.<Type>` URLs, in the order of `ERROR_DETAIL_KINDS`, then `unknown` as given.
 * @param code the gRPC status code (0–16), which must equal the call's `grpc-status`
 * @param message the status message, which should equal the call's `grpc-message`
 */
export function encodeStatusDetails(code: number, message: string, details: ErrorDetails): Uint8Array {
  const packed: Any[] = [];
  for (const kind of ERROR_DETAIL_KINDS) {
    const value = details[kind];
    if (value === undefined) continue;
    const entry = CODECS[kind] as DetailCodec<typeof kind, DescMessage>;
    packed.push(anyPack(entry.schema, entry.toMessage(value as never)));
  }
  for (const other of details.unknown ?? [])
    packed.push({ $typeName: 'google.protobuf.Any', typeUrl: other.typeUrl, value: other.value });
  return toBinary(StatusSchema, create(StatusSchema, { code, message, details: packed }));
}

/** The kinds left out, in turn, of details too large even with one entry per list: the least telling first. */
const DROP_ORDER: readonly (ErrorDetailKind | 'unknown')[] = [
  'debugInfo',
  'unknown',
  'help',
  'localizedMessage',
  'requestInfo',
  'resourceInfo',
  'preconditionFailure',
  'quotaFailure',
  'retryInfo',
  'badRequest',
  'errorInfo',
];

/**
 * {@link encodeStatusDetails} within `maxBytes`: details that encode larger are trimmed, first by keeping only the
 * first entries of their lists (the longest number that fits: the first violation is the one a status message names),
 * then by leaving out whole kinds in {@link DROP_ORDER}.
 * @param maxBytes @defaultValue {@link STATUS_DETAILS_MAX_BYTES}
 * @returns `undefined` when not even the status's code and message with one kind fit (a message near `maxBytes`)
 */
export function encodeStatusDetailsWithin(
  code: number,
  message: string,
  details: ErrorDetails,
  maxBytes: number = STATUS_DETAILS_MAX_BYTES,
): Uint8Array | undefined {
  const whole = encodeStatusDetails(code, message, details);
  if (whole.byteLength <= maxBytes) return whole;
  // The longest cap on every list that fits, by bisection: each step is one encode, and only oversized errors get here.
  let fitting: Uint8Array | undefined;
  let low = 1;
  let high = longestList(details) - 1;
  while (low <= high) {
    const cap = Math.floor((low + high) / 2);
    const bytes = encodeStatusDetails(code, message, withListsCapped(details, cap));
    if (bytes.byteLength <= maxBytes) {
      fitting = bytes;
      low = cap + 1;
    } else high = cap - 1;
  }
  if (fitting) return fitting;
  let left: ErrorDetails = withListsCapped(details, 1);
  for (const kind of DROP_ORDER) {
    if (left[kind] === undefined) continue;
    left = Object.fromEntries(Object.entries(left).filter(([name]) => name !== kind));
    if (!hasErrorDetails(left)) return undefined;
    const bytes = encodeStatusDetails(code, message, left);
    if (bytes.byteLength <= maxBytes) return bytes;
  }
  return undefined;
}

/** The lists of `details` that trimming caps: every kind's with a list, and the entries of unknown types. */
function listsOf(details: ErrorDetails): (readonly unknown[])[] {
  const lists = ERROR_DETAIL_KINDS.flatMap((kind) => {
    const value = details[kind];
    const list = CODECS[kind].list;
    return value !== undefined && list ? [list.items(value as never)] : [];
  });
  return details.unknown ? [...lists, details.unknown] : lists;
}

function longestList(details: ErrorDetails): number {
  return Math.max(0, ...listsOf(details).map((items) => items.length));
}

/** `details` with at most `cap` entries in each list. */
function withListsCapped(details: ErrorDetails, cap: number): ErrorDetails {
  const capped: Record<string, unknown> = { ...details };
  for (const kind of ERROR_DETAIL_KINDS) {
    const value = details[kind];
    const list = CODECS[kind].list;
    if (value !== undefined && list) capped[kind] = list.withItems(value as never, list.items(value as never).slice(0, cap));
  }
  if (details.unknown) capped['unknown'] = details.unknown.slice(0, cap);
  return capped;
}

/**
 * Decodes the value of `grpc-status-details-bin` (as grpc-go's `status.FromError` and grpc-java's
 * `StatusProto.fromThrowable` do).
 * An entry of a known type whose bytes do not decode as that type is kept, undecoded, in `unknown`.
 * @throws Error when the bytes are not a google.rpc.Status
 */
export function decodeStatusDetails(bytes: Uint8Array): DecodedStatus {
  const status = fromBinary(StatusSchema, bytes);
  const details: Record<string, unknown> = {};
  const unknown: { typeUrl: string; value: Uint8Array }[] = [];
  for (const entry of status.details) {
    const typeName = entry.typeUrl.slice(entry.typeUrl.lastIndexOf('/') + 1);
    const kind = KIND_BY_TYPE_NAME.get(typeName);
    if (kind === undefined) {
      unknown.push({ typeUrl: entry.typeUrl, value: copyOf(entry.value) });
      continue;
    }
    const entryCodec = CODECS[kind] as DetailCodec<typeof kind, DescMessage>;
    let value: ReturnType<typeof entryCodec.fromMessage>;
    try {
      value = entryCodec.fromMessage(fromBinary(entryCodec.schema, entry.value));
    } catch {
      // One malformed entry does not cost the caller the others (nor the status's own code and message).
      unknown.push({ typeUrl: entry.typeUrl, value: copyOf(entry.value) });
      continue;
    }
    const previous = details[kind] as typeof value | undefined;
    const list = entryCodec.list;
    details[kind] =
      previous === undefined
        ? value
        : list?.joins
          ? list.withItems(previous, [...list.items(previous), ...list.items(value)])
          : previous;
  }
  if (unknown.length > 0) details['unknown'] = unknown;
  return { code: status.code, message: status.message, details: details };
}

/**
 * A plain `Uint8Array` of its own: decoded from a trailer's `Buffer`, the bytes would be a `Buffer` view that keeps the
 * whole trailer alive.
 */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
