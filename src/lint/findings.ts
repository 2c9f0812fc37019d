/** The checks of `grpcforge lint`, in report order. */
export const LINT_CHECKS = ['lint', 'breaking', 'consistency', 'drift'] as const;

/** One of {@link LINT_CHECKS}. */
export type LintCheck = (typeof LINT_CHECKS)[number];

/** One finding. Findings are results, never exceptions: the CLI exits 1 when there is any. */
export interface Finding {
  readonly check: LintCheck;
  /** buf's rule id (`RPC_NO_DELETE`, `FIELD_LOWER_SNAKE_CASE`) or grpcforge's (`missing-handler`, `drift-changed`). */
  readonly rule: string;
  readonly message: string;
  /** Workspace-relative path, POSIX form; absent for findings about the whole workspace. */
  readonly file?: string;
  /** 1-based; absent when the finding has no position. */
  readonly line?: number;
  readonly column?: number;
  /** For breaking changes: the workspace services it breaks, as `user (consumes auth.v1.AuthService)`. */
  readonly affects?: readonly AffectedService[];
}

/** A workspace service a breaking change reaches, and how. */
export interface AffectedService {
  readonly service: string;
  readonly role: 'serves' | 'consumes';
  /** Fully-qualified name of the contract service that changed. */
  readonly contractService: string;
}

/** What a check did: ran and found N, or was skipped and why. */
export type CheckStatus =
  | { readonly check: LintCheck; readonly ran: true; readonly skipped?: undefined; readonly findings: number }
  | {
      readonly check: LintCheck;
      readonly ran: false;
      /** Why it did not run, for example `no --against`. */
      readonly skipped: string;
      readonly findings: 0;
    };

/**
 * The whole result of `grpcforge lint`, also its `--format json` output. Shape version 1: fields may be added,
 * never renamed or removed.
 */
export interface LintReport {
  readonly version: 1;
  /** What `--against` compared with, when breaking ran. */
  readonly against?: string;
  readonly checks: readonly CheckStatus[];
  /** Sorted by check (report order), file, line, column. */
  readonly findings: readonly Finding[];
}

/** Sorts findings the way reports show them. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const order = (check: LintCheck) => LINT_CHECKS.indexOf(check);
  return [...findings].sort(
    (a, b) =>
      order(a.check) - order(b.check) ||
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      a.rule.localeCompare(b.rule) ||
      a.message.localeCompare(b.message),
  );
}
