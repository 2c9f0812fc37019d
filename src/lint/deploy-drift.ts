import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { ResolvedConfig } from '../config/resolved.js';
import { DEPLOY_DEFAULTS, parseDeployCommandLine, planDeploy } from '../deploy/plan-deploy.js';
import { applyDeployPlan, deployDrift } from '../deploy/write-deploy.js';
import { readTextIfExists } from '../util/fs.js';
import type { Finding } from './findings.js';

const MESSAGES: Partial<Record<string, [rule: string, message: string]>> = {
  created: ['drift-missing', 'deploy artefact is missing'],
  written: ['drift-changed', 'deploy artefact differs from what grpcforge deploy writes now'],
  removed: ['drift-extra', 'deploy artefact no longer belongs (its service is gone)'],
};

/**
 * Drift of the deploy artefacts in the default folder (`deploy/`): each target found there (`compose.yaml`, a file
 * of `kubernetes/`) is planned again with the flags its header records and compared with the disk, by the writer's
 * dry run. A workspace that never ran `grpcforge deploy` has no findings.
 */
export async function checkDeployDrift(config: ResolvedConfig): Promise<Finding[]> {
  const outDir = DEPLOY_DEFAULTS.outDir;
  const candidates = [posix.join(outDir, 'compose.yaml')];
  const kubernetesDir = posix.join(outDir, 'kubernetes');
  const names = await readdir(join(config.workspaceDir, kubernetesDir)).catch(() => [] as string[]);
  const firstManifest = names.filter((name) => name.endsWith('.yaml')).sort()[0];
  if (firstManifest) candidates.push(posix.join(kubernetesDir, firstManifest));
  const findings: Finding[] = [];
  for (const path of candidates) {
    const text = await readTextIfExists(join(config.workspaceDir, path));
    const command = text === undefined ? undefined : parseDeployCommandLine(text);
    if (!command || command.options.outDir !== outDir) continue;
    const plan = planDeploy(config, command.target, command.options);
    const entries = deployDrift(plan, await applyDeployPlan(config.workspaceDir, plan, { dryRun: true }));
    for (const entry of entries) {
      const [rule, message] = MESSAGES[entry.action] ?? ['drift-changed', 'deploy artefact differs'];
      findings.push({ check: 'drift', rule, message: `${message} (run grpcforge deploy ${command.target})`, file: entry.path });
    }
  }
  // Both targets plan the same Dockerfiles: report each file once.
  return findings.filter((finding, index) => findings.findIndex((other) => other.file === finding.file) === index);
}
