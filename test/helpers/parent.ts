import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv, repoRoot } from './workspace.ts';

/** A `grpcforge` command started by a parent process that plays npx's part; see {@link startUnderParent}. */
export interface UnderParent {
  /** The command's pid. */
  readonly pid: Promise<number>;
  /** Every line the command wrote to stdout or stderr so far, after the parent's `parent: child pid N`. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output after offset `from` (default 0); rejects after `ms`. */
  waitFor(pattern: RegExp, from?: number, ms?: number): Promise<RegExpMatchArray>;
  /** SIGKILLs the parent, as an npx whose shell dies without passing the signal on leaves the command. */
  killParent(): void;
  /** Resolves when the command and everything that shares its stdout and stderr have closed them (exited). */
  readonly closed: Promise<void>;
}

/**
 * Starts `grpcforge ...args` in `cwd` as the child of a small node process with `npm_execpath` set, as `npx grpcforge`
 * runs it; the command writes to pipes this process reads, so its output outlives the parent.
 */
export function startUnderParent(args: readonly string[], cwd: string): UnderParent {
  const parentScript = `
const { spawn } = require('node:child_process');
const [bin, ...args] = JSON.parse(process.argv[1]);
const child = spawn(process.execPath, [bin, ...args], { stdio: 'inherit' });
process.stderr.write('parent: child pid ' + child.pid + '\\n');
setInterval(() => {}, 60_000);`;
  const parent = spawn(process.execPath, ['-e', parentScript, JSON.stringify([join(repoRoot, 'bin/grpcforge'), ...args])], {
    cwd,
    env: childEnv({ npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters = new Set<() => void>();
  const onLine = (line: string) => {
    output += `${line}\n`;
    for (const check of [...waiters]) check();
  };
  const streamClosed = (stream: NodeJS.ReadableStream) =>
    new Promise<void>((resolve) => createInterface({ input: stream }).on('line', onLine).on('close', resolve));
  const closed = Promise.all([streamClosed(parent.stdout), streamClosed(parent.stderr)]).then(() => undefined);
  const waitFor = (pattern: RegExp, from = 0, ms = 60_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${String(pattern)} in ${ms} ms:\n${output.slice(from)}`));
      }, ms);
      const check = () => {
        const match = output.slice(from).match(pattern);
        if (!match) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(match);
      };
      waiters.add(check);
      check();
    });
  return {
    pid: waitFor(/^parent: child pid (\d+)$/m, 0, 10_000).then((match) => Number(match[1])),
    output: () => output,
    waitFor,
    killParent: () => parent.kill('SIGKILL'),
    closed,
  };
}

/** Whether a process runs. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves when the process has exited and been reaped (by init, its parent gone); rejects after `ms`. */
export async function exitedWithin(pid: number, ms: number): Promise<void> {
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited >= ms) throw new Error(`process ${pid} still runs after ${ms} ms`);
    await sleep(100);
  }
}

/** Resolves when `closed` does; rejects after `ms`. */
export async function closedWithin(command: UnderParent, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${ms} ms after its parent died:\n${command.output()}`)), ms);
  });
  try {
    await Promise.race([command.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
