import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';

/** Whether processes can be pinned to cores: `taskset` (util-linux) is there and the machine has two cores or more. */
export const canPin = cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0;

/** Pins every thread of this process to `core` (when {@link canPin}). */
export function pinSelf(core: number): void {
  if (canPin) spawnSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
}

/** A child process spoken to in lines: a line in, answers out (`<word> <rest>`). */
export interface LineProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Sends `line`; resolves with the rest of the first stdout line starting with `answer ` (or equal to it). */
  ask(line: string | undefined, answer: string, timeoutMs?: number): Promise<string>;
  /** stderr so far. */
  stderr(): string;
}

/**
 * Starts `script` under tsx (`node --import tsx`), pinned to `core` when {@link canPin}, and waits for its `ready`.
 * @throws Error with its stderr when it exits or is not ready within 60 s.
 */
export async function startLineProcess(
  script: string,
  args: readonly string[],
  core: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LineProcess & { readonly head: readonly string[] }> {
  const command = [process.execPath, '--import', 'tsx', script, ...args];
  const child = canPin
    ? spawn('taskset', ['-c', String(core), ...command], { stdio: ['pipe', 'pipe', 'pipe'], env })
    : spawn(command[0] ?? '', command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const waiters: { prefix: string; resolve: (rest: string) => void }[] = [];
  const head: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const index = waiters.findIndex(({ prefix }) => line === prefix || line.startsWith(`${prefix} `));
    const [waiter] = index >= 0 ? waiters.splice(index, 1) : [];
    if (waiter) waiter.resolve(line.slice(waiter.prefix.length + 1));
    else head.push(line);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${script} exited with ${String(code)}: ${stderr}`))),
  );
  exited.catch(() => {});
  const ask = (line: string | undefined, answer: string, timeoutMs = 120_000) => {
    const answered = new Promise<string>((resolve) => waiters.push({ prefix: answer, resolve }));
    if (line !== undefined) child.stdin.write(`${line}\n`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${script}: no "${answer}" within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    });
    return Promise.race([answered, exited, timeout]).finally(() => clearTimeout(timer));
  };
  await ask(undefined, 'ready', 60_000);
  return { child, ask, stderr: () => stderr, head };
}
