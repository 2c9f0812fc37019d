// Start-up time of the built CLI against a bare `node -e 0`, side by side: every round runs each variant once, in an
// order that rotates with the round, and the figures are medians over the rounds.
//   npm run build && node --import tsx bench/cli-startup.ts [--rounds 15] [--cli path/to/bin/grpcforge ...]
// Prints JSON on stdout (progress on stderr): per variant the median, min and max wall time in ms, and the ratio of
// the median to the median of `node -e 0` (issue 12's target: ≤ 2 for --version, --help and <command> --help).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '15' }, cli: { type: 'string', multiple: true } },
});
const rounds = Number(values.rounds);
// --cli (repeatable): builds to measure side by side in the same rounds, for example a copy of an older commit's
// bin/ and dist/; this checkout's by default. Each build's variants are labelled with its path when there are several.
const clis = (values.cli ?? [join(fileURLToPath(new URL('..', import.meta.url)), 'bin/grpcforge')]).map((cli) => resolve(cli));

const variants: Record<string, readonly string[]> = { 'node -e 0': ['-e', '0'] };
for (const cli of clis) {
  const label = clis.length > 1 ? `${cli}: grpcforge` : 'grpcforge';
  variants[`${label} --version`] = [cli, '--version'];
  variants[`${label} --help`] = [cli, '--help'];
  variants[`${label} generate --help`] = [cli, 'generate', '--help'];
  variants[`${label} serve --help`] = [cli, 'serve', '--help'];
}
const names = Object.keys(variants);
const env = { ...process.env, NO_COLOR: '1' };

function once(args: readonly string[]): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${String(result.status)}: ${result.stderr.toString()}`);
  return elapsed;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

// Warm the file cache once, so the first round is not the odd one out.
for (const name of names) once(variants[name]!);
const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (let index = 0; index < names.length; index++) {
    const name = names[(round + index) % names.length]!;
    times[name]!.push(once(variants[name]!));
  }
  process.stderr.write(`round ${round + 1}/${rounds}\n`);
}
const anchor = median(times['node -e 0']!);
const results = names.map((name) => {
  const values = times[name]!;
  return {
    variant: name,
    medianMs: Number(median(values).toFixed(1)),
    minMs: Number(Math.min(...values).toFixed(1)),
    maxMs: Number(Math.max(...values).toFixed(1)),
    ratio: Number((median(values) / anchor).toFixed(2)),
  };
});
process.stdout.write(`${JSON.stringify({ node: process.version, clis, rounds, results }, null, 2)}\n`);
