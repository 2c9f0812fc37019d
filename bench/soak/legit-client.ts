// The legitimate client, in its own process (so an attacker's busy event loop does not delay it): unary Echo calls
// with a valid API key, one at a time, from 127.0.0.1 (the attackers connect from 127.0.0.2, another peer address).
// Usage: legit-client.ts ADDRESS KEY. Prints `ready` once a first call succeeded. Lines on stdin:
//   `start` -> calls in a loop (a 2 ms pause between calls) until `stop`;
//   `stop`  -> `latencies {json}`: calls, errors, p50/p99/max in ms of the calls since `start`.
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Metadata, createChannel, createClient } from 'nice-grpc';
import { EchoDefinition } from '../../test/helpers/json-definition.ts';

const [address = '', key = ''] = process.argv.slice(2);
const channel = createChannel(address);
const client = createClient(EchoDefinition, channel);
const metadata = () => Metadata({ 'x-api-key': key });

/** One call's latency in ms, or undefined when it failed. */
async function call(): Promise<number | undefined> {
  const start = performance.now();
  try {
    await client.echo({ text: 'legit' }, { metadata: metadata(), signal: AbortSignal.timeout(10_000) });
    return performance.now() - start;
  } catch {
    return undefined;
  }
}

/** The nearest-rank percentile `p` of `sorted`, in ms to 0.01. */
const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? 0 : round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
const round = (ms: number) => Math.round(ms * 100) / 100;

let running: Promise<{ latencies: number[]; errors: number }> | undefined;
let stop = false;

async function loop() {
  const latencies: number[] = [];
  let errors = 0;
  while (!stop) {
    const ms = await call();
    if (ms === undefined) errors++;
    else latencies.push(ms);
    await sleep(2);
  }
  return { latencies, errors };
}

for (let attempt = 0; (await call()) === undefined; attempt++) {
  if (attempt >= 50) throw new Error(`legit client: no successful call to ${address}`);
  await sleep(100);
}
// Warm: the first calls pay for the channel and the key verification cache.
for (let warm = 0; warm < 50; warm++) await call();
console.log('ready');

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'start' && !running) {
    stop = false;
    running = loop();
  } else if (line === 'stop' && running) {
    stop = true;
    void running.then(({ latencies, errors }) => {
      running = undefined;
      const sorted = latencies.sort((a, b) => a - b);
      const figures = {
        calls: sorted.length,
        errors,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: round(sorted.at(-1) ?? 0),
      };
      console.log(`latencies ${JSON.stringify(figures)}`);
    });
  }
});
process.stdin.on('end', () => {
  channel.close();
  process.exit(0);
});
