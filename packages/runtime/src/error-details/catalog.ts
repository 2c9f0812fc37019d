import { Status } from 'nice-grpc';
import { DomainError } from '../errors.js';
import { isRichClientError, type RichClientError } from './rich-errors.js';

/**
 * Helpers for the error catalogs `grpcforge generate` writes (`src/gen/errors/<enum>.ts`): a contract's enum whose
 * values carry `(grpcforge.v1.error)` becomes typed constructors for the handlers of its package's services and typed
 * guards for their consumers. The reason travels as google.rpc.ErrorInfo `{ reason, domain, metadata }` in
 * `grpc-status-details-bin` (AIP-193).
 */

/** A gRPC status code by its name, as a catalog declares it: any code but OK. */
export type CatalogStatusName = Exclude<keyof typeof Status, 'OK'>;

/** A value of an error's metadata: google.rpc.ErrorInfo.metadata holds strings, so it is sent as `String(value)`. */
export type CatalogMetadataValue = string | number | boolean | bigint;

/** One error of a catalog reason, as a generated constructor builds it. */
export interface CatalogErrorSpec {
  /** The status code the reason declares. */
  readonly code: CatalogStatusName;
  /** google.rpc.ErrorInfo.reason, UPPER_SNAKE_CASE. */
  readonly reason: string;
  /** google.rpc.ErrorInfo.domain. */
  readonly domain: string;
  /** The status message. */
  readonly message: string;
  /** The declared metadata keys with this occurrence's values. @defaultValue `{}` */
  readonly metadata?: Readonly<Record<string, CatalogMetadataValue>>;
}

/**
 * The `DomainError` a generated catalog constructor returns: status `spec.code`, message `spec.message`, and
 * `details.errorInfo = { reason, domain, metadata }` with every metadata value as a string. Error mapping sends it as
 * the status with those details.
 */
export function catalogError(spec: CatalogErrorSpec): DomainError {
  const metadata = Object.fromEntries(Object.entries(spec.metadata ?? {}).map(([key, value]) => [key, String(value)]));
  return new DomainError(Status[spec.code], spec.message, {
    details: { errorInfo: { reason: spec.reason, domain: spec.domain, metadata } },
  });
}

/**
 * A {@link RichClientError} of one catalog reason: what a generated guard narrows to. `errorInfo` is there, with the
 * reason and the declared metadata keys (strings).
 */
export type CatalogClientError<Reason extends string, MetadataKey extends string = never> = RichClientError & {
  readonly errorDetails: {
    readonly errorInfo: {
      readonly reason: Reason;
      readonly domain: string;
      readonly metadata: { readonly [Key in MetadataKey]: string };
    };
  };
};

/**
 * Whether `error` is a {@link RichClientError} whose google.rpc.ErrorInfo has this `reason` in this `domain` (both:
 * one reason may mean different things in two domains) and a string for every key of `metadataKeys`. A status of
 * the reason without a declared key (a server that broke the contract) is not narrowed, so the types stay true.
 */
export function isCatalogError(error: unknown, domain: string, reason: string, metadataKeys: readonly string[] = []): boolean {
  if (!isRichClientError(error)) return false;
  const info = error.errorDetails.errorInfo;
  if (info?.reason !== reason || info.domain !== domain) return false;
  return metadataKeys.every((key) => typeof info.metadata?.[key] === 'string');
}
