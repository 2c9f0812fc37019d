// Start-up time and memory of the example's `auth` service four ways, side by side: bare nice-grpc serving the same
// generated definition and handlers (compiled JavaScript, and TypeScript through tsx), the service built by
// `grpcforge build` (`node dist/main.js`) and `grpcforge serve` (handlers compiled by tsx at start).
//   npm run build && node --import tsx bench/built-service.ts [--rounds 5] [--idle-ms 2000] [--calls 20000] [--service auth]
// Every round starts each variant once, in an order that rotates with the round (after one warm-up start of each):
// the time from spawn to the `listening on` line; VmRSS from /proc/<pid>/status after --idle-ms without calls (idle);
// then --calls unary calls of ValidateToken from h2load (Debian's nghttp2-client) pinned to CPU 1 with taskset, 4
// connections of 16 streams, and VmRSS right after them (loaded) and VmHWM (the peak); then SIGTERM. Prints JSON on
// stdout (medians, min and max per variant, ratios against bare nice-grpc) and Markdown tables on stderr.
// --calls 0 skips the load. Every process is started here and stopped by its PID; traffic stays on 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    calls: { type: 'string', default: '20000' },
    service: { type: 'string', default: 'auth' },
  },
});
const rounds = Number(values.rounds);
const idleMs = Number(values['idle-ms']);
const calls = Number(values.calls);
const service = values.service;
if (service !== 'auth') throw new Error('the bare variants and the load are written for the example service "auth"');
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repoRoot, 'bin/grpcforge');
const tsx = join(repoRoot, 'node_modules/tsx/dist/esm/index.mjs');
const env = { ...process.env, NO_COLOR: '1' };

/** Runs the CLI to completion in `cwd`; throws with its stderr when it fails. */
function grpcforge(args: readonly string[], cwd: string): void {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`grpcforge ${args.join(' ')} exited ${String(result.status)}: ${result.stderr}`);
}

const root = mkdtempSync(join(tmpdir(), 'grpcforge-bench-built-'));
const ws = join(root, 'platform');
const serviceDir = join(ws, 'services', service);
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
process.stderr.write(`workspace ${ws}: init, generate, build ${service}\n`);
grpcforge(['init', ws], root);
await (linkWorkspace as (dir: string) => Promise<void>)(ws);
grpcforge(['generate'], ws);
const buildStart = performance.now();
grpcforge(['build', service], ws);
const buildMs = performance.now() - buildStart;

// Bare nice-grpc: what a user writes without grpcforge, around the same ts-proto definition and the same handler
// modules (`ext` picks the compiled ones in dist/ or the sources in src/). No auth, store, health, reflection,
// validation nor limits: the anchor.
const bare = (dir: string, ext: string) => `import { createServer } from 'nice-grpc';
import { AuthServiceDefinition } from './${dir}/gen/pb/auth/v1/auth.${ext}';
import { login } from './${dir}/handlers/auth.v1.AuthService/login.${ext}';
import { validateToken } from './${dir}/handlers/auth.v1.AuthService/validate-token.${ext}';
import { listSessions } from './${dir}/handlers/auth.v1.AuthService/list-sessions.${ext}';
const server = createServer();
server.add(AuthServiceDefinition, { login, validateToken, listSessions });
const port = await server.listen('127.0.0.1:0');
console.log('listening on 127.0.0.1:' + port);
process.on('SIGTERM', () => void server.shutdown().then(() => process.exit(0)));
`;
writeFileSync(join(serviceDir, 'bare-nice.mjs'), bare('dist', 'js'));
writeFileSync(join(serviceDir, 'bare-nice.ts'), bare('src', 'ts').replace(/\.ts';/g, ".js';"));

// ValidateTokenRequest{token: "t0k3n"} in a gRPC frame: the method is public in the example, so every variant answers it.
const message = Buffer.from([0x0a, 5, ...Buffer.from('t0k3n')]);
const bodyFile = join(root, 'body.bin');
writeFileSync(bodyFile, Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]));

interface Variant {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}
const variants: Record<string, Variant> = {
  'bare nice-grpc (node)': { args: [join(serviceDir, 'bare-nice.mjs')], cwd: serviceDir, env },
  [`node services/${service}/dist/main.js`]: {
    args: [join(serviceDir, 'dist/main.js')],
    cwd: ws,
    env: { ...env, GRPCFORGE_LISTEN: '127.0.0.1:0' },
  },
  'bare nice-grpc (tsx)': { args: ['--import', tsx, join(serviceDir, 'bare-nice.ts')], cwd: serviceDir, env },
  [`grpcforge serve ${service}`]: { args: [cli, 'serve', service, '--port', '0'], cwd: ws, env },
};
const names = Object.keys(variants);
/** Each variant's anchor: the bare server loaded the same way (compiled, or through tsx). */
const anchorOf: Record<string, string> = {
  [names[1]!]: names[0]!,
  [names[3]!]: names[2]!,
};

interface Sample {
  readonly startMs: number;
  readonly idleKb: number;
  readonly loadedKb?: number;
  readonly peakKb?: number;
  readonly callsPerSecond?: number;
}

