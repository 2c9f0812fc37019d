// `grpcforge generate` for 1, 4 and 8 services that share the googleapis pubsub contracts, against one raw
// `buf generate` of their union, side by side: every round runs each variant once, in an order that rotates with the
// round, and the figures are medians over the rounds.
//   npm run build && node --import tsx bench/generate.ts [--rounds 7] [--services 1,4,8] [--cli path/to/bin/grpcforge ...]
// Each workspace is built in a temporary folder from fixtures/contracts/googleapis (google/pubsub/v1 and what it
// imports) with init's buf.gen.yaml. The first three services serve Publisher, Subscriber and SchemaService (one
// each) and consume the next one served; services 4 to 8 consume two of them. The union is Publisher for one service,
// all three from three services on. Variants per N:
//   raw      node <@bufbuild/buf>/bin/buf generate --template buf.gen.yaml --type <the union> (ts-proto on PATH, as
//            grpcforge runs it), into a fresh folder
//   first    grpcforge generate in a workspace without services/ and .grpcforge/ (what a clean checkout runs)
//   no-op    grpcforge generate again, nothing changed
//   check    grpcforge generate --check, nothing changed
// Prints JSON on stdout (progress on stderr): per N and variant the median, min and max wall time in ms, and the
// ratio of the median to raw's (issues 12 and 23: first ≤ 1.2 at every N) and of no-op and check to first
// (issue 23: ≤ 0.15).
// --cli (repeatable) measures other builds in the same rounds, for example a copy of an older commit's bin/ and dist/.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    services: { type: 'string', default: '1,4,8' },
    cli: { type: 'string', multiple: true },
  },
});
const rounds = Number(values.rounds);
const counts = values.services.split(',').map(Number);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const clis = (values.cli ?? [join(repoRoot, 'bin/grpcforge')]).map((cli) => resolve(cli));
const require = createRequire(import.meta.url);
const bufLauncher = require.resolve('@bufbuild/buf/bin/buf');
const tsProtoDir = dirname(require.resolve('ts-proto/package.json'));
const env = { ...process.env, NO_COLOR: '1', PATH: [tsProtoDir, process.env.PATH ?? ''].join(delimiter) };

const PUBSUB = ['google.pubsub.v1.Publisher', 'google.pubsub.v1.Subscriber', 'google.pubsub.v1.SchemaService'];

/** A workspace with `n` services in a new temporary folder. */
function makeWorkspace(n: number): { dir: string; union: string[] } {
  const dir = mkdtempSync(join(tmpdir(), `grpcforge-bench-generate-${n}-`));
  cpSync(join(repoRoot, 'fixtures/contracts/googleapis/google'), join(dir, 'proto/google'), { recursive: true });
  writeFileSync(join(dir, 'buf.yaml'), 'version: v2\nmodules:\n  - path: proto\n');
  cpSync(join(repoRoot, 'templates/workspace/buf.gen.yaml'), join(dir, 'buf.gen.yaml'));
  const lines = ['version: 1', '', 'services:'];
  const union = new Set<string>();
  for (let k = 0; k < n; k++) {
    // The first three serve one pubsub service each and consume the next one that is served; the others only consume.
    const served = Math.min(n, 3);
    const serves = k < 3 ? [PUBSUB[k]!] : [];
    const consumes = k < 3 ? (served > 1 ? [PUBSUB[(k + 1) % served]!] : []) : [PUBSUB[k % 3]!, PUBSUB[(k + 1) % 3]!];
    for (const name of [...serves, ...consumes]) union.add(name);
    lines.push(`  svc${k + 1}:`);
    if (serves.length > 0) lines.push(`    serves: [${serves.join(', ')}]`, `    listen: 127.0.0.1:${51000 + k}`);
    if (consumes.length > 0) lines.push(`    consumes: [${consumes.join(', ')}]`);
  }
  writeFileSync(join(dir, 'grpcforge.yaml'), `${lines.join('\n')}\n`);
  return { dir, union: [...union].sort() };
}

function run(args: readonly string[], cwd: string): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${String(result.status)}: ${result.stderr.toString()}`);
  return elapsed;
}

const median = (list: readonly number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

interface Variant {
  readonly name: string;
  /** Runs once and returns the wall time of what is measured (set-up excluded). */
  readonly once: () => number;
}

const results = [];
for (const n of counts) {
  const { dir, union } = makeWorkspace(n);
  const variants: Variant[] = [
    {
      name: 'raw buf generate',
      once: () => {
        const out = join(dir, '.raw-out');
        rmSync(out, { recursive: true, force: true });
        mkdirSync(out);
        const types = union.flatMap((type) => ['--type', type]);
        return run([bufLauncher, 'generate', '.', '--template', 'buf.gen.yaml', '--output', out, ...types], dir);
      },
    },
  ];
  for (const cli of clis) {
    const label = clis.length > 1 ? `${cli}: ` : '';
    // Each build gets its own copy of the workspace, so one build's cache is not another's.
    const own = join(dir, `.cli-${variants.length}`);
    for (const input of ['proto', 'buf.yaml', 'buf.gen.yaml', 'grpcforge.yaml'])
      cpSync(join(dir, input), join(own, input), { recursive: true });
    const clean = () => {
      rmSync(join(own, 'services'), { recursive: true, force: true });
      rmSync(join(own, '.grpcforge'), { recursive: true, force: true });
    };
    variants.push(
      { name: `${label}first`, once: () => (clean(), run([cli, 'generate'], own)) },
      { name: `${label}no-op`, once: () => (run([cli, 'generate'], own), run([cli, 'generate'], own)) },
      { name: `${label}check`, once: () => (run([cli, 'generate'], own), run([cli, 'generate', '--check'], own)) },
    );
  }
  // no-op and check first run generate (not timed) so that they measure a real rerun; warm the file cache once.
  for (const variant of variants) variant.once();
  const times = new Map<string, number[]>(variants.map((variant) => [variant.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < variants.length; index++) {
      const variant = variants[(round + index) % variants.length]!;
      times.get(variant.name)!.push(variant.once());
    }
    process.stderr.write(`${n} services: round ${round + 1}/${rounds}\n`);
  }
  const raw = median(times.get('raw buf generate')!);
  const first = (name: string) => median(times.get(name.replace(/(no-op|check)$/, 'first'))!);
  for (const [name, list] of times) {
    const value = median(list);
    results.push({
      services: n,
      variant: name,
      medianMs: Math.round(value),
      minMs: Math.round(Math.min(...list)),
      maxMs: Math.round(Math.max(...list)),
      vsRaw: Number((value / raw).toFixed(2)),
      ...(/(no-op|check)$/.test(name) ? { vsFirst: Number((value / first(name)).toFixed(2)) } : {}),
    });
  }
  rmSync(dir, { recursive: true, force: true });
}
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
process.stdout.write(`${JSON.stringify({ node: process.version, grpcforge: version, clis, rounds, results }, null, 2)}\n`);
