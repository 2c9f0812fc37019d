import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { runBufCheck } from '../contract/buf.js';
import { UserError } from '../util/errors.js';
import { toPosix } from '../util/fs.js';
import { runProcess } from '../util/spawn.js';
import { toFinding } from './buf-checks.js';
import type { Finding } from './findings.js';

/** What to compare with: a git ref (branch, tag, commit, `origin/main`) or a saved buf image file. */
export type BreakingBaseline = { readonly gitRef: string } | { readonly image: string };

/** What {@link checkBreaking} found: findings, or why there was nothing to compare. */
export interface BreakingResult {
  readonly findings: Finding[];
  /** A label of what was compared with, for example `git ref main`. */
  readonly against: string;
  /** Set when buf breaking could not compare because neither side has a contract, or the baseline has none. */
  readonly skipped?: string;
}

/** buf's failure for a module without any .proto file (`Module "path: "proto"" had no .proto files`). */
const NO_PROTO_FILES = /had no \.proto files/;

/**
 * Runs `buf breaking` with the rules of buf.yaml against a git ref of the repository that holds the contracts (also in
 * a shallow CI checkout, when the ref was fetched) or against a saved image (`buf build -o image.binpb`).
 * buf fails when either side has no .proto file: a baseline without contracts (the change that adds the first
 * contract to a workspace from `init --empty`) breaks nothing and is skipped; no contracts now is skipped when the
 * baseline has none either, and a `FILE_NO_DELETE` finding when it had some (every contract was deleted).
 * @param currentEmpty whether the contract root has no .proto file now.
 * @throws UserError `ref-missing` (with what to fetch), `image-missing`, `not-a-git-repository`, `buf-failed`.
 */
export async function checkBreaking(
  bufDir: string,
  workspaceDir: string,
  baseline: BreakingBaseline,
  currentEmpty = false,
): Promise<BreakingResult> {
  let against: string;
  let label: string;
  if ('image' in baseline) {
    const image = resolve(baseline.image);
    if (!existsSync(image)) throw new UserError('image-missing', `--against-image: no file ${baseline.image}`);
    against = image;
    label = `image ${baseline.image}`;
  } else {
    const root = await gitRoot(bufDir);
    await verifyRef(root, baseline.gitRef);
    const subdir = toPosix(relative(root, bufDir));
    // buf clones the local repository at that ref (file://), so only objects the checkout already has are needed.
    against = `${toPosix(relative(bufDir, root)) || '.'}/.git#ref=${baseline.gitRef}${subdir ? `,subdir=${subdir}` : ''}`;
    label = `git ref ${baseline.gitRef}`;
  }
  const baselineEmpty = (error: unknown) =>
    error instanceof UserError && error.details.some((detail) => NO_PROTO_FILES.test(detail));
  if (currentEmpty) {
    try {
      await runBufCheck(['build', against], bufDir, workspaceDir);
    } catch (error) {
      if (baselineEmpty(error)) return { findings: [], against: label, skipped: `no .proto files, here or in ${label}` };
      throw error;
    }
    const message = `every .proto file was deleted (${label} has contracts, this workspace has none)`;
    return { findings: [{ check: 'breaking', rule: 'FILE_NO_DELETE', message }], against: label };
  }
  try {
    const diagnostics = await runBufCheck(['breaking', '.', '--against', against], bufDir, workspaceDir);
    return { findings: diagnostics.map((diagnostic) => toFinding('breaking', diagnostic)), against: label };
  } catch (error) {
    if (baselineEmpty(error)) return { findings: [], against: label, skipped: `${label} has no .proto files: nothing to break` };
    throw error;
  }
}

async function gitRoot(dir: string): Promise<string> {
  const result = await runProcess('git', ['rev-parse', '--show-toplevel'], { cwd: dir }).catch(() => undefined);
  if (!result || result.exitCode !== 0) {
    throw new UserError('not-a-git-repository', `--against needs a git repository, and ${dir} is not in one`, [
      'compare with a saved image instead: buf build -o base.binpb on the base, then --against-image base.binpb',
    ]);
  }
  return result.stdout.toString('utf8').trim();
}

async function verifyRef(root: string, ref: string): Promise<void> {
  const result = await runProcess('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: root });
  if (result.exitCode === 0) return;
  const shallow =
    (await runProcess('git', ['rev-parse', '--is-shallow-repository'], { cwd: root })).stdout.toString().trim() === 'true';
  const branch = ref.replace(/^origin\//, '');
  throw new UserError('ref-missing', `--against: "${ref}" is not a commit in this repository`, [
    `fetch it first: git fetch origin ${branch}:refs/remotes/origin/${branch}`,
    ...(shallow ? ['this is a shallow clone: in GitHub Actions use actions/checkout with fetch-depth: 0'] : []),
  ]);
}
