/**
 * The contract model: a readonly view of the services in a buf-built FileDescriptorSet, named after proto concepts.
 * Built by {@link buildContractSet} from descriptors, never from .proto text.
 */

/** The four RPC kinds of gRPC, by whether the request and the response are streams. */
export type MethodKind = 'unary' | 'serverStreaming' | 'clientStreaming' | 'bidiStreaming';

/** `google.protobuf.MethodOptions.IdempotencyLevel`, as declared with `option idempotency_level`. */
export type IdempotencyLevel = 'unknown' | 'noSideEffects' | 'idempotent';

/** Every service the contracts declare, and the descriptor set they came from. */
export interface ContractSet {
  /** Services sorted by fully-qualified name. */
  readonly services: readonly ContractService[];
  /** The proto files, sorted by path. */
  readonly files: readonly ContractFile[];
  /** Error catalogs (enums whose values carry `(grpcforge.v1.error)`), sorted by fully-qualified name. */
  readonly errorCatalogs: readonly ContractErrorCatalog[];
  /** The FileDescriptorSet as buf built it (with source info), protobuf binary. */
  readonly descriptorSet: Uint8Array;
}

/** One .proto file. */
export interface ContractFile {
  /** Path relative to the module root, for example `auth/v1/auth.proto`. */
  readonly path: string;
  /** The proto package, for example `auth.v1`; empty when none. */
  readonly packageName: string;
  /** Paths of the files it imports. */
  readonly dependencies: readonly string[];
}

/** A service declaration. */
export interface ContractService {
  /** Fully-qualified name, for example `auth.v1.AuthService`. */
  readonly fullName: string;
  /** Short name, for example `AuthService`. */
  readonly name: string;
  readonly packageName: string;
  /** Path of the .proto file that declares it, relative to the module root. */
  readonly file: string;
  /** Leading comment, without comment markers; empty when none. */
  readonly comment: string;
  readonly deprecated: boolean;
  /** Methods in declaration order. */
  readonly methods: readonly ContractMethod[];
}

/** An RPC of a service. */
export interface ContractMethod {
  /** Name as declared, for example `ValidateToken`. */
  readonly name: string;
  /** gRPC method path, for example `/auth.v1.AuthService/ValidateToken` (gRPC over HTTP/2, "Path"). */
  readonly path: string;
  readonly kind: MethodKind;
  /** Fully-qualified request message name. */
  readonly inputType: string;
  /** Fully-qualified response message name. */
  readonly outputType: string;
  readonly idempotency: IdempotencyLevel;
  /** Leading comment, without comment markers; empty when none. */
  readonly comment: string;
  readonly deprecated: boolean;
}

/**
 * An error catalog: an enum whose values carry `(grpcforge.v1.error)` (grpcforge's `grpcforge/v1/errors.proto`). Each
 * such value is an error reason, sent as google.rpc.ErrorInfo with the status code it declares. A catalog belongs to
 * the services of its proto package: they get typed constructors, their consumers typed guards.
 */
export interface ContractErrorCatalog {
  /** Fully-qualified enum name, for example `auth.v1.AuthErrorReason`. */
  readonly fullName: string;
  /** Short enum name, for example `AuthErrorReason`. */
  readonly name: string;
  /** google.rpc.ErrorInfo.domain of every reason: `(grpcforge.v1.error_domain)`, else the proto package. */
  readonly domain: string;
  /** The proto package, for example `auth.v1`. */
  readonly package: string;
  /** Path of the .proto file that declares the enum, relative to the module root. */
  readonly file: string;
  /** Leading comment of the enum, without comment markers; empty when none. */
  readonly comment: string;
  /** The reasons, in declaration order (values without the option, such as `..._UNSPECIFIED`, are not reasons). */
  readonly reasons: readonly ContractErrorReason[];
}

/** One error reason of a {@link ContractErrorCatalog}. */
export interface ContractErrorReason {
  /** The value name minus the enum's UPPER_SNAKE_CASE prefix: `INVALID_CREDENTIALS`; google.rpc.ErrorInfo.reason. */
  readonly reason: string;
  /** The enum value as declared: `AUTH_ERROR_REASON_INVALID_CREDENTIALS`. */
  readonly enumValueName: string;
  /** The gRPC status code name it is answered with, for example `UNAUTHENTICATED` (never `OK`). */
  readonly code: string;
  /** google.rpc.ErrorInfo.metadata keys every error of this reason carries, lowerCamelCase, as declared. */
  readonly metadataKeys: readonly string[];
  /** The status message when the handler gives none: the declared one, else the reason in lower-case words. */
  readonly message: string;
  /** Leading comment of the enum value, without comment markers; empty when none. */
  readonly comment: string;
}
