import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
// @ts-expect-error plain .mjs helper shared with the demo
import { linkWorkspace as link } from '../../scripts/link-workspace.mjs';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Public contracts copied into the repository (fixtures/contracts/README.md: provenance and licences). */
export const publicContracts = join(repoRoot, 'fixtures', 'contracts');
const cliPath = join(repoRoot, 'bin/grpcforge');
export const bufPath = join(repoRoot, 'node_modules/.bin/buf');
export const tscPath = join(repoRoot, 'node_modules/.bin/tsc');

// Cleanup runs when the test process exits: node:test's after() called inside a before() hook would fire as soon as
// that hook ends, deleting a workspace the next tests need.
// Registered at the top level of each test file (this module is imported there), so it runs when the file ends.
const tempDirs: string[] = [];
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder removed when the test process exits. */
export async function tempDir(prefix = 'grpcforge-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Writes a `{ path: content }` map under `dir`. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** Points the workspace's node_modules at this checkout (what `npm install` there would resolve). */
export async function linkWorkspace(dir: string): Promise<void> {
  await (link as (dir: string) => Promise<void>)(dir);
}

/**
 * The environment for child processes (this one's, with `env` added): without node:test's own marker, so a nested
 * `node --test` reports normally, and without the FORCE_COLOR it sets.
 */
export function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const merged = { ...process.env, ...env };
  delete merged.NODE_TEST_CONTEXT;
  // node --test sets FORCE_COLOR for its children on a terminal: the CLI would colour the text tests match. A test
  // that wants colour passes it.
  if (!Object.hasOwn(env, 'FORCE_COLOR')) delete merged.FORCE_COLOR;
  return merged;
}

/**
 * The environment of an npm or npx child (and what it runs): {@link childEnv}'s, without the `npm_*` variables and
 * `INIT_CWD` of an outer `npm test`, which describe this repository (its prefix, its package), not the folder the
 * child works in; then `env` (which may set `npm_config_*` of its own).
 */
export function npmChildEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(childEnv({})).filter(([key]) => key !== 'INIT_CWD' && !/^npm_/i.test(key));
  return { ...Object.fromEntries(inherited), ...env };
}

/**
 * `npm pack` of both packages of this checkout into `dir`, from their dist/ as built (`--ignore-scripts`: packing
 * never rebuilds under other tests): the file names, `grpcforge-<version>.tgz` and `grpcforge-runtime-<version>.tgz`.
 * @throws Error with npm's output when a pack fails.
 */
export function packPackages(dir: string): { readonly cli: string; readonly runtime: string } {
  const pack = (...workspace: string[]) => {
    const result = spawnSync(npm, ['pack', ...workspace, '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: repoRoot,
      env: npmChildEnv(),
      encoding: 'utf8',
      shell: process.platform === 'win32',
    });
    if (result.status !== 0) throw new Error(`npm pack ${workspace.join(' ')} failed:\n${result.stdout}${result.stderr}`);
    return (JSON.parse(result.stdout.slice(result.stdout.indexOf('['))) as { filename: string }[])[0]!.filename;
  };
  return { cli: pack(), runtime: pack('--workspace', '@grpcforge/runtime') };
}

/** npm's command on this platform. */
export const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Output of a finished CLI run. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `grpcforge ...args` as a real process. */
export function runCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}, input?: string): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd,
    ...(input !== undefined ? { input } : {}),
    env: childEnv(env),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a program and returns its result (for tsc, buf, node --test). */
export function runProgram(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(command, args, { cwd, env: childEnv(env), encoding: 'utf8', timeout: 180_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A `grpcforge serve` process. */
export interface ServeProcess {
  readonly address: string;
  readonly pid: number;
  readonly port: number;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /**
   * Waits (5 s at most) until stderr matches `pattern`, and returns the match: the process writes its stderr
   * asynchronously, so a line logged during a call may reach the pipe after the call's response.
   */
  waitForStderr(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `grpcforge serve <service> --port 0` and waits for `listening on HOST:PORT`. Stopped after the file. */
export async function startServe(
  cwd: string,
  service: string,
  env: NodeJS.ProcessEnv = {},
  extraArgs: readonly string[] = [],
): Promise<ServeProcess> {
  return startListening([cliPath, 'serve', service, '--port', '0', ...extraArgs], cwd, env, `serve ${service}`);
}

/**
 * Starts a built service, `node <mainJs>` (relative to `cwd` or absolute), on a free port of 127.0.0.1 (unless `env`
 * sets GRPCFORGE_LISTEN) and waits for `listening on HOST:PORT`. Stopped after the file.
 */
export async function startBuilt(mainJs: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  return startListening([mainJs], cwd, { GRPCFORGE_LISTEN: '127.0.0.1:0', ...env }, mainJs);
}

/** Runs `node <args>` and waits (30 s at most) for the `listening on HOST:PORT` line on stdout. */
async function startListening(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  label: string,
): Promise<ServeProcess> {
  const child = spawn(process.execPath, args, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const stderrChanged = new EventEmitter();
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    stderrChanged.emit('data');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  children.add(child);
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not listen in 30 s: ${stderr}`)), 30_000);
    void exited.then((code) => reject(new Error(`${label} exited with ${String(code)}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^listening on (.+)$/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    address,
    pid: child.pid!,
    port: Number(address.slice(address.lastIndexOf(':') + 1)),
    stderr: () => stderr,
    waitForStderr: (pattern, ms = 5_000) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stderr);
          if (!match) return;
          clearTimeout(timer);
          stderrChanged.off('data', check);
          resolve(match);
        };
        const timer = setTimeout(() => {
          stderrChanged.off('data', check);
          reject(new Error(`${label}: stderr did not match ${String(pattern)} in ${ms} ms: ${stderr}`));
        }, ms);
        stderrChanged.on('data', check);
        check();
      }),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** SHA-256 of every file below `dir` (path → hash), to prove a run changed nothing. */
export async function hashTree(dir: string, paths: readonly string[]): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (const path of paths)
    hashes.set(
      path,
      createHash('sha256')
        .update(await readFile(join(dir, path)))
        .digest('hex'),
    );
  return hashes;
}

/** What a nested `node --test` run reported: its exit code, its spec output, and the counts of its tests. */
export interface NodeTestRun extends CliResult {
  readonly counts: { readonly passed: number; readonly failed: number; readonly skipped: number; readonly todo: number };
}

/**
 * Runs `node --import tsx --test ...files` in `cwd` and reads the counts from the runner's own events (through
 * test/helpers/count-reporter.mjs), not from the text a reporter prints: that text differs between Node versions.
 */
export async function runNodeTests(files: readonly string[], cwd: string): Promise<NodeTestRun> {
  const countsFile = join(await tempDir('grpcforge-test-counts-'), 'counts.json');
  const reporter = pathToFileURL(join(repoRoot, 'test/helpers/count-reporter.mjs')).href;
  const result = runProgram(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      `--test-reporter=${reporter}`,
      `--test-reporter-destination=${countsFile}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      ...files,
    ],
    cwd,
  );
  const counts = JSON.parse(await readFile(countsFile, 'utf8')) as NodeTestRun['counts'];
  return { ...result, counts };
}
