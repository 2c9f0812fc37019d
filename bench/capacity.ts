// Server capacity and latency at a fixed rate, side by side, with a C load generator: h2load (Debian's
// nghttp2-client) pinned to CPU 1, each server pinned to CPU 0, so a saturated server's calls/s is the inverse of its
// CPU cost per call, every thread it starts included (the log store's writer thread, GC).
//   node --import tsx bench/capacity.ts [--rounds 5] [--seconds 8] [--warmup 3] [--conns 4] [--streams 32]
//     [--only grpcjs,nice,serve] [--rate-fraction 0.5] [--rate-seconds 6] [--rate-conns 32] [--cpu-prof DIR]
//     [--markdown out.md]
// Run from a built checkout (`npm run build`: `serve` runs bin/grpcforge). JSON on stdout, one line per window on
// stderr. Variants (same contract, same handler logic, same ts-proto codec, same request bytes):
//   grpcjs  raw @grpc/grpc-js with ts-proto encode/decode (the floor for Node)
//   nice    bare nice-grpc with the generated definition (what a user writes without grpcforge)
//   serve   `grpcforge serve auth` as users run it: API-key auth, the SQLite log store, health, reflection
// The method is auth.v1.AuthService/ValidateToken of the `init` example, made non-public so that auth runs.
// Each round has two phases, each variant on a fresh server: saturation (calls/s, server CPU per call, by thread),
// then a fixed rate of `--rate-fraction` × this round's `nice` capacity (h2load `--rps` over `--rate-conns`
// connections, one call in flight on each), whose p50 and p99 come from h2load's per-request log. Within a phase the variants are rotated (round r starts at variant r mod n).
// Ratios are taken per round (the variants of a round ran minutes apart at most), then the median of rounds.
// Every process is started here and stopped by its PID; traffic stays on 127.0.0.1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3' },
    conns: { type: 'string', default: '4' },
    streams: { type: 'string', default: '32' },
    only: { type: 'string', default: 'grpcjs,nice,serve' },
    'rate-fraction': { type: 'string', default: '0.5' },
    'rate-seconds': { type: 'string', default: '6' },
    'rate-conns': { type: 'string', default: '32' },
    'cpu-prof': { type: 'string' },
    markdown: { type: 'string' },
    work: { type: 'string', default: join(tmpdir(), 'grpcforge-bench-capacity') },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const CONNS = Number(values.conns);
const STREAMS = Number(values.streams);
const RATE_FRACTION = Number(values['rate-fraction']);
const RATE_SECONDS = Number(values['rate-seconds']);
const RATE_CONNS = Number(values['rate-conns']);
const CPU_PROF = values['cpu-prof'];
const WORK = values.work;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin/grpcforge');
const TSX = join(ROOT, 'node_modules/tsx/dist/esm/index.mjs');

const VARIANT_NAMES = ['grpcjs', 'nice', 'serve'] as const;
type VariantName = (typeof VARIANT_NAMES)[number];
const names = values.only.split(',') as VariantName[];
for (const name of names) if (!VARIANT_NAMES.includes(name)) throw new Error(`unknown variant ${name}`);
if (RATE_FRACTION > 0 && !names.includes('nice')) throw new Error('the fixed rate is a fraction of nice: include it');

