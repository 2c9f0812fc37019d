import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GenerationPlan } from '../../src/codegen/plan-types.ts';
import { listFilesRecursive } from '../../src/util/fs.ts';
import { writeFiles } from './workspace.ts';

// Golden trees of codegen (fixtures/codegen/<case>/expected/): what a plan looks like on disk, and readable
// messages when a plan and its golden tree disagree.

/** File of a golden tree that records who owns each planned file; every other file is a planned file. */
export const OWNERSHIP_FILE = 'ownership.json';

/**
 * A plan as the golden tree holds it: every planned file at its workspace-relative path, plus {@link OWNERSHIP_FILE}
 * listing the paths by ownership (`generated`: DO NOT EDIT, overwritten on every run; `scaffold`: user-owned, created
 * once). Two planned files at one path keep the first, as `generate` does on an empty folder (it then keeps the
 * existing file); the ownership list names the path once per planned file, so a duplicate shows there.
 */
export function planToTree(plan: GenerationPlan): Map<string, string> {
  const tree = new Map<string, string>();
  for (const file of plan.files) {
    if (file.path === OWNERSHIP_FILE)
      throw new Error(`a planned file is named ${OWNERSHIP_FILE}, which the golden tree reserves`);
    if (!tree.has(file.path)) tree.set(file.path, file.content);
  }
  const paths = (ownership: string) => plan.files.filter((file) => file.ownership === ownership).map((file) => file.path);
  tree.set(OWNERSHIP_FILE, `${JSON.stringify({ generated: paths('generated'), scaffold: paths('scaffold') }, null, 2)}\n`);
  return tree;
}

/** Paths that more than one planned file claims, with how many. */
export function duplicatePaths(plan: GenerationPlan): string[] {
  const counts = new Map<string, number>();
  for (const file of plan.files) counts.set(file.path, (counts.get(file.path) ?? 0) + 1);
  return [...counts].filter(([, count]) => count > 1).map(([path, count]) => `${path} (${count} files)`);
}

/** Every file below `dir`, path → text (`dir` missing: empty). */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const tree = new Map<string, string>();
  for (const path of await listFilesRecursive(dir)) tree.set(path, await readFile(join(dir, path), 'utf8'));
  return tree;
}

/** Replaces `dir` with exactly the files of `tree`. */
export async function writeTree(dir: string, tree: ReadonlyMap<string, string>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await writeFiles(dir, Object.fromEntries(tree));
}

/**
 * What differs between a golden tree and the tree of a plan, one entry per file: `missing` (planned, not in the
 * golden), `extra` (in the golden, no longer planned) and `changed` with the first differing lines.
 * @param label the golden folder as a reader finds it, for example `fixtures/codegen/example/expected`.
 */
export function compareTrees(
  label: string,
  expected: ReadonlyMap<string, string>,
  actual: ReadonlyMap<string, string>,
): string[] {
  const problems: string[] = [];
  const paths = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  for (const path of paths) {
    const want = expected.get(path);
    const got = actual.get(path);
    if (want === undefined) problems.push(`missing: ${label}/${path} (planned, not in the golden)`);
    else if (got === undefined) problems.push(`extra: ${label}/${path} (in the golden, no longer planned)`);
    else if (want !== got) problems.push(describeChange(`${label}/${path}`, want, got));
  }
  return problems;
}

/**
 * The first block of lines where `expected` and `actual` differ, as a small unified diff with both line numbers
 * (`-` expected, `+` actual), a little context, and at most `maxLines` lines of each side.
 */
export function describeChange(label: string, expected: string, actual: string, context = 2, maxLines = 12): string {
  if (expected.replace(/\r\n/g, '\n') === actual.replace(/\r\n/g, '\n')) {
    return `changed: ${label}: only line endings differ (goldens are LF; see .gitattributes)`;
  }
  const want = expected.split('\n');
  const got = actual.split('\n');
  let start = 0;
  while (start < want.length && start < got.length && want[start] === got[start]) start++;
  let endWant = want.length;
  let endGot = got.length;
  while (endWant > start && endGot > start && want[endWant - 1] === got[endGot - 1]) {
    endWant--;
    endGot--;
  }
  const width = String(Math.max(want.length, got.length)).length;
  const number = (n: number | undefined) => (n === undefined ? ' '.repeat(width) : String(n).padStart(width));
  const row = (mark: string, wantLine: number | undefined, gotLine: number | undefined, text: string) =>
    `  ${mark} ${number(wantLine)} ${number(gotLine)} | ${text}`;
  const lines = [`changed: ${label}, first difference at line ${start + 1} (expected | actual):`];
  for (let index = Math.max(0, start - context); index < start; index++) lines.push(row(' ', index + 1, index + 1, want[index]!));
  const side = (mark: '-' | '+', from: number, to: number, source: readonly string[]) => {
    for (let index = from; index < Math.min(to, from + maxLines); index++) {
      lines.push(row(mark, mark === '-' ? index + 1 : undefined, mark === '+' ? index + 1 : undefined, source[index]!));
    }
    if (to - from > maxLines) lines.push(`  ${mark} ... ${to - from - maxLines} more line(s)`);
  };
  side('-', start, endWant, want);
  side('+', start, endGot, got);
  const shift = endGot - endWant;
  for (let index = endWant; index < Math.min(want.length, endWant + context); index++) {
    lines.push(row(' ', index + 1, index + 1 + shift, want[index]!));
  }
  return lines.join('\n');
}
