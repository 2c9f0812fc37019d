// Unary throughput, latency and server cost of a bare nice-grpc server and of grpcforge's full pipeline, with and
// without its SQLite log store, side by side in one run, on the same contract and the same metadata.
//   node --import tsx bench/unary-pipeline.ts [--seconds 6] [--warmup 2] [--rounds 3] [--concurrency 1,16,64]
//     [--variants bare,pipeline-no-store,pipeline] [--markdown out.md]
// Every measured window gets a fresh server child (bench/server.ts), warmed up at the window's concurrency first.
// Within a round the variants are rotated (round r starts at variant r mod n), so no variant always runs first.
// The load generator is this process (one client, one HTTP/2 connection, N calls in flight). The server's CPU is the
// child's process.cpuUsage() over the window — every thread of the process, the log store's writer thread included —
// divided by the calls completed in the window. JSON on stdout; progress and a markdown table on stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Metadata, closeServiceClient, createServiceClient } from '../packages/runtime/src/index.ts';
import { EchoDefinition } from '../test/helpers/json-definition.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '1,16,64' },
    rounds: { type: 'string', default: '3' },
    variants: { type: 'string', default: 'bare,pipeline-no-store,pipeline' },
    markdown: { type: 'string' },
    'max-other-cores': { type: 'string', default: '0.3' },
    retries: { type: 'string', default: '2' },
  },
});
const seconds = Number(values.seconds);
const warmupSeconds = Number(values.warmup);
const concurrencies = values.concurrency.split(',').map(Number);
const rounds = Number(values.rounds);
/** A window during which the rest of the machine used more CPU than this (cores) is measured again, up to `retries` times. */
const maxOtherCores = Number(values['max-other-cores']);
const retries = Number(values.retries);

/** How each variant's server is started: bench/server.ts mode and environment. */
const VARIANTS = {
  bare: { mode: 'bare', env: {} },
  'pipeline-no-store': { mode: 'pipeline', env: { BENCH_NO_LOG: '1' } },
  'pipeline-discard': { mode: 'pipeline', env: { BENCH_DISCARD_LOG: '1' } },
  pipeline: { mode: 'pipeline', env: {} },
} as const;
type Variant = keyof typeof VARIANTS;
const variants = values.variants.split(',') as Variant[];
for (const variant of variants) if (!(variant in VARIANTS)) throw new Error(`unknown variant ${variant}`);

interface WindowFigures {
  readonly wallMs: number;
  readonly cpuUs: number;
  readonly threadCpuUs: { main: number; writer: number; other: number };
  readonly eld: { samples: number; p50Ms: number; p99Ms: number; maxMs: number; meanMs: number };
}

interface Result {
  readonly calls: number;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server process CPU time per call, µs (all threads): what bounds the server's own throughput. */
  readonly serverCpuUsPerCall: number;
  /** The same, by thread: the main (request) thread, the log store's writer thread, the rest (GC, libuv pool). */
  readonly serverThreadCpuUsPerCall: { main: number; writer: number; other: number };
  /** Server CPU use over the window, in cores. */
  readonly serverCores: number;
  readonly eldP99Ms: number;
  readonly eldMaxMs: number;
  /** This process's (the load generator's) CPU over the window, in cores. */
  readonly clientCores: number;
  /** CPU the rest of the machine used over the window (busy time of /proc/stat minus client and server), in cores. */
  readonly otherCores: number;
  /** Log store counters at stop (pipeline only), and the calls this process made to that server. */
  readonly store?: { recorded: number; written: number; dropped: number; queued: number; clientCalls: number };
}

interface Child {
  readonly child: ChildProcess;
  readonly address: string;
  readonly key: string | undefined;
  /** Resolves with the next stdout line starting with `prefix`. */
  next(prefix: string): Promise<string>;
  readonly exited: Promise<unknown>;
}

async function startChild(variant: Variant): Promise<Child> {
  const { mode, env } = VARIANTS[variant];
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./server.ts', import.meta.url).pathname, mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiters.findIndex((candidate) => line.startsWith(candidate.prefix));
    if (waiter >= 0) waiters.splice(waiter, 1)[0]!.resolve(line);
    else lines.push(line);
  });
  const next = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.findIndex((line) => line.startsWith(prefix));
      if (seen >= 0) return resolve(lines.splice(seen, 1)[0]!.slice(prefix.length));
      waiters.push({ prefix, resolve: (line) => resolve(line.slice(prefix.length)) });
      void exited.then(() => reject(new Error(`${variant} server exited before printing "${prefix}"`)));
    });
  const address = await next('listening on ');
  const key = mode === 'pipeline' ? await next('key ') : undefined;
  await next('ready');
  return { child, address, key, next, exited };
}