function sh(command: string, args: readonly string[], options: { cwd?: string } = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')}: ${String(result.status)}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

// ---- the workspace: `init`'s example, ValidateToken non-public, one API key
rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
const ws = join(WORK, 'ws');
sh('node', [CLI, 'init', ws]);
const { linkWorkspace } = (await import(join(ROOT, 'scripts/link-workspace.mjs'))) as {
  linkWorkspace: (dir: string) => Promise<void>;
};
await linkWorkspace(ws);
const yamlPath = join(ws, 'grpcforge.yaml');
writeFileSync(yamlPath, readFileSync(yamlPath, 'utf8').replace(/^\s*auth\.v1\.AuthService\/ValidateToken: public.*\n/m, ''));
sh('node', [CLI, 'generate'], { cwd: ws });
const key = (JSON.parse(sh('node', [CLI, 'keys', 'create', '--name', 'bench', '--json'], { cwd: ws })) as { key: string }).key;

// ---- the bare servers, written against the workspace's generated code, with the same handler logic
const serviceDir = join(ws, 'services/auth');
const genDir = join(serviceDir, 'src/gen');
const grepOne = (pattern: string) => sh('bash', ['-c', `grep -rl "${pattern}" ${genDir} | head -1`]).trim();
const typesFile = grepOne('export const ValidateTokenRequest');
const definitionFile = grepOne('export const AuthServiceDefinition');
const handler = `
const sessions = new Map<string, { subject: string }>();
const validateToken = async (request: { token: string }) => {
  const session = sessions.get(request.token);
  if (!session) return { valid: false, subject: '', roles: [] as string[] };
  return { valid: true, subject: session.subject, roles: ['user'] };
};`;
writeFileSync(
  join(serviceDir, 'bare-nice.ts'),
  `import { createServer, ServerError, Status } from 'nice-grpc';
import { AuthServiceDefinition } from '${definitionFile}';
${handler}
const unimplemented = async () => { throw new ServerError(Status.UNIMPLEMENTED, 'no'); };
const server = createServer();
server.add(AuthServiceDefinition, { validateToken, login: unimplemented, listSessions: async function* () {} } as never);
const port = await server.listen('127.0.0.1:0');
console.log('listening on 127.0.0.1:' + port);
process.on('SIGTERM', () => { void server.shutdown().then(() => process.exit(0)); });
`,
);
writeFileSync(
  join(serviceDir, 'bare-grpcjs.ts'),
  `import * as grpc from '@grpc/grpc-js';
import { ValidateTokenRequest, ValidateTokenResponse } from '${typesFile}';
${handler}
const server = new grpc.Server();
server.addService(
  { validateToken: { path: '/auth.v1.AuthService/ValidateToken', requestStream: false, responseStream: false,
      requestSerialize: (m: never) => Buffer.from(ValidateTokenRequest.encode(m).finish()),
      requestDeserialize: (b: Buffer) => ValidateTokenRequest.decode(b),
      responseSerialize: (m: never) => Buffer.from(ValidateTokenResponse.encode(ValidateTokenResponse.fromPartial(m)).finish()),
      responseDeserialize: (b: Buffer) => ValidateTokenResponse.decode(b) } } as never,
  { validateToken: (call: { request: { token: string } }, callback: (error: unknown, response?: unknown) => void) => {
      validateToken(call.request).then((response) => callback(null, response), callback); } } as never,
);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log('listening on 127.0.0.1:' + port);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
`,
);

// ---- the request: ValidateTokenRequest{token: "t0k3n"} in a gRPC frame
const message = Buffer.from([0x0a, 5, ...Buffer.from('t0k3n')]);
const bodyFile = join(WORK, 'body.bin');
writeFileSync(bodyFile, Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]));

