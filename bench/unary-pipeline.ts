// Unary throughput and latency of a bare nice-grpc server and of grpcforge's full pipeline (API-key auth + SQLite
// logging), side by side in one run, on the same contract. Servers run in child processes; the load comes from here.
//   node --import tsx bench/unary-pipeline.ts [--seconds 8] [--concurrency 64] [--rounds 3]
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Metadata, closeServiceClient, createServiceClient } from '../src/runtime/index.ts';
import { EchoDefinition } from '../test/helpers/json-definition.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);

interface Result {
  readonly callsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** Server CPU time per call, µs: what bounds the server's own throughput. */
  readonly serverCpuUsPerCall: number;
}

async function startChild(mode: string): Promise<{ child: ChildProcess; address: string; key?: string; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./server.ts', import.meta.url).pathname, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let address = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('listening on ')) address = line.slice('listening on '.length);
      if (mode === 'bare' && address) resolve({ child, address, lines });
      if (line.startsWith('key ')) resolve({ child, address, key: line.slice(4), lines });
    });
    child.once('exit', (code, signal) => reject(new Error(`${mode} server exited with ${code ?? String(signal)}`)));
  });
}

async function load(
  address: string,
  key: string | undefined,
  durationMs: number,
): Promise<Omit<Result, 'serverCpuUsPerCall'> & { calls: number }> {
  const client = createServiceClient(EchoDefinition, { target: address }) as unknown as {
    echo(request: object, options?: object): Promise<unknown>;
  };
  // Both servers get the same metadata: parsing it is the transport's cost, not the pipeline's.
  const options = { metadata: Metadata({ 'x-api-key': key ?? 'gfk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }) };
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
  const elapsed = performance.now() - started;
  closeServiceClient(client);
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)]!;
  return { callsPerSecond: (latencies.length / elapsed) * 1000, p50: at(0.5), p99: at(0.99), calls: latencies.length };
}

/** Asks the server for its CPU time (µs) and waits for the answer line. */
async function serverCpu(server: { child: ChildProcess; lines: string[] }): Promise<number> {
  const seen = server.lines.length;
  server.child.kill('SIGUSR2');
  for (;;) {
    const line = server.lines.slice(seen).find((candidate) => candidate.startsWith('cpu '));
    if (line) return Number(line.slice(4));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function measure(mode: 'bare' | 'pipeline'): Promise<Result> {
  const server = await startChild(mode);
  await load(server.address, server.key, 2000); // warm-up: JIT, connection, SQLite pages
  const cpuBefore = await serverCpu(server);
  const measured = await load(server.address, server.key, seconds * 1000);
  const cpuAfter = await serverCpu(server);
  const result = { ...measured, serverCpuUsPerCall: (cpuAfter - cpuBefore) / measured.calls };
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
  const counters = server.lines.find((line) => line.startsWith('counters '));
  if (counters) process.stderr.write(`  ${mode} store ${counters.slice(9)}\n`);
  return result;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results: Record<'bare' | 'pipeline', Result[]> = { bare: [], pipeline: [] };
for (let round = 1; round <= rounds; round++) {
  for (const mode of ['bare', 'pipeline'] as const) {
    const result = await measure(mode);
    results[mode].push(result);
    process.stderr.write(
      `round ${round} ${mode.padEnd(8)} ${result.callsPerSecond.toFixed(0)} calls/s  p50 ${result.p50.toFixed(3)} ms  ` +
        `p99 ${result.p99.toFixed(3)} ms  server ${result.serverCpuUsPerCall.toFixed(1)} µs CPU/call\n`,
    );
  }
}
const summary = (mode: 'bare' | 'pipeline') => ({
  callsPerSecond: median(results[mode].map((r) => r.callsPerSecond)),
  p50Ms: median(results[mode].map((r) => r.p50)),
  p99Ms: median(results[mode].map((r) => r.p99)),
  serverCpuUsPerCall: median(results[mode].map((r) => r.serverCpuUsPerCall)),
});
const bare = summary('bare');
const pipeline = summary('pipeline');
console.log(
  JSON.stringify(
    {
      node: process.version,
      seconds,
      concurrency,
      rounds,
      bare,
      pipeline,
      throughputRatio: pipeline.callsPerSecond / bare.callsPerSecond,
      serverBoundThroughputRatio: bare.serverCpuUsPerCall / pipeline.serverCpuUsPerCall,
      addedP99Ms: pipeline.p99Ms - bare.p99Ms,
    },
    null,
    2,
  ),
);
