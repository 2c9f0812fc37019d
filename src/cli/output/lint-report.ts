import { describeAffected } from '../../lint/affected-consumers.js';
import { LINT_CHECKS, type LintReport } from '../../lint/findings.js';

/**
 * Text for people: one group per check (skipped ones say why), findings grouped by file, a per-rule count when a
 * check has many, and a summary line.
 */
export function formatLintText(report: LintReport): string[] {
  const lines: string[] = [];
  for (const check of LINT_CHECKS) {
    const status = report.checks.find((candidate) => candidate.check === check);
    if (!status) continue;
    const title = check === 'breaking' && report.against ? `breaking (against ${report.against})` : check;
    if (!status.ran) {
      lines.push(`${title}: skipped (${status.skipped})`);
      continue;
    }
    const findings = report.findings.filter((finding) => finding.check === check);
    if (findings.length === 0) {
      lines.push(`${title}: ok`);
      continue;
    }
    lines.push(`${title}: ${findings.length} finding${findings.length === 1 ? '' : 's'}`);
    let file: string | undefined;
    for (const finding of findings) {
      if (finding.file !== file) {
        file = finding.file;
        lines.push(`  ${file ?? '(workspace)'}`);
      }
      const position = finding.line !== undefined ? `${finding.line}:${finding.column ?? 1}` : '-';
      lines.push(`    ${position.padEnd(8)}${finding.rule.padEnd(32)}${finding.message}`);
      if (finding.affects?.length) lines.push(`    ${''.padEnd(40)}breaks ${describeAffected(finding.affects)}`);
    }
    if (findings.length > 20) {
      const byRule = new Map<string, number>();
      for (const finding of findings) byRule.set(finding.rule, (byRule.get(finding.rule) ?? 0) + 1);
      const counts = [...byRule].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      lines.push(`  by rule: ${counts.map(([rule, count]) => `${rule} ${count}`).join(', ')}`);
    }
  }
  const total = report.findings.length;
  const perCheck = LINT_CHECKS.map(
    (check) => [check, report.findings.filter((finding) => finding.check === check).length] as const,
  )
    .filter(([, count]) => count > 0)
    .map(([check, count]) => `${check} ${count}`);
  lines.push(
    total === 0 ? 'grpcforge lint: clean' : `grpcforge lint: ${total} finding${total === 1 ? '' : 's'} (${perCheck.join(', ')})`,
  );
  return lines;
}

/**
 * GitHub Actions workflow commands: one `::error` annotation per finding, then a notice with the summary.
 * @param pathPrefix the workspace's folder inside the repository (`platform/`), since annotations are placed by paths
 * relative to the repository root.
 */
export function formatLintGithub(report: LintReport, pathPrefix = ''): string[] {
  const escapeData = (value: string) => value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const escapeProperty = (value: string) => escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const lines = report.findings.map((finding) => {
    const properties = [
      ...(finding.file ? [`file=${escapeProperty(pathPrefix + finding.file)}`] : []),
      ...(finding.line !== undefined ? [`line=${finding.line}`, `col=${finding.column ?? 1}`] : []),
      `title=${escapeProperty(`${finding.check}: ${finding.rule}`)}`,
    ];
    const affects = finding.affects?.length ? ` (breaks ${describeAffected(finding.affects)})` : '';
    return `::error ${properties.join(',')}::${escapeData(finding.message + affects)}`;
  });
  const summary = formatLintText(report).at(-1)!;
  lines.push(`::notice title=grpcforge lint::${escapeData(summary)}`);
  return lines;
}
