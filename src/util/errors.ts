/**
 * The error taxonomy of grpcforge. The CLI maps these to exit codes in one place (`cli/main.ts`):
 * a {@link UserError} exits 2 (bad config, contract, flags or environment), an {@link InternalError} or anything else
 * is a bug, printed with versions and a request to report it.
 */
import type { ServiceHostErrorCode } from '@grpcforge/runtime';

/**
 * Every code grpcforge's own errors carry, each with what it means (one line). The runtime's service host has its
 * own closed set, {@link ServiceHostErrorCode} (documented in the runtime's `host-error.ts`); `grpcforge serve` and
 * the store commands pass those on unchanged, and the CLI uses a few of them for the same cause (`handlers-failed`,
 * `not-generated`, `listen-failed`), so they are not repeated here.
 */
export const GRPCFORGE_ERROR_CODES = {
  'ambiguous-stub': '`serve --stub` names a service name that serves several gRPC services',
  'bad-duration': 'a duration flag or setting is not a number with a unit such as 30s, 15m or 7d',
  'bad-flag': 'a command-line flag or argument is malformed, out of range or not allowed with another',
  'bad-header-file': '`call -H @file`: the header file cannot be read, or a line of it is not `name: value`',
  'bad-request': '`call -d`: a request message is not JSON or does not fit the request type',
  'buf-failed': 'the buf CLI could not be run, or failed for a reason other than the contracts',
  'buf-yaml-missing': 'the contract folder has no buf.yaml',
  'build-failed': 'several services did not build (each reason is a detail line)',
  'ca-unreadable': 'the development CA files exist but cannot be read or used',
  'config-invalid': 'grpcforge.yaml parses but breaks the schema or a cross-field rule',
  'config-not-found': 'no grpcforge.yaml in the folder or its parents, and none given with --config',
  'config-unreadable': 'grpcforge.yaml cannot be read',
  'contract-invalid': '`buf build` rejects the .proto contracts',
  'deploy-namespace-invalid': '`deploy --namespace` is not a Kubernetes namespace name',
  'deploy-out-invalid': '`deploy --out` points outside the workspace or at a file',
  'generate-failed': "`dev`'s first generation failed for a reason of the environment (a file system error)",
  'grpc-trace-refused': "GRPC_TRACE would print every request's credentials; `serve` refuses without --allow-grpc-trace",
  'image-missing': '`lint --against-image` names a file that does not exist',
  'init-not-empty': '`init` targets a folder that is not empty',
  internal: 'a bug in grpcforge (an InternalError): the CLI asks for an issue',
  'key-exists': '`keys create --name` names a key that exists',
  'name-clash': 'two contract names map to the same generated identifier or file',
  'not-a-git-repository': '`lint --against <ref>` runs outside a git repository',
  'nothing-to-serve': 'a service serves no gRPC service (nothing to serve, stub or build)',
  'ref-missing': '`lint --against <ref>` names a ref that is not a commit here',
  'reflection-failed': "`call` cannot read the server's reflection (not served, or the service is not listed)",
  'scenario-invalid': '`serve --stub --scenario` names a file that cannot be read or does not fit the service',
  'template-invalid': "the contract's buf.gen.yaml template cannot be read or is not the one grpcforge expects",
  'tls-missing': '`certs init` needs a tls section with a ca in grpcforge.yaml',
  'type-errors': '`build`: the service has TypeScript errors (each is a detail line)',
  'unknown-key': '`keys revoke` names no active API key',
  'unknown-method': '`call` names an RPC the service does not have (or names it ambiguously)',
  'unknown-request': '`logs --request-id` names no stored call',
  'unknown-service': 'a command names a service that is not in grpcforge.yaml or the contracts',
  'validation-rules-invalid': 'a buf.validate rule of the contract does not compile (a CEL expression, a rule of the wrong type)',
  // A host code listed here would be documented twice: its type, `never`, then refuses any description.
} as const satisfies Record<string, string> & Partial<Record<ServiceHostErrorCode, never>>;

/** The stable code of a {@link GrpcforgeError}: one of {@link GRPCFORGE_ERROR_CODES} or a {@link ServiceHostErrorCode}. */
export type GrpcforgeErrorCode = keyof typeof GRPCFORGE_ERROR_CODES | ServiceHostErrorCode;

/** The code of a {@link UserError}: any but `internal`. */
export type UserErrorCode = Exclude<GrpcforgeErrorCode, 'internal'>;

/** Base class: every error grpcforge throws on purpose has a stable, machine-readable `code`. */
export class GrpcforgeError extends Error {
  /** Stable identifier, for example `config-invalid` or `contract-invalid` (see {@link GRPCFORGE_ERROR_CODES}). */
  readonly code: GrpcforgeErrorCode;

  constructor(code: GrpcforgeErrorCode, message: string, options?: { cause?: unknown }) {
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
  declare readonly code: UserErrorCode;
  readonly details: readonly string[];

  constructor(code: UserErrorCode, message: string, details: readonly string[] = [], options?: { cause?: unknown }) {
    super(code, message, options);
    this.details = details;
  }
}

/** A bug in grpcforge itself (code `internal`). The CLI prints it with versions and asks for an issue. */
export class InternalError extends GrpcforgeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('internal', message, options);
  }
}

/** Returns the error's message, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The code of an error Node's system calls raise (`ENOENT`, `EACCES`, `EADDRINUSE`, …: an `Error` with a string
 * `code` and a numeric `errno`), or `undefined` for anything else, bugs included.
 */
export function systemErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, errno } = error as NodeJS.ErrnoException;
  return typeof code === 'string' && typeof errno === 'number' ? code : undefined;
}
