/** The versions a bug report needs: grpcforge's, Node's and grpc-js's (`undefined` when it is not installed). */
export interface BugReportContext {
  readonly grpcforge: string;
  readonly node: string;
  readonly grpcJs: string | undefined;
  /** Where issues are opened (package.json's `bugs.url`); without it the report asks for an issue in general. */
  readonly issuesUrl: string | undefined;
}

/**
 * The lines the CLI prints on stderr for a bug in grpcforge (an `InternalError`, or anything thrown that is not a
 * `GrpcforgeError`), as changesets prints its internal errors: what happened (with the stack and causes), the
 * versions, and a request to report it with a link. The first line starts `grpcforge: internal error: `.
 */
export function formatInternalError(error: unknown, context: BugReportContext): string[] {
  const lines = [`grpcforge: internal error: ${describe(error)}`];
  for (let cause = causeOf(error), depth = 0; cause !== undefined && depth < 5; cause = causeOf(cause), depth++) {
    lines.push(`  caused by: ${describe(cause)}`);
  }
  lines.push(
    `  grpcforge ${context.grpcforge}, node ${context.node}, @grpc/grpc-js ${context.grpcJs ?? '(not installed)'}`,
    `  this is a bug in grpcforge: please report it${context.issuesUrl ? ` at ${context.issuesUrl}` : ''} with the command you ran and this output`,
  );
  return lines;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function causeOf(error: unknown): unknown {
  return error instanceof Error ? error.cause : undefined;
}
