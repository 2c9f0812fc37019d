// `npm test`: every test/**/*.test.ts with node's test runner and the tsx loader (Node 20 has no --test globs).
// `npm test -- unit` runs only files whose path contains "unit". `--fast` leaves out the end-to-end tests
// (test/e2e/: real processes, sockets and git repositories): `npm run test:fast`, or `--fast golden` to combine.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { repoRoot } from './link-workspace.mjs';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const filters = args.filter((arg) => arg !== '--fast');
const files = readdirSync(join(repoRoot, 'test'), { recursive: true })
  .map((path) => join('test', String(path)))
  .filter((path) => path.endsWith('.test.ts'))
  .filter((path) => !fast || !path.startsWith(join('test', 'e2e') + sep))
  .filter((path) => filters.length === 0 || filters.some((filter) => path.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${args.join(' ')}`);
  process.exit(2);
}
// Files that may take longer than the 180 s every other file gets (the runner's timeout applies to a whole file):
// the production layout compiles better-sqlite3 twice in `npm ci --omit=dev`, 2 minutes alone and more beside other
// tests. They run after the others, with their own bound.
const SLOW = new Map([[join('test', 'e2e', 'production-install.test.ts'), 600_000]]);

/** Runs `group` with node's test runner; its exit status. */
function runFiles(group, timeoutMs) {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      `--test-timeout=${timeoutMs}`,
      '--test-reporter=spec',
      ...group.map((file) => relative(repoRoot, join(repoRoot, file))),
    ],
    { cwd: repoRoot, stdio: 'inherit' },
  );
  return result.status ?? 1;
}

const regular = files.filter((file) => !SLOW.has(file));
const slow = files.filter((file) => SLOW.has(file));
const statuses = [
  ...(regular.length > 0 ? [runFiles(regular, 180_000)] : []),
  ...(slow.length > 0 ? [runFiles(slow, Math.max(...slow.map((file) => SLOW.get(file))))] : []),
];
process.exit(statuses.find((status) => status !== 0) ?? 0);
