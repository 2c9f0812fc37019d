import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { locateConfigProblems } from '../config/load.js';
import type { ConfigProblem, ResolvedConfig } from '../config/resolved.js';
import { checkServiceNamesExist } from '../config/rules.js';
import type { ContractSet } from '../contract/model.js';
import { handlerFilePath, rpcNamesOf } from '../contract/names.js';
import type { WriteEntry } from '../codegen/write.js';
import { toPosix } from '../util/fs.js';
import type { Finding } from './findings.js';

/**
 * Rule `unknown-service`: every service grpcforge.yaml names exists in the contracts (with the file position and a
 * did-you-mean hint).
 */
export async function checkNames(config: ResolvedConfig, contract: ContractSet): Promise<Finding[]> {
  const root = `${toPosix(relative(config.workspaceDir, config.contract.root)) || '.'}/`;
  const problems = checkServiceNamesExist(
    config,
    contract.services.map((service) => service.fullName),
    root,
    rpcNamesOf(contract),
  );
  const located = await locateConfigProblems(config.configPath, problems);
  return configRuleFindings(
    config,
    located.map((problem) => ({ ...problem, rule: 'unknown-service' })),
  );
}

/** grpcforge.yaml's cross-field rule problems (`consumed-has-provider`, `one-provider`) as consistency findings. */
export function configRuleFindings(config: ResolvedConfig, problems: readonly ConfigProblem[]): Finding[] {
  const file = toPosix(relative(config.workspaceDir, config.configPath));
  return problems.map((problem) => ({
    check: 'consistency' as const,
    rule: problem.rule ?? 'config',
    message: `${problem.path}: ${problem.message}`,
    file,
    ...(problem.line !== undefined ? { line: problem.line, column: problem.column ?? 1 } : {}),
  }));
}

/**
 * Rules `missing-handler` (a served RPC without its handler file: `grpcforge generate` creates it) and
 * `orphaned-handler` (a handler file whose RPC left the contract), from the files on disk and the writer's dry run.
 */
export function checkHandlers(config: ResolvedConfig, contract: ContractSet, dryRun: readonly WriteEntry[]): Finding[] {
  const findings: Finding[] = [];
  for (const service of config.services) {
    for (const fullName of service.serves) {
      const contractService = contract.services.find((candidate) => candidate.fullName === fullName);
      for (const method of contractService?.methods ?? []) {
        const path = handlerFilePath(contractService!, method);
        if (!existsSync(join(service.dir, path))) {
          findings.push({
            check: 'consistency',
            rule: 'missing-handler',
            message: `${service.name} serves ${method.path} but has no handler (run grpcforge generate)`,
            file: toPosix(join(service.dirRelative, path)),
          });
        }
      }
    }
  }
  for (const entry of dryRun) {
    if (entry.action === 'orphaned') {
      findings.push({
        check: 'consistency',
        rule: 'orphaned-handler',
        message: `handler of an RPC that is no longer in the contract (service ${entry.service}); delete it when you no longer need it`,
        file: entry.path,
      });
    }
  }
  return findings;
}