const statusKb = (pid: number, field: string) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1]);

/** --calls unary calls from h2load pinned to CPU 1; throws unless every one got HTTP 200. */
function load(address: string): number {
  const args = ['-c', '1', 'h2load', '-n', String(calls), '-c', '4', '-m', '16', '-t', '1', '-d', bodyFile];
  args.push('-H', 'content-type: application/grpc', '-H', 'te: trailers');
  args.push(`http://${address}/auth.v1.AuthService/ValidateToken`);
  const result = spawnSync('taskset', args, { encoding: 'utf8', timeout: 120_000 });
  const done = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/.exec(result.stdout);
  if (Number(done?.[1]) !== calls) throw new Error(`h2load: not every call succeeded\n${result.stdout}${result.stderr}`);
  return Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(result.stdout)?.[1]);
}

/** One start: ms to `listening on`, VmRSS idle, then under load. */
async function once(name: string): Promise<Sample> {
  const variant = variants[name]!;
  const start = performance.now();
  const child = spawn(process.execPath, variant.args, { cwd: variant.cwd, env: variant.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let address = '';
  const startMs = await new Promise<number>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`${name} exited ${String(code)}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('listening on ')) return;
      address = line.slice('listening on '.length).trim();
      resolve(performance.now() - start);
    });
  });
  const pid = child.pid!;
  await sleep(idleMs);
  const idleKb = statusKb(pid, 'VmRSS');
  let loaded: Partial<Sample> = {};
  if (calls > 0) {
    const callsPerSecond = load(address);
    loaded = { callsPerSecond, loadedKb: statusKb(pid, 'VmRSS'), peakKb: statusKb(pid, 'VmHWM') };
  }
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`${name} exited ${String(code)} after SIGTERM: ${stderr}`);
  return { startMs, idleKb, ...loaded };
}

const median = (list: readonly number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
/** `median (min–max)` of a list, with `digits` decimals, as numbers for the JSON. */
const spread = (list: readonly number[], digits: number) => ({
  median: Number(median(list).toFixed(digits)),
  min: Number(Math.min(...list).toFixed(digits)),
  max: Number(Math.max(...list).toFixed(digits)),
});

// One start of each first, so the file cache is warm for every round.
for (const name of names) await once(name);
const samples: Record<string, Sample[]> = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (let index = 0; index < names.length; index++) {
    const name = names[(round + index) % names.length]!;
    samples[name]!.push(await once(name));
  }
  process.stderr.write(`round ${round + 1}/${rounds}\n`);
}

const results = names.map((name) => {
  const list = samples[name]!;
  const mib = (field: 'idleKb' | 'loadedKb' | 'peakKb') => list.map((sample) => (sample[field] ?? 0) / 1024);
  return {
    variant: name,
    startMs: spread(
      list.map((sample) => sample.startMs),
      0,
    ),
    idleRssMiB: spread(mib('idleKb'), 1),
    ...(calls > 0
      ? {
          loadedRssMiB: spread(mib('loadedKb'), 1),
          peakRssMiB: spread(mib('peakKb'), 1),
          callsPerSecond: spread(
            list.map((sample) => sample.callsPerSecond ?? 0),
            0,
          ),
        }
      : {}),
  };
});
const byName = new Map(results.map((result) => [result.variant, result]));
type Figure = 'startMs' | 'idleRssMiB' | 'loadedRssMiB' | 'peakRssMiB';
const figures: readonly Figure[] =
  calls > 0 ? ['startMs', 'idleRssMiB', 'loadedRssMiB', 'peakRssMiB'] : ['startMs', 'idleRssMiB'];
/** Per figure, the ratio of the variant's median to its anchor's. */
const ratios = Object.fromEntries(
  Object.entries(anchorOf).map(([name, anchor]) => [
    `${name} / ${anchor}`,
    Object.fromEntries(
      figures.map((figure) => [
        figure,
        Number((byName.get(name)![figure]!.median / byName.get(anchor)![figure]!.median).toFixed(2)),
      ]),
    ),
  ]),
);
const cell = (value: { median: number; min: number; max: number } | undefined) =>
  value ? `${value.median} (${value.min}–${value.max})` : '–';
const headings = [
  'start to `listening on` (ms)',
  `idle RSS after ${idleMs / 1000} s (MiB)`,
  ...(calls > 0 ? [`RSS after ${calls} calls (MiB)`, 'peak RSS (MiB)'] : []),
];
const table = [
  `| variant | ${headings.join(' | ')} |`,
  `|---|${headings.map(() => '---|').join('')}`,
  ...results.map((result) => `| ${result.variant} | ${figures.map((figure) => cell(result[figure])).join(' | ')} |`),
  ...Object.entries(ratios).map(
    ([name, ratio]) => `| ratio ${name} | ${figures.map((figure) => `**${String(ratio[figure])}×**`).join(' | ')} |`,
  ),
];
process.stderr.write(`\n${table.join('\n')}\n`);
process.stdout.write(
  `${JSON.stringify({ node: process.version, service, rounds, idleMs, calls, buildMs: Math.round(buildMs), results, ratios }, null, 2)}\n`,
);
