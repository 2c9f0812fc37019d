import type { GenerationPlan } from '../codegen/plan-types.js';
import type { WriteEntry } from '../codegen/write.js';
import type { Finding } from './findings.js';

const RULES: Partial<Record<WriteEntry['action'], [rule: string, message: string]>> = {
  created: ['drift-missing', 'generated file is missing'],
  written: ['drift-changed', 'generated file differs from what grpcforge generate writes now'],
  removed: ['drift-extra', 'generated file no longer belongs (its service or RPC is gone)'],
  foreign: ['drift-untracked', 'file in a generated folder that grpcforge did not write'],
};

/**
 * Drift: generated code that is not exactly what `generate` would write now, from the writer's dry run of the same
 * plan (never a second implementation). Missing user-owned files are not drift (see `missing-handler`).
 */
export function checkDrift(plan: GenerationPlan, dryRun: readonly WriteEntry[]): Finding[] {
  const scaffolds = new Set(plan.files.filter((file) => file.ownership === 'scaffold').map((file) => file.path));
  return dryRun.flatMap((entry): Finding[] => {
    const rule = RULES[entry.action];
    if (!rule || scaffolds.has(entry.path)) return [];
    return [{ check: 'drift', rule: rule[0], message: `${rule[1]} (run grpcforge generate)`, file: entry.path }];
  });
}
