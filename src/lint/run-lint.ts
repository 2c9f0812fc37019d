import { relative } from 'node:path';
import { buildPlan } from '../codegen/generate.js';
import { applyPlan } from '../codegen/write.js';
import { formatConfigProblem, loadConfig } from '../config/load.js';
import type { ConfigProblem, ResolvedConfig } from '../config/resolved.js';
import { UserError } from '../util/errors.js';
import { loadContract } from '../contract/load-contract.js';
import { toPosix } from '../util/fs.js';
import { createAffectedServicesFinder } from './affected-consumers.js';
import { checkBreaking, type BreakingBaseline } from './breaking.js';
import { checkBufLint } from './buf-checks.js';
import { checkHandlers, checkMtlsIdentities, checkNames, configRuleFindings } from './consistency.js';
import { checkDeployDrift } from './deploy-drift.js';
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
  /**
   * Problems grpcforge.yaml's cross-field rules found (from {@link loadConfigForLint}): consistency findings, and
   * drift is skipped when there is any.
   */
  readonly configProblems?: readonly ConfigProblem[];
}

/**
 * Loads grpcforge.yaml for the lint step: a file that fails the schema stops the check, while cross-field rule errors
 * (a consumed service without a provider, two providers) are returned to be reported as findings.
 * @throws UserError `config-invalid` with one line per schema error.
 */
export async function loadConfigForLint(configPath: string): Promise<{ config: ResolvedConfig; ruleProblems: ConfigProblem[] }> {
  const loaded = await loadConfig(configPath);
  const schemaErrors = loaded.errors.filter((problem) => problem.rule === undefined);
  if (!loaded.unchecked || schemaErrors.length > 0) {
    throw new UserError(
      'config-invalid',
      'grpcforge.yaml is not valid',
      loaded.errors.map((problem) => formatConfigProblem(configPath, problem)),
    );
  }
  return { config: loaded.unchecked, ruleProblems: [...loaded.errors] };
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

  // A workspace from `init --empty` has no contract yet: buf would fail ("had no .proto files"), and there is
  // nothing to lint.
  const noContracts = loaded.contract.files.length === 0;
  const contractRoot = `${toPosix(relative(config.workspaceDir, config.contract.root)) || '.'}/`;
  if (!(options.lint ?? true)) record('lint', '--no-lint');
  else if (noContracts) record('lint', `no .proto files in ${contractRoot} yet`);
  else {
    progress('buf lint');
    record('lint', await checkBufLint(loaded.bufDir, config.workspaceDir));
  }

  let against: string | undefined;
  if (!(options.breaking ?? true)) record('breaking', '--no-breaking');
  else if (!options.against) record('breaking', 'no --against');
  else {
    progress('buf breaking');
    const result = await checkBreaking(loaded.bufDir, config.workspaceDir, options.against, noContracts);
    against = result.against;
    const affectedBy = createAffectedServicesFinder(
      loaded.contract,
      config,
      toPosix(relative(config.workspaceDir, config.contract.root)),
    );
    if (result.skipped !== undefined) record('breaking', result.skipped);
    else
      record(
        'breaking',
        result.findings.map((finding) => {
          const affects = affectedBy(finding);
          return affects.length > 0 ? { ...finding, affects } : finding;
        }),
      );
  }

  progress('workspace consistency');
  const identityFindings = await checkMtlsIdentities(config);
  const nameFindings = [
    ...configRuleFindings(config, options.configProblems ?? []),
    ...(await checkNames(config, loaded.contract)),
  ];
  if (nameFindings.length > 0) {
    record('consistency', [...nameFindings, ...identityFindings]);
    record('drift', 'grpcforge.yaml has consistency errors');
  } else {
    progress('generated code (runs ts-proto through buf)');
    const plan = await buildPlan(config, loaded);
    const dryRun = (await applyPlan(config.workspaceDir, plan, { dryRun: true })).entries;
    record('consistency', [...checkHandlers(config, loaded.contract, dryRun), ...identityFindings]);
    if (options.drift ?? true) record('drift', [...checkDrift(plan, dryRun), ...(await checkDeployDrift(config))]);
    else record('drift', '--no-drift');
  }
  return { version: 1, ...(against ? { against } : {}), checks, findings: sortFindings(findings) };
}