const profileFlags = (name: string, phase: string) =>
  // One directory per server: the main thread, the log store's writer and tsx's hooks thread each write a profile.
  CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(CPU_PROF, name, phase)}`] : [];
const commands: Record<VariantName, (phase: string) => { args: string[]; cwd: string }> = {
  grpcjs: (phase) => ({
    args: ['node', ...profileFlags('grpcjs', phase), '--import', TSX, join(serviceDir, 'bare-grpcjs.ts')],
    cwd: serviceDir,
  }),
  nice: (phase) => ({
    args: ['node', ...profileFlags('nice', phase), '--import', TSX, join(serviceDir, 'bare-nice.ts')],
    cwd: serviceDir,
  }),
  serve: (phase) => ({ args: ['node', ...profileFlags('serve', phase), CLI, 'serve', 'auth', '--port', '0'], cwd: ws }),
};

interface Server {
  readonly child: ChildProcess;
  readonly address: string;
}

function start(name: VariantName, phase: string): Promise<Server> {
  const { args, cwd } = commands[name](phase);
  // taskset execs the program: the child's pid is the server's.
  const child = spawn('taskset', ['-c', '0', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start: ${stderr}`));
    }, 30_000);
    child.on('exit', (code) => reject(new Error(`${name} exited ${String(code)}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listening on (\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ child, address: match[1]! });
      }
    });
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit');
    if (server.child.exitCode !== null) return resolve();
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
    server.child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    server.child.kill('SIGTERM');
  });
}

/**
 * CPU ticks (1/100 s) of the live threads of `pid`, by thread name (`/proc/PID/task/TID/comm`), the main thread as
 * `main`: V8's GC helpers, the log store's writer (a worker thread), libuv's pool.
 */
function threadTicks(pid: number): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    let name: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      name = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue; // the thread ended meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks.set(name, (ticks.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

interface LoadResult {
  readonly rps: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly raw: string;
}

function h2load(address: string, seconds: number, extra: readonly string[] = [], conns = CONNS, streams = STREAMS): LoadResult {
  const args = ['-c', '1', 'h2load', '-c', String(conns), '-m', String(streams), '-t', '1', '-D', String(seconds), ...extra];
  args.push('-d', bodyFile, '-H', 'content-type: application/grpc', '-H', 'te: trailers', '-H', `x-api-key: ${key}`);
  args.push(`http://${address}/auth.v1.AuthService/ValidateToken`);
  const result = spawnSync('taskset', args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const out = result.stdout;
  const rate = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
  const counts = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  return {
    rps: rate ? Number(rate[2]) : 0,
    succeeded: counts ? Number(counts[2]) : 0,
    failed: counts ? Number(counts[3]) + Number(counts[4]) : -1,
    raw: rate ? '' : out.slice(-800) + result.stderr,
  };
}

/** One gRPC check per variant: the call must be OK (h2load only sees HTTP 200). */
function grpcStatus(address: string): string {
  const result = spawnSync(
    join(ROOT, 'node_modules/.bin/buf'),
    ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '-H', `x-api-key: ${key}`, '--schema', join(ws, 'proto')].concat([
      '-d',
      '{"token":"t0k3n"}',
      `http://${address}/auth.v1.AuthService/ValidateToken`,
    ]),
    { encoding: 'utf8', cwd: ws },
  );
  return result.status === 0 ? 'OK' : (result.stderr || result.stdout).trim().split('\n').slice(-1)[0]!;
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const median = (list: readonly number[]) => {
  const sorted = [...list].filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : NaN;
};
const round2 = (value: number) => Math.round(value * 100) / 100;

interface Saturated {
  readonly rps: number;
  readonly cpuUsPerCall: number;
  readonly mainUsPerCall: number;
  readonly otherUsPerCall: number;
  readonly serverCores: number;
  /** µs per call by thread name (threads that ran in the window). */
  readonly threadUsPerCall: Record<string, number>;
  readonly failed: number;
}
interface FixedRate {
  readonly targetRps: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
}

async function saturate(name: VariantName, round: number): Promise<Saturated | undefined> {
  const server = await start(name, `saturated-r${round}`);
  try {
    const pid = server.child.pid!;
    if (round === 0) {
      const status = grpcStatus(server.address);
      if (status !== 'OK') throw new Error(`${name}: the call is not OK (${status})`);
    }
    h2load(server.address, WARMUP);
    const before = threadTicks(pid);
    const startedAt = performance.now();
    const load = h2load(server.address, SECONDS);
    const after = threadTicks(pid);
    const wallS = (performance.now() - startedAt) / 1000;
    const perCall = (ticks: number) => (load.succeeded ? ((ticks / 100) * 1e6) / load.succeeded : NaN);
    const byThread = new Map([...after].map(([name, t]) => [name, t - (before.get(name) ?? 0)]));
    const main = byThread.get('main') ?? 0;
    const other = [...byThread].reduce((sum, [name, t]) => (name === 'main' ? sum : sum + t), 0);
    const result: Saturated = {
      rps: Math.round(load.rps),
      cpuUsPerCall: round2(perCall(main + other)),
      mainUsPerCall: round2(perCall(main)),
      otherUsPerCall: round2(perCall(other)),
      serverCores: round2((main + other) / 100 / wallS),
      threadUsPerCall: Object.fromEntries([...byThread].filter(([, t]) => t > 0).map(([name, t]) => [name, round2(perCall(t))])),
      failed: load.failed,
    };
    console.error(
      `round ${round + 1} ${name} saturated: ${result.rps} calls/s, server ${result.serverCores} cores, ` +
        `${result.cpuUsPerCall} µs/call (${Object.entries(result.threadUsPerCall)
          .map(([n, us]) => `${n} ${us}`)
          .join(', ')}), ` +
        `failed ${result.failed}${load.raw ? ` RAW ${load.raw}` : ''}`,
    );
    return result;
  } finally {
    await stop(server);
  }
}

async function fixedRate(name: VariantName, round: number, totalRps: number): Promise<FixedRate> {
  const server = await start(name, `rate-r${round}`);
  try {
    // One call in flight per connection: h2load sends each connection's share of the rate as it is due, instead of
    // bursts of up to --streams calls (which measure the burst, not the server).
    const perConnection = Math.max(1, Math.round(totalRps / RATE_CONNS));
    h2load(server.address, WARMUP, ['--rps', String(perConnection)], RATE_CONNS, 1);
    const logFile = join(WORK, `rate-${name}-${round}.tsv`);
    const load = h2load(server.address, RATE_SECONDS, ['--rps', String(perConnection), '--log-file', logFile], RATE_CONNS, 1);
    // start µs since epoch, HTTP status, µs until the end of the response
    const latencies = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line.split('\t')[2]) / 1000)
      .sort((a, b) => a - b);
    const result: FixedRate = {
      targetRps: perConnection * RATE_CONNS,
      rps: Math.round(load.rps),
      p50Ms: round2(percentile(latencies, 0.5)),
      p99Ms: round2(percentile(latencies, 0.99)),
      failed: load.failed,
    };
    console.error(
      `round ${round + 1} ${name} at ${result.targetRps} calls/s: got ${result.rps}, p50 ${result.p50Ms} ms, ` +
        `p99 ${result.p99Ms} ms, failed ${result.failed}`,
    );
    return result;
  } finally {
    await stop(server);
  }
}

// Every variant has its list (empty when not run), so ratios with one not run are NaN, not a crash.
const saturated = Object.fromEntries(VARIANT_NAMES.map((name) => [name, [] as Saturated[]])) as Record<VariantName, Saturated[]>;
const rated = Object.fromEntries(VARIANT_NAMES.map((name) => [name, [] as FixedRate[]])) as Record<VariantName, FixedRate[]>;
for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]!);
  for (const name of order) saturated[name].push((await saturate(name, round))!);
  if (RATE_FRACTION > 0) {
    const target = Math.round(saturated.nice[round]!.rps * RATE_FRACTION);
    for (const name of order) rated[name].push(await fixedRate(name, round, target));
  }
}

