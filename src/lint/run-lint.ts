import { relative } from 'node:path';
import { buildPlan } from '../codegen/generate.js';
import { applyPlan } from '../codegen/write.js';
import type { ResolvedConfig } from '../config/resolved.js';
import { loadContract } from '../contract/load-contract.js';
import { toPosix } from '../util/fs.js';
import { findAffectedServices } from './affected-consumers.js';
import { checkBreaking, type BreakingBaseline } from './breaking.js';
import { checkBufLint } from './buf-checks.js';
import { checkHandlers, checkNames } from './consistency.js';
import { checkDrift } from './drift.js';
import { sortFindings, type CheckStatus, type Finding, type LintReport } from './findings.js';

/** Options of {@link runLint}. */
export interface LintOptions {
  /** Compare with this baseline for breaking changes; breaking is skipped without one. */
  readonly against?: BreakingBaseline;
  /** @defaultValue true */
  readonly lint?: boolean;
  /** @defaultValue true */
  readonly breaking?: boolean;
  /** @defaultValue true */
  readonly drift?: boolean;
  /** Called when a check starts. */
  readonly onProgress?: (line: string) => void;
  /** Consistency findings found before the run (grpcforge.yaml's cross-field rules); drift is skipped when any. */
  readonly extraFindings?: readonly Finding[];
}

/**
 * The CI contract check: buf lint, buf breaking (with the workspace services each change breaks), workspace
 * consistency and generated-code drift. Produces findings, never prints.
 * @throws UserError when the check cannot run: contracts that do not compile, a missing ref, buf failing.
 */
export async function runLint(config: ResolvedConfig, options: LintOptions = {}): Promise<LintReport> {
  const progress = options.onProgress ?? (() => {});
  const loaded = await loadContract(config.contract.root, config.workspaceDir);
  const checks: CheckStatus[] = [];
  const findings: Finding[] = [];
  const record = (check: CheckStatus['check'], found: Finding[] | string) => {
    if (typeof found === 'string') checks.push({ check, ran: false, skipped: found, findings: 0 });
    else {
      checks.push({ check, ran: true, findings: found.length });
      findings.push(...found);
    }
  };

  if (options.lint ?? true) {
    progress('buf lint');
    record('lint', await checkBufLint(loaded.bufDir, config.workspaceDir));
  } else record('lint', '--no-lint');

  let against: string | undefined;
  if (!(options.breaking ?? true)) record('breaking', '--no-breaking');
  else if (!options.against) record('breaking', 'no --against');
  else {
    progress('buf breaking');
    const result = await checkBreaking(loaded.bufDir, config.workspaceDir, options.against);
    against = result.against;
    const moduleRoot = toPosix(relative(config.workspaceDir, config.contract.root));
    record(
      'breaking',
      result.findings.map((finding) => {
        const affects = findAffectedServices(finding, loaded.contract, config, moduleRoot);
        return affects.length > 0 ? { ...finding, affects } : finding;
      }),
    );
  }

  progress('workspace consistency');
  const nameFindings = [...(options.extraFindings ?? []), ...(await checkNames(config, loaded.contract))];
  if (nameFindings.length > 0) {
    record('consistency', nameFindings);
    record('drift', 'grpcforge.yaml has consistency errors');
  } else {
    progress('generated code (runs ts-proto through buf)');
    const plan = await buildPlan(config, loaded);
    const dryRun = (await applyPlan(config.workspaceDir, plan, { dryRun: true })).entries;
    record('consistency', checkHandlers(config, loaded.contract, dryRun));
    if (options.drift ?? true) record('drift', checkDrift(plan, dryRun));
    else record('drift', '--no-drift');
  }
  return { version: 1, ...(against ? { against } : {}), checks, findings: sortFindings(findings) };
}