/** Busy CPU time of the whole machine so far, ms (Linux /proc/stat; 0 elsewhere). */
function machineBusyMs(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    return ((total - fields[3]! - fields[4]!) * 1000) / 100; // minus idle and iowait; USER_HZ is 100
  } catch {
    return 0;
  }
}

type EchoClient = { echo(request: object, options?: object): Promise<unknown> };

async function load(
  client: EchoClient,
  options: object,
  concurrency: number,
  durationMs: number,
): Promise<{ calls: number; callsPerSecond: number; p50Ms: number; p99Ms: number; elapsedMs: number }> {
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      await client.echo({ text: 'hello' }, options);
      latencies.push(performance.now() - start);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)]!;
  return {
    calls: latencies.length,
    callsPerSecond: (latencies.length / elapsedMs) * 1000,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    elapsedMs,
  };
}

async function measure(variant: Variant, concurrency: number): Promise<Result> {
  const server = await startChild(variant);
  const client = createServiceClient(EchoDefinition, { target: server.address }) as unknown as EchoClient;
  // Every variant gets the same metadata: parsing it is the transport's cost, not the pipeline's.
  const options = {
    metadata: Metadata({ 'x-api-key': server.key ?? 'gfk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
  };
  // Warm-up at the window's concurrency: JIT, the connection, SQLite pages, the writer thread's first batches.
  const warm = await load(client, options, concurrency, warmupSeconds * 1000);
  server.child.stdin!.write('start\n');
  await server.next('started');
  const clientCpu = process.cpuUsage();
  const machineBefore = machineBusyMs();
  const measured = await load(client, options, concurrency, seconds * 1000);
  const machineMs = machineBusyMs() - machineBefore;
  const clientCpuUs = process.cpuUsage(clientCpu);
  const figuresLine = server.next('window ');
  server.child.stdin!.write('stop\n');
  const figures = JSON.parse(await figuresLine) as WindowFigures;
  closeServiceClient(client);
  const counters = VARIANTS[variant].mode === 'pipeline' ? server.next('counters ') : undefined;
  server.child.kill('SIGTERM');
  const store = counters
    ? (JSON.parse(await counters) as { recorded: number; written: number; dropped: number; queued: number })
    : undefined;
  await server.exited;
  const perCall = (us: number) => us / measured.calls;
  return {
    calls: measured.calls,
    callsPerSecond: measured.callsPerSecond,
    p50Ms: measured.p50Ms,
    p99Ms: measured.p99Ms,
    serverCpuUsPerCall: perCall(figures.cpuUs),
    serverThreadCpuUsPerCall: {
      main: perCall(figures.threadCpuUs.main),
      writer: perCall(figures.threadCpuUs.writer),
      other: perCall(figures.threadCpuUs.other),
    },
    serverCores: figures.cpuUs / 1000 / figures.wallMs,
    eldP99Ms: figures.eld.p99Ms,
    eldMaxMs: figures.eld.maxMs,
    clientCores: (clientCpuUs.user + clientCpuUs.system) / 1000 / measured.elapsedMs,
    otherCores: Math.max(0, (machineMs - (clientCpuUs.user + clientCpuUs.system + figures.cpuUs) / 1000) / measured.elapsedMs),
    ...(store
      ? {
          store: {
            recorded: store.recorded,
            written: store.written,
            dropped: store.dropped,
            queued: store.queued,
            clientCalls: warm.calls + measured.calls,
          },
        }
      : {}),
  };
}

const results = new Map<number, Map<Variant, Result[]>>(
  concurrencies.map((concurrency) => [concurrency, new Map(variants.map((variant) => [variant, []]))]),
);
const storeProblems: string[] = [];
let remeasured = 0;
const startedAt = performance.now();
for (let round = 0; round < rounds; round++) {
  const order = variants.map((_, index) => variants[(round + index) % variants.length]!);
  for (const concurrency of concurrencies) {
    for (const variant of order) {
      let result = await measure(variant, concurrency);
      for (let retry = 1; retry <= retries && result.otherCores > maxOtherCores; retry++) {
        process.stderr.write(
          `  (round ${round + 1} c=${concurrency} ${variant}: others used ${result.otherCores.toFixed(2)} cores, measuring again)\n`,
        );
        remeasured++;
        result = await measure(variant, concurrency);
      }
      results.get(concurrency)!.get(variant)!.push(result);
      const threads = result.serverThreadCpuUsPerCall;
      process.stderr.write(
        `round ${round + 1} c=${String(concurrency).padEnd(3)} ${variant.padEnd(17)} ` +
          `${result.callsPerSecond.toFixed(0).padStart(5)} calls/s  p50 ${result.p50Ms.toFixed(2)} ms  ` +
          `p99 ${result.p99Ms.toFixed(2)} ms  server ${result.serverCpuUsPerCall.toFixed(1)} µs/call ` +
          `(main ${threads.main.toFixed(1)}, writer ${threads.writer.toFixed(1)}, other ${threads.other.toFixed(1)}; ` +
          `${result.serverCores.toFixed(2)} cores)  ELD p99 ${result.eldP99Ms.toFixed(2)} ms  ` +
          `client ${result.clientCores.toFixed(2)} cores  others ${result.otherCores.toFixed(2)} cores` +
          (result.store ? `  store ${JSON.stringify(result.store)}` : '') +
          '\n',
      );
      const store = result.store;
      if (
        store &&
        variant !== 'pipeline-no-store' &&
        (store.dropped !== 0 ||
          store.written + store.dropped !== store.recorded ||
          (variant === 'pipeline' && store.recorded !== store.clientCalls))
      )
        storeProblems.push(`round ${round + 1} c=${concurrency} ${variant}: ${JSON.stringify(store)}`);
    }
  }
}

const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const summarize = (list: Result[]) => ({
  callsPerSecond: median(list.map((r) => r.callsPerSecond)),
  p50Ms: median(list.map((r) => r.p50Ms)),
  p99Ms: median(list.map((r) => r.p99Ms)),
  serverCpuUsPerCall: median(list.map((r) => r.serverCpuUsPerCall)),
  serverThreadCpuUsPerCall: {
    main: median(list.map((r) => r.serverThreadCpuUsPerCall.main)),
    writer: median(list.map((r) => r.serverThreadCpuUsPerCall.writer)),
    other: median(list.map((r) => r.serverThreadCpuUsPerCall.other)),
  },
  serverCores: median(list.map((r) => r.serverCores)),
  eldP99Ms: median(list.map((r) => r.eldP99Ms)),
  clientCores: median(list.map((r) => r.clientCores)),
  otherCoresMax: Math.max(...list.map((r) => r.otherCores)),
  rounds: list,
});
type Summary = ReturnType<typeof summarize>;

/** Comparisons of two variants: of the medians, and the range of the same comparison within each round. */
function compare(a: Result[], b: Result[], sa: Summary, sb: Summary) {
  const paired = (f: (x: Result, y: Result) => number) => a.map((x, index) => f(x, b[index]!));
  const range = (list: number[]) => [Math.min(...list), Math.max(...list)] as const;
  return {
    /** b's CPU per call over a's: ≥ 0.90 is the target for bare / pipeline. */
    cpuRatio: sb.serverCpuUsPerCall / sa.serverCpuUsPerCall,
    cpuRatioRounds: range(paired((x, y) => y.serverCpuUsPerCall / x.serverCpuUsPerCall)),
    throughputRatio: sa.callsPerSecond / sb.callsPerSecond,
    p99DeltaMs: sa.p99Ms - sb.p99Ms,
    p99DeltaMsRounds: range(paired((x, y) => x.p99Ms - y.p99Ms)),
    eldP99DeltaMs: sa.eldP99Ms - sb.eldP99Ms,
    eldP99DeltaMsRounds: range(paired((x, y) => x.eldP99Ms - y.eldP99Ms)),
  };
}

const perConcurrency = concurrencies.map((concurrency) => {
  const byVariant = results.get(concurrency)!;
  const summaries = Object.fromEntries(variants.map((variant) => [variant, summarize(byVariant.get(variant)!)])) as Record<
    Variant,
    Summary
  >;
  const has = (variant: Variant) => variants.includes(variant);
  return {
    concurrency,
    variants: summaries,
    // "a vs b": a is the heavier variant; CPU ratio is b µs / a µs, deltas are a minus b.
    ...(has('pipeline') && has('bare')
      ? { pipelineVsBare: compare(byVariant.get('pipeline')!, byVariant.get('bare')!, summaries.pipeline, summaries.bare) }
      : {}),
    ...(has('pipeline') && has('pipeline-no-store')
      ? {
          pipelineVsNoStore: compare(
            byVariant.get('pipeline')!,
            byVariant.get('pipeline-no-store')!,
            summaries.pipeline,
            summaries['pipeline-no-store'],
          ),
        }
      : {}),
    ...(has('pipeline-no-store') && has('bare')
      ? {
          noStoreVsBare: compare(
            byVariant.get('pipeline-no-store')!,
            byVariant.get('bare')!,
            summaries['pipeline-no-store'],
            summaries.bare,
          ),
        }
      : {}),
  };
});

console.log(
  JSON.stringify(
    {
      node: process.version,
      seconds,
      warmupSeconds,
      rounds,
      concurrencies,
      variants,
      totalMinutes: (performance.now() - startedAt) / 60000,
      maxOtherCores,
      remeasured,
      eld: 'server main thread, monitorEventLoopDelay (2 ms period unless BENCH_ELD_RESOLUTION_MS), net of the period',
      serverCpu: 'process.cpuUsage() of the server child over the window: all its threads, the writer thread included',
      storeProblems,
      results: perConcurrency.map(({ variants: summaries, ...rest }) => ({
        ...rest,
        variants: Object.fromEntries(
          Object.entries(summaries).map(([variant, { rounds: raw, ...summary }]) => [
            variant,
            {
              ...summary,
              rounds: raw.map((r) => ({
                callsPerSecond: r.callsPerSecond,
                p99Ms: r.p99Ms,
                serverCpuUsPerCall: r.serverCpuUsPerCall,
                eldP99Ms: r.eldP99Ms,
                clientCores: r.clientCores,
                otherCores: r.otherCores,
                ...(r.store ? { store: r.store } : {}),
              })),
            },
          ]),
        ),
      })),
    },
    null,
    2,
  ),
);

// The markdown tables.
const f = (value: number, digits = 1) => value.toFixed(digits);
const signed = (value: number, digits = 2) => (value >= 0 ? '+' : '−') + Math.abs(value).toFixed(digits);
const mark = (ok: boolean) => (ok ? '✔' : '✘');
const md: string[] = [];
md.push(
  '| in flight | variant | calls/s | p50 (ms) | p99 (ms) | server CPU µs/call (main + writer + other) | server cores | server ELD p99 (ms) | client cores | others, max (cores) |',
  '|---|---|---|---|---|---|---|---|---|---|',
);
for (const { concurrency, variants: summaries } of perConcurrency) {
  for (const variant of variants) {
    const s = summaries[variant];
    const t = s.serverThreadCpuUsPerCall;
    md.push(
      `| ${concurrency} | ${variant} | ${f(s.callsPerSecond, 0)} | ${f(s.p50Ms, 2)} | ${f(s.p99Ms, 2)} | ` +
        `${f(s.serverCpuUsPerCall)} (${f(t.main)} + ${f(t.writer)} + ${f(t.other)}) | ${f(s.serverCores, 2)} | ` +
        `${f(s.eldP99Ms, 2)} | ${f(s.clientCores, 2)} | ${f(s.otherCoresMax, 2)} |`,
    );
  }
}
if (variants.includes('pipeline') && variants.includes('bare') && variants.includes('pipeline-no-store')) {
  md.push(
    '',
    '| in flight | CPU bare/pipeline (rounds) ≥ 0.90 | CPU no-store/pipeline | calls/s pipeline/bare | p99 pipeline − bare (rounds) ≤ +0.5 ms | p99 pipeline − no-store | ELD p99 pipeline − no-store (rounds) ≤ +1 ms | ELD p99 pipeline − bare |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const row of perConcurrency) {
    const vsBare = row.pipelineVsBare!;
    const vsNoStore = row.pipelineVsNoStore!;
    md.push(
      `| ${row.concurrency} | ${f(vsBare.cpuRatio, 2)} (${f(vsBare.cpuRatioRounds[0], 2)}–${f(vsBare.cpuRatioRounds[1], 2)}) ${mark(vsBare.cpuRatio >= 0.9)} | ` +
        `${f(vsNoStore.cpuRatio, 2)} | ${f(vsBare.throughputRatio, 2)} | ` +
        `${signed(vsBare.p99DeltaMs)} (${signed(vsBare.p99DeltaMsRounds[0])}…${signed(vsBare.p99DeltaMsRounds[1])}) ${mark(vsBare.p99DeltaMs <= 0.5)} | ` +
        `${signed(vsNoStore.p99DeltaMs)} | ` +
        `${signed(vsNoStore.eldP99DeltaMs)} (${signed(vsNoStore.eldP99DeltaMsRounds[0])}…${signed(vsNoStore.eldP99DeltaMsRounds[1])}) ${mark(vsNoStore.eldP99DeltaMs <= 1)} | ` +
        `${signed(vsBare.eldP99DeltaMs)} |`,
    );
  }
}
md.push(
  '',
  `Windows measured again because the rest of the machine used > ${maxOtherCores} cores: ${remeasured}.`,
  storeProblems.length
    ? `Store counters NOT consistent: ${storeProblems.join('; ')}`
    : 'Every call of the `pipeline` variant was a row (recorded == calls made == written, 0 dropped).',
);
process.stderr.write(`\n${md.join('\n')}\n`);
if (values.markdown) writeFileSync(values.markdown, `${md.join('\n')}\n`);
