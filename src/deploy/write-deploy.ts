import { readdir, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { hasGeneratedHeader } from '../codegen/header.js';
import { applyPlannedFiles, type WriteEntry } from '../codegen/write.js';
import { readTextIfExists } from '../util/fs.js';
import type { DeployPlan } from './plan-deploy.js';

/**
 * Applies a deploy plan through codegen's writer (same actions as `generate`), then deletes the generated files of
 * the plan's folders that no longer belong (a service that left grpcforge.yaml), only when they carry the header;
 * the plan's retired files are left alone (`kept`).
 * @param options.dryRun compute the entries without writing: `deploy --check` and lint's drift check.
 * @returns one entry per file, sorted by path.
 */
export async function applyDeployPlan(
  workspaceDir: string,
  plan: DeployPlan,
  options: { dryRun?: boolean } = {},
): Promise<WriteEntry[]> {
  const entries = await applyPlannedFiles(workspaceDir, plan.files, options);
  const planned = new Set(plan.files.map((file) => file.path));
  for (const dir of plan.ownedDirs) {
    let names: string[];
    try {
      names = await readdir(join(workspaceDir, dir));
    } catch {
      continue; // not written yet
    }
    for (const name of names.sort()) {
      const path = posix.join(dir, name);
      if (planned.has(path) || !/\.(ya?ml|Dockerfile)$/.test(name)) continue;
      const text = await readTextIfExists(join(workspaceDir, path)).catch(() => undefined);
      if (text === undefined || !hasGeneratedHeader(text)) continue;
      // A compose.yaml beside kubernetes/ (or the reverse) belongs to the other target.
      if (!text.includes(`# regenerate: grpcforge deploy ${plan.target}`) && !name.endsWith('.Dockerfile')) continue;
      if (plan.retired.includes(path)) {
        entries.push({ path, action: 'kept', service: '' }); // may hold values someone filled in
        continue;
      }
      if (!options.dryRun) await unlink(join(workspaceDir, path));
      entries.push({ path, action: 'removed', service: '' });
    }
  }
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}

/** Entries that mean the artefacts on disk are not what `deploy` writes now (the `.dockerignore` suggestion never counts). */
export function deployDrift(plan: DeployPlan, entries: readonly WriteEntry[]): WriteEntry[] {
  const scaffolds = new Set(plan.files.filter((file) => file.ownership === 'scaffold').map((file) => file.path));
  return entries.filter((entry) => !scaffolds.has(entry.path) && entry.action !== 'unchanged' && entry.action !== 'kept');
}
