// A benchmark server in its own process: `bare` is plain nice-grpc; `pipeline` is grpcforge's startServer with
// the full pipeline (request logger -> API-key auth -> error mapping) and a SQLite log store on a file.
// Prints `listening on 127.0.0.1:PORT`, then `key <api key>` for the pipeline, then `ready`.
//
// Measuring windows, driven by lines on stdin (not SIGUSR1: Node reserves it for the inspector):
//   `start` -> resets the event-loop delay histogram and takes the CPU baseline; answers `started`.
//   `stop`  -> answers `window {json}`: the process's CPU time since `start` (process.cpuUsage: every thread of the
//           process, so the log store's writer thread is included), split by thread (/proc/self/task, Linux), and the
//           event-loop delay of the main thread (perf_hooks.monitorEventLoopDelay) since `start`.
//   SIGUSR2 -> `cpu <µs since the process started>` (the older protocol).
//   SIGTERM -> shuts down, closes the store, prints `window {json}` of the open window (if any) and `counters {json}`.
// BENCH_NO_LOG=1 drops the request logger (the store is still opened, for API keys); BENCH_DISCARD_LOG=1 keeps the
// logger but discards its rows; BENCH_NO_AUTH=1 drops API-key auth. BENCH_ELD_RESOLUTION_MS (default 2) is the
// sampling period of the event-loop delay monitor; the delays printed are net of it (an idle loop reads 0).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createServer } from 'nice-grpc';
import { createLogStore, defineService, startServer } from '../packages/runtime/src/index.ts';
import { EchoDefinition, type EchoMessage } from '../test/helpers/json-definition.ts';
import { createTestApiKey } from '../test/helpers/api-keys.ts';

const implementation = {
  echo: async (request: EchoMessage) => ({ text: request.text }),
  repeat: async function* () {},
  collect: async () => ({}),
  chat: async function* () {},
};

// SIGUSR2 prints this process's CPU time so far (user + system, µs).
process.on('SIGUSR2', () => {
  const { user, system } = process.cpuUsage();
  console.log(`cpu ${user + system}`);
});

/** CPU time of each thread of this process, µs (Linux; empty elsewhere). */
function threadCpu(): Map<string, number> {
  const threads = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return threads;
  }
  const tickUs = 1e6 / 100; // USER_HZ is 100 on Linux
  for (const tid of tasks) {
    try {
      const line = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
      threads.set(tid, (Number(fields[11]) + Number(fields[12])) * tickUs); // utime, stime
    } catch {
      // the thread ended
    }
  }
  return threads;
}

const eldResolutionMs = Number(process.env.BENCH_ELD_RESOLUTION_MS ?? 2);
const eld = monitorEventLoopDelay({ resolution: eldResolutionMs });
eld.enable();
/** Threads started by the log store (its writer), told apart from the main thread and Node's/V8's own. */
let writerThreads = new Set<string>();
let window: { cpu: NodeJS.CpuUsage; threads: Map<string, number>; started: number } | undefined;

function startWindow(): void {
  eld.reset();
  window = { cpu: process.cpuUsage(), threads: threadCpu(), started: performance.now() };
}

function windowFigures(): object | undefined {
  if (!window) return undefined;
  const cpu = process.cpuUsage(window.cpu);
  const threads = threadCpu();
  const byThread = { main: 0, writer: 0, other: 0 };
  for (const [tid, us] of threads) {
    const delta = us - (window.threads.get(tid) ?? 0);
    if (tid === String(process.pid)) byThread.main += delta;
    else if (writerThreads.has(tid)) byThread.writer += delta;
    else byThread.other += delta;
  }
  // Node 20's histogram holds the time between two ticks of its timer, so an idle loop reads the resolution: the delay
  // is what exceeds it.
  const ms = (ns: number) => Math.max(0, ns / 1e6 - eldResolutionMs);
  return {
    wallMs: performance.now() - window.started,
    cpuUs: cpu.user + cpu.system,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    threadCpuUs: byThread,
    eld: {
      resolutionMs: eldResolutionMs,
      samples: eld.count,
      p50Ms: ms(eld.percentile(50)),
      p99Ms: ms(eld.percentile(99)),
      maxMs: ms(eld.max),
      meanMs: ms(eld.mean),
    },
  };
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'start') {
    startWindow();
    console.log('started');
  } else if (line === 'stop') {
    console.log(`window ${JSON.stringify(windowFigures())}`);
    window = undefined;
  }
});
// The parent going away closes stdin; the SIGTERM path is the normal stop.
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));

let stopping = false;
const mode = process.argv[2];
if (mode === 'bare') {
  const server = createServer();
  server.add(EchoDefinition as never, implementation as never);
  const port = await server.listen('127.0.0.1:0');
  console.log(`listening on 127.0.0.1:${port}`);
  console.log('ready');
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    const figures = windowFigures();
    if (figures) console.log(`window ${JSON.stringify(figures)}`);
    void server.shutdown().then(() => process.exit(0));
  });
} else if (mode === 'pipeline') {
  const dir = mkdtempSync(join(tmpdir(), 'grpcforge-bench-'));
  await stat(dir); // starts libuv's thread pool now, so that the threads the store starts are told apart
  const threadsBefore = new Set(threadCpu().keys());
  const store = await createLogStore({
    url: `sqlite:${join(dir, 'bench.db')}`,
    flushIntervalMs: Number(process.env.BENCH_FLUSH_MS ?? 100),
    batchSize: Number(process.env.BENCH_BATCH ?? 500),
  });
  writerThreads = new Set([...threadCpu().keys()].filter((tid) => !threadsBefore.has(tid)));
  const { key } = await createTestApiKey(store, { name: 'bench' });
  const discard = () => {};
  const recordCall = process.env.BENCH_NO_LOG ? undefined : process.env.BENCH_DISCARD_LOG ? discard : store.logs.record;
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    services: [defineService(EchoDefinition as never, implementation as never)],
    ...(recordCall ? { recordCall } : {}),
    ...(process.env.BENCH_NO_AUTH
      ? {}
      : {
          auth: {
            policy: {},
            apiKeys: { verify: (k) => store.apiKeys.verify(k), countUse: (id, at) => store.apiKeys.countUse(id, at) },
          },
        }),
    health: false,
    reflection: false,
  });
  console.log(`listening on ${server.address}`);
  console.log(`key ${key}`);
  console.log(`writer threads ${[...writerThreads].join(',') || '(none found)'}`);
  console.log('ready');
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    const figures = windowFigures();
    if (figures) console.log(`window ${JSON.stringify(figures)}`);
    void server.shutdown(5000).then(async () => {
      await store.close();
      console.log(`counters ${JSON.stringify(store.counters())}`);
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
} else {
  console.error('usage: server.ts bare|pipeline');
  process.exit(2);
}
