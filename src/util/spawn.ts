import { spawn } from 'node:child_process';

/** What a finished child process left behind. */
export interface SpawnResult {
  /** Exit code; `null` when the process was killed by a signal. */
  readonly exitCode: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Options of {@link runProcess}. */
export interface RunProcessOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, then stdin is closed. */
  readonly input?: Uint8Array | string;
  /** Kill the child after this many ms. @defaultValue 120000 */
  readonly timeoutMs?: number;
}

/**
 * Runs a program to completion and collects its output; never throws for a non-zero exit (the caller decides).
 * @throws Error when the program cannot be started (for example ENOENT).
 */
export function runProcess(command: string, args: readonly string[], options: RunProcessOptions): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      // No stdin pipe unless there is input: writing to a child that already exited raises EPIPE.
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 120_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    // stdout and stderr are always pipes (stdio above).
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      resolve({ exitCode, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // the child may exit without reading its input; its exit code tells
      child.stdin.end(options.input);
    }
  });
}
