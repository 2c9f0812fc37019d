import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GENERATED_SERVER_MODULE_PATH } from '@grpcforge/runtime/vocabulary';
import { runProcess } from '../util/spawn.js';
import { grpcforgePackageRoot } from '../util/version.js';
import { STOP_WITH_PARENT_ENV } from '../util/stop-with-parent-env.js';
import { forEachLine } from './lines.js';

/** Where a line of a child process came from. */
export type ChildStream = 'stdout' | 'stderr';

/** Options of {@link startServiceProcess}. */
export interface ServiceProcessOptions {
  /** The workspace service to run (`grpcforge serve <service>`). */
  readonly service: string;
  /** The grpcforge.yaml the child reads (`--config`). */
  readonly configPath: string;
  /** The child's working folder: the workspace. */
  readonly workspaceDir: string;
  /** Every line the child prints, as it prints it. */
  readonly onLine: (line: string, stream: ChildStream) => void;
}

/** A running `grpcforge serve <service>` child. */
export interface ServiceProcess {
  readonly service: string;
  readonly pid: number;
  /** Resolves with `HOST:PORT` once the child prints `listening on HOST:PORT`; rejects if it exits first. */
  readonly listening: Promise<string>;
  /** Resolves with the exit code (`null` after a signal) when the child has exited. */
  readonly exited: Promise<number | null>;
  /** Whether the child has exited. */
  hasExited(): boolean;
  /**
   * SIGTERM (serve drains in-flight calls and flushes the log store), then SIGKILL after `timeoutMs` ms.
   * Resolves when the child has exited.
   */
  stop(timeoutMs: number): Promise<void>;
}

/** `bin/grpcforge` of this package: children run the same grpcforge as `dev`. */
function grpcforgeBin(): string {
  return join(grpcforgePackageRoot(), 'bin/grpcforge');
}

/**
 * Starts `grpcforge serve <service>` as a child process in its own process group, so a Ctrl-C in the terminal
 * reaches `dev` only and `dev` decides when each child stops (one SIGTERM, one drain).
 * @throws Error when Node cannot be spawned.
 */
export function startServiceProcess(options: ServiceProcessOptions): ServiceProcess {
  const child: ChildProcess = spawn(
    process.execPath,
    [grpcforgeBin(), '--config', options.configPath, 'serve', options.service],
    {
      cwd: options.workspaceDir,
      // The server stops by itself if dev dies without stopping it (SIGKILL): its own process group escapes the
      // terminal's Ctrl-C, so nothing else would.
      env: { ...process.env, [STOP_WITH_PARENT_ENV]: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    });
    child.once('error', () => resolve(null));
  });
  const listening = new Promise<string>((resolve, reject) => {
    forEachLine(child.stdout!, (line) => {
      const match = /^listening on (\S+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
      options.onLine(line, 'stdout');
    });
    forEachLine(child.stderr!, (line) => options.onLine(line, 'stderr'));
    void exited.then((code) => reject(new Error(`exited with code ${String(code)} before listening`)));
  });
  // The caller may never await it (a child stopped before it listened).
  listening.catch(() => {});
  return {
    service: options.service,
    pid: child.pid ?? -1,
    listening,
    exited,
    hasExited: () => exitCode !== undefined,
    stop: async (timeoutMs) => {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** What {@link preflightServer} found. */
export interface PreflightResult {
  readonly ok: boolean;
  /** The loader's error lines when not ok (tsx/esbuild: `path:line:col: ERROR: ...`), trimmed of stack frames. */
  readonly errorLines: readonly string[];
}

/**
 * Loads a service's generated server module (`src/gen/server/index.ts`, which imports every handler) with tsx in a
 * throwaway Node process, as `serve` will, but binds nothing: a syntax error or a failing import shows up here while
 * the running server keeps its port. Takes about as long as starting Node with tsx.
 * @param serviceDir absolute folder of the service.
 */
export async function preflightServer(serviceDir: string, workspaceDir: string): Promise<PreflightResult> {
  const tsx = import.meta.resolve('tsx');
  const entry = pathToFileURL(join(serviceDir, GENERATED_SERVER_MODULE_PATH)).href;
  const result = await runProcess(
    process.execPath,
    ['--import', tsx, '--input-type=module', '-e', `await import(${JSON.stringify(entry)});`],
    { cwd: workspaceDir, timeoutMs: 60_000 },
  );
  if (result.exitCode === 0) return { ok: true, errorLines: [] };
  const lines = result.stderr
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '' && !/^\s+at /.test(line) && !line.startsWith('Node.js v') && !/^\s*\^+\s*$/.test(line));
  return { ok: false, errorLines: lines.slice(0, 12) };
}
