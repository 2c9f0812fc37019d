// The soak suite (`npm run soak`): a grpcforge server (startServer, API-key auth, request logger, SQLite store, every
// limit and defence at its default) under four attacks, each measuring a legitimate client's latency quiet and during
// the attack, side by side in one run, and what the store kept. Scenarios:
//   slowloris      N silent TCP connections + N that send only the HTTP/2 preface: how many the server closed after
//                  the wait, its file descriptors, the legitimate p99 while they are open
//   rapid-reset    streams opened and reset at once (RST_STREAM CANCEL) on 4 connections: GOAWAYs received, rows stored
//   unknown-paths  N distinct unknown paths (unknown services, unknown methods, extra segments): rows, distinct methods
//   key-flood      N wrong API keys from one peer, again and again for the window: rows, calls throttled (RESOURCE_EXHAUSTED), the legitimate p99
// The server runs pinned to CPU 0, the attacker (this process) and the legitimate client (its own process, from
// another peer address) to CPU 1, when taskset is there and the machine has two cores.
//
//   npm run soak -- [--quick] [--rounds N] [--only slowloris,rapid-reset,unknown-paths,key-flood]
// --quick: 1 round, a tenth of the sockets, paths and keys, shorter windows (checks the suite works; figures rough).
// Prints JSON on stdout (per scenario: each round, and the medians of the rounds), progress on stderr. SOAK_SERVER_LIMITS
// (JSON) is passed to the server as `limits`.
import { setPriority } from 'node:os';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { canPin, pinSelf, startLineProcess, type LineProcess } from './line-process.ts';
import { floodKeys, floodPaths, openSlowSockets, rapidReset, type StatusCounts } from './attacks.ts';

const argument = (name: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const quick = process.argv.includes('--quick');
const rounds = Number(argument('rounds') ?? (quick ? 1 : 3));
const SCENARIOS = ['slowloris', 'rapid-reset', 'unknown-paths', 'key-flood'] as const;
type Scenario = (typeof SCENARIOS)[number];
const only = (argument('only')?.split(',') ?? SCENARIOS) as Scenario[];
for (const name of only) {
  if (!SCENARIOS.includes(name)) throw new Error(`--only: "${name}" is not a scenario (expected ${SCENARIOS.join(', ')})`);
}
/** How long a latency window lasts, in ms. */
const WINDOW_MS = quick ? 2000 : 3000;
/** Slowloris: sockets of each kind; how long after opening them the closed ones are counted. */
const SLOW_SOCKETS = quick ? 200 : 2000;
const HANDSHAKE_WAIT_MS = quick ? 8000 : 15_000;
const UNKNOWN_PATHS = quick ? 300 : 2000;
const WRONG_KEYS = quick ? 300 : 3000;

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** What the server reports on `stats`. */
interface ServerStats {
  readonly rows: number;
  readonly rowsByStatus: Record<string, number>;
  readonly methods: number;
  readonly fds: number;
  readonly defences: Record<string, number>;
}

/** The legitimate client's figures of one window. */
interface Latencies {
  readonly calls: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const stats = async (server: LineProcess) => JSON.parse(await server.ask('stats', 'stats')) as ServerStats;

/** The legitimate client's latencies while `work` runs. */
async function measure<T>(legit: LineProcess, work: () => Promise<T>): Promise<{ latencies: Latencies; result: T }> {
  legit.child.stdin.write('start\n');
  const result = await work();
  const latencies = JSON.parse(await legit.ask('stop', 'latencies')) as Latencies;
  return { latencies, result };
}

/** Rows the attack left: the rows stored during its window less the legitimate client's calls. */
const attackRows = (before: ServerStats, after: ServerStats, legit: Latencies) =>
  after.rows - before.rows - legit.calls - legit.errors;

/** `after - before` of each counter that moved. */
function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([name, value]) => [name, value - (before[name] ?? 0)] as const)
      .filter(([, value]) => value !== 0),
  );
}

/** One round of a scenario: its quiet window, then the attack with the legitimate client measured meanwhile. */
type Round = (server: LineProcess, legit: LineProcess, address: string, key: string, round: number) => Promise<object>;