/** Per round, `a`'s figure over `b`'s (adjacent in time), then the median of rounds. */
const perRound = <T>(list: Record<VariantName, T[]>, a: VariantName, b: VariantName, of: (item: T) => number) =>
  list[a].length && list[b].length ? list[a].map((item, i) => of(item) / of(list[b][i]!)) : [];
const summary = {
  variants: Object.fromEntries(
    names.map((name) => [
      name,
      {
        rps: median(saturated[name].map((r) => r.rps)),
        rpsRange: [Math.min(...saturated[name].map((r) => r.rps)), Math.max(...saturated[name].map((r) => r.rps))],
        cpuUsPerCall: median(saturated[name].map((r) => r.cpuUsPerCall)),
        mainUsPerCall: median(saturated[name].map((r) => r.mainUsPerCall)),
        otherUsPerCall: median(saturated[name].map((r) => r.otherUsPerCall)),
        ...(rated[name].length
          ? { fixedRate: { p50Ms: median(rated[name].map((r) => r.p50Ms)), p99Ms: median(rated[name].map((r) => r.p99Ms)) } }
          : {}),
      },
    ]),
  ),
  ratios: {
    'serve/nice per round': perRound(saturated, 'serve', 'nice', (r) => r.rps).map(round2),
    'serve/nice': round2(median(perRound(saturated, 'serve', 'nice', (r) => r.rps))),
    'nice/grpcjs': round2(median(perRound(saturated, 'nice', 'grpcjs', (r) => r.rps))),
    'serve/grpcjs': round2(median(perRound(saturated, 'serve', 'grpcjs', (r) => r.rps))),
  },
  fixedRate:
    RATE_FRACTION > 0
      ? {
          fraction: RATE_FRACTION,
          'p99 serve − nice per round, ms': rated.serve.map((r, i) => round2(r.p99Ms - rated.nice[i]!.p99Ms)),
          'p99 serve − nice, ms': round2(median(rated.serve.map((r, i) => r.p99Ms - rated.nice[i]!.p99Ms))),
        }
      : undefined,
  rounds: { saturated, fixedRate: rated },
  config: {
    rounds: ROUNDS,
    seconds: SECONDS,
    warmup: WARMUP,
    conns: CONNS,
    streams: STREAMS,
    rateSeconds: RATE_SECONDS,
    rateConns: RATE_CONNS,
    commit: sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).trim(),
    node: process.version,
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  },
};
console.log(JSON.stringify(summary, null, 2));
if (values.markdown) {
  const rows = names.map((name) => {
    const v = summary.variants[name]!;
    const p99 = 'fixedRate' in v ? `${v.fixedRate.p50Ms} / ${v.fixedRate.p99Ms}` : '–';
    return `| ${name} | ${v.rps} (${v.rpsRange.join('–')}) | ${v.cpuUsPerCall} (${v.mainUsPerCall} + ${v.otherUsPerCall}) | ${p99} |`;
  });
  writeFileSync(
    values.markdown,
    [
      '| variant | calls/s saturated, median (min–max) | server CPU µs/call (main + other threads) | fixed rate p50 / p99 ms |',
      '|---|---|---|---|',
      ...rows,
      '',
      `serve/nice per round: ${summary.ratios['serve/nice per round'].join(', ')} (median ${summary.ratios['serve/nice']})`,
      '',
    ].join('\n'),
  );
}
