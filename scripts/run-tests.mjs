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
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=180000',
    '--test-reporter=spec',
    ...files.map((file) => relative(repoRoot, join(repoRoot, file))),
  ],
  { cwd: repoRoot, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
