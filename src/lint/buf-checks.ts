import { runBufCheck, type BufDiagnostic } from '../contract/buf.js';
import type { Finding } from './findings.js';

/** Runs `buf lint` with the rules of buf.yaml; findings as buf gives them (file:line:col, rule id). */
export async function checkBufLint(bufDir: string, workspaceDir: string): Promise<Finding[]> {
  const diagnostics = await runBufCheck(['lint', '.'], bufDir, workspaceDir);
  return diagnostics.map((diagnostic) => toFinding('lint', diagnostic));
}

/** Turns a buf diagnostic into a finding of a check. */
export function toFinding(check: 'lint' | 'breaking', diagnostic: BufDiagnostic): Finding {
  return {
    check,
    rule: diagnostic.type,
    message: diagnostic.message,
    ...(diagnostic.path ? { file: diagnostic.path } : {}),
    ...(diagnostic.line ? { line: diagnostic.line, column: diagnostic.column } : {}),
  };
}
