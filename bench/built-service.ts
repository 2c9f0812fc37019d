// Start-up time and idle memory of a service run by `grpcforge serve` (handlers compiled by tsx at start) against the
// same service built by `grpcforge build` and run with `node dist/main.js`, side by side on the example workspace.
//   npm run build && node --import tsx bench/built-service.ts [--rounds 5] [--idle-ms 2000] [--service auth]
// Every round starts each variant once, in an order that rotates with the round: the time from spawn to the
// `listening on` line, then, after --idle-ms without calls, VmRSS from /proc/<pid>/status; then SIGTERM. Prints JSON
// on stdout (medians, min and max per variant) and a Markdown table of the medians on stderr, after the progress.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
// @ts-expect-error plain .mjs helper shared with the demo and the tests
import { linkWorkspace } from '../scripts/link-workspace.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    'idle-ms': { type: 'string', default: '2000' },
    service: { type: 'string', default: 'auth' },
  },
});
const rounds = Number(values.rounds);
const idleMs = Number(values['idle-ms']);
const service = values.service;
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repoRoot, 'bin/grpcforge');
const env = { ...process.env, NO_COLOR: '1' };

/** Runs the CLI to completion in `cwd`; throws with its stderr when it fails. */
function grpcforge(args: readonly string[], cwd: string): void {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`grpcforge ${args.join(' ')} exited ${String(result.status)}: ${result.stderr}`);
}

const root = mkdtempSync(join(tmpdir(), 'grpcforge-bench-built-'));
const ws = join(root, 'platform');
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
process.stderr.write(`workspace ${ws}: init, generate, build ${service}\n`);
grpcforge(['init', ws], root);
await (linkWorkspace as (dir: string) => Promise<void>)(ws);
grpcforge(['generate'], ws);
const buildStart = performance.now();
grpcforge(['build', service], ws);
const buildMs = performance.now() - buildStart;

const variants: Record<string, { args: readonly string[]; env: NodeJS.ProcessEnv }> = {
  [`grpcforge serve ${service}`]: { args: [cli, 'serve', service, '--port', '0'], env },
  [`node services/${service}/dist/main.js`]: {
    args: [join(ws, 'services', service, 'dist/main.js')],
    env: { ...env, GRPCFORGE_LISTEN: '127.0.0.1:0' },
  },
};
const names = Object.keys(variants);

/** One start: ms to `listening on`, and VmRSS in kB after `idleMs`. */
async function once(name: string): Promise<{ startMs: number; rssKb: number }> {
  const variant = variants[name]!;
  const start = performance.now();
  const child = spawn(process.execPath, variant.args, { cwd: ws, env: variant.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const startMs = await new Promise<number>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`${name} exited ${String(code)}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('listening on ')) resolve(performance.now() - start);
    });
  });
  await sleep(idleMs);
  const status = readFileSync(`/proc/${String(child.pid)}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`${name} exited ${String(code)} after SIGTERM: ${stderr}`);
  return { startMs, rssKb };
}

const median = (list: readonly number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

// One start of each first, so the file cache is warm for every round.
for (const name of names) await once(name);
const samples: Record<string, { startMs: number; rssKb: number }[]> = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (let index = 0; index < names.length; index++) {
    const name = names[(round + index) % names.length]!;
    samples[name]!.push(await once(name));
  }
  process.stderr.write(`round ${round + 1}/${rounds}\n`);
}

const results = names.map((name) => {
  const starts = samples[name]!.map((sample) => sample.startMs);
  const rss = samples[name]!.map((sample) => sample.rssKb / 1024);
  return {
    variant: name,
    startMedianMs: Number(median(starts).toFixed(0)),
    startMinMs: Number(Math.min(...starts).toFixed(0)),
    startMaxMs: Number(Math.max(...starts).toFixed(0)),
    rssMedianMiB: Number(median(rss).toFixed(1)),
    rssMinMiB: Number(Math.min(...rss).toFixed(1)),
    rssMaxMiB: Number(Math.max(...rss).toFixed(1)),
  };
});
const [serve, built] = results;
const table = [
  `| variant | start to \`listening on\` (ms) | idle RSS after ${idleMs / 1000} s (MiB) |`,
  '|---|---|---|',
  ...results.map(
    (result) =>
      `| ${result.variant} | ${result.startMedianMs} (${result.startMinMs}–${result.startMaxMs}) | ` +
      `${result.rssMedianMiB} (${result.rssMinMiB}–${result.rssMaxMiB}) |`,
  ),
  `| ratio built / serve | ${(built!.startMedianMs / serve!.startMedianMs).toFixed(2)}× | ` +
    `${(built!.rssMedianMiB / serve!.rssMedianMiB).toFixed(2)}× |`,
];
process.stderr.write(`\n${table.join('\n')}\n`);
process.stdout.write(
  `${JSON.stringify({ node: process.version, service, rounds, idleMs, buildMs: Math.round(buildMs), results }, null, 2)}\n`,
);
