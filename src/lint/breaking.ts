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

/**
 * Runs `buf breaking` with the rules of buf.yaml against a git ref of the repository that holds the contracts (also in
 * a shallow CI checkout, when the ref was fetched) or against a saved image (`buf build -o image.binpb`).
 * @returns the findings and a label of what was compared with.
 * @throws UserError `ref-missing` (with what to fetch), `image-missing`, `not-a-git-repository`, `buf-failed`.
 */
export async function checkBreaking(
  bufDir: string,
  workspaceDir: string,
  baseline: BreakingBaseline,
): Promise<{ findings: Finding[]; against: string }> {
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
  const diagnostics = await runBufCheck(['breaking', '.', '--against', against], bufDir, workspaceDir);
  return { findings: diagnostics.map((diagnostic) => toFinding('breaking', diagnostic)), against: label };
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
