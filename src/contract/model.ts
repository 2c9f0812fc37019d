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