const scenarios: Record<Scenario, Round> = {
  async slowloris(server, legit, address) {
    const quiet = await measure(legit, () => sleep(WINDOW_MS));
    const before = await stats(server);
    const opening = performance.now();
    const sockets = await openSlowSockets(address, SLOW_SOCKETS);
    const open = await stats(server);
    const attack = await measure(legit, () => sleep(WINDOW_MS));
    await sleep(Math.max(0, HANDSHAKE_WAIT_MS - (performance.now() - opening)));
    const closed = sockets.closedByServer();
    const waited = await stats(server);
    sockets.destroy();
    await sleep(500);
    const after = await stats(server);
    return {
      quiet: quiet.latencies,
      attack: attack.latencies,
      sockets: sockets.opened,
      closedByServer: closed,
      closedAfterMs: HANDSHAKE_WAIT_MS,
      fds: { before: before.fds, open: open.fds, afterWait: waited.fds, afterClose: after.fds },
      rowsStored: attackRows(before, after, attack.latencies),
      defences: delta(before.defences, after.defences),
    };
  },
  async 'rapid-reset'(server, legit, address) {
    const quiet = await measure(legit, () => sleep(WINDOW_MS));
    const before = await stats(server);
    const attack = await measure(legit, () => rapidReset(address, 4, WINDOW_MS));
    await sleep(500); // the last resets reach the accounting
    const after = await stats(server);
    return {
      quiet: quiet.latencies,
      attack: attack.latencies,
      ...attack.result,
      rowsStored: attackRows(before, after, attack.latencies),
      rowsByStatus: delta(before.rowsByStatus, after.rowsByStatus),
      defences: delta(before.defences, after.defences),
    };
  },
  async 'unknown-paths'(server, legit, address, _key, round) {
    // A third each: unknown services, unknown methods of the served service, a real method with an extra segment.
    const paths = Array.from({ length: UNKNOWN_PATHS }, (_, index) => {
      const id = `${round}x${index}`;
      return [`/soak.v1.Svc${id}/Call`, `/test.v1.EchoService/Nope${id}`, `/test.v1.EchoService/Echo/zzz${id}`][index % 3] ?? '';
    });
    const quiet = await measure(legit, () => sleep(WINDOW_MS));
    const before = await stats(server);
    const attack = await measure(legit, () => floodPaths(address, paths));
    const after = await stats(server);
    return {
      quiet: quiet.latencies,
      attack: attack.latencies,
      paths: paths.length,
      statuses: attack.result,
      rowsStored: attackRows(before, after, attack.latencies),
      methodsInStats: after.methods,
      defences: delta(before.defences, after.defences),
    };
  },
  async 'key-flood'(server, legit, address) {
    // Random keys of the real format (`gfk_<12 hex>_<43 base64url>`), each with its own prefix.
    const keys = Array.from(
      { length: WRONG_KEYS },
      () => `gfk_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`,
    );
    const quiet = await measure(legit, () => sleep(WINDOW_MS));
    const before = await stats(server);
    const started = performance.now();
    // The keys again and again until the window is over: the legitimate client gets as many calls under attack as
    // quiet, so the two p99s are read from samples of the same size (one pass ends in well under a second).
    const attack = await measure(legit, async () => {
      const total: StatusCounts = {};
      let sent = 0;
      do {
        for (const [status, count] of Object.entries(await floodKeys(address, keys)))
          total[status] = (total[status] ?? 0) + count;
        sent += keys.length;
      } while (performance.now() - started < WINDOW_MS);
      return { statuses: total, sent };
    });
    const floodMs = performance.now() - started;
    const after = await stats(server);
    const statuses: StatusCounts = attack.result.statuses;
    return {
      quiet: quiet.latencies,
      attack: attack.latencies,
      keys: keys.length,
      guesses: attack.result.sent,
      floodMs: Math.round(floodMs),
      statuses,
      throttled: statuses['8'] ?? 0,
      rowsStored: attackRows(before, after, attack.latencies),
      defences: delta(before.defences, after.defences),
    };
  },
};

/** The median of each numeric field of the rounds (nested objects too); other fields from the first round. */
function medians(values: readonly unknown[]): unknown {
  const first = values[0];
  if (typeof first === 'number') {
    const sorted = (values as number[]).slice().sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  }
  if (first && typeof first === 'object') {
    const keys = new Set(values.flatMap((value) => Object.keys(value as object)));
    return Object.fromEntries(
      [...keys].map((key) => [key, medians(values.map((value) => (value as Record<string, unknown>)[key] ?? 0))]),
    );
  }
  return first;
}

/**
 * The legitimate client shares CPU 1 with the attacker (the server has CPU 0 to itself): at the same priority, an
 * attacker that saturates CPU 1 would delay the client's own event loop, and its latency would measure the
 * attacker's CPU use, not the server. So the client runs at nice -10 where the process may raise it (root, or
 * CAP_SYS_NICE); the JSON says which (`legitNice`: -10, or 0 when it could not).
 */
function raisePriority(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    setPriority(pid, -10);
    return -10;
  } catch {
    return 0;
  }
}
let legitNice = 0;

pinSelf(1);
log(
  `soak: ${quick ? 'quick, ' : ''}${rounds} round(s), ${canPin ? 'server on CPU 0, attacker and client on CPU 1' : 'not pinned'}`,
);
const results: Record<string, object> = {};
for (const name of only) {
  const server = await startLineProcess(here('./soak-server.ts'), [], 0);
  const address = server.head.find((line) => line.startsWith('listening on '))?.slice('listening on '.length) ?? '';
  const key = server.head.find((line) => line.startsWith('key '))?.slice('key '.length) ?? '';
  const legit = await startLineProcess(here('./legit-client.ts'), [address, key], 1);
  legitNice = raisePriority(legit.child.pid);
  const done: object[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const figures = await scenarios[name](server, legit, address, key, round);
      log(`${name} round ${round + 1}: ${JSON.stringify(figures)}`);
      done.push(figures);
    }
  } finally {
    legit.child.stdin.end();
    await server.ask('stop', 'stopped').catch((error: unknown) => log(String(error)));
  }
  results[name] = { median: medians(done), rounds: done };
}
console.log(
  JSON.stringify(
    { node: process.version, quick, rounds, pinned: canPin, legitNice, windowMs: WINDOW_MS, scenarios: results },
    null,
    2,
  ),
);
