import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { toPosix } from '../util/fs.js';

/** The outcome of one `tsc --noEmit` of a service. */
export interface TypeCheckResult {
  /** `cancelled` when a newer check of the same service replaced this one. */
  readonly outcome: 'clean' | 'errors' | 'cancelled';
  /** `services/auth/src/handlers/x.ts:3:7: error TS2322: ...`, workspace-relative, one per diagnostic line. */
  readonly lines: readonly string[];
}

/**
 * The TypeScript compiler the workspace installed (`typescript/bin/tsc` resolved from its package.json), or
 * `undefined` when it has none.
 */
export function findWorkspaceTsc(workspaceDir: string): string | undefined {
  try {
    return createRequire(join(workspaceDir, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

/**
 * Runs `tsc --noEmit` over one service's folder with the workspace's tsconfig.json, through a small tsconfig under
 * `.grpcforge/dev/` that extends it and includes only that service. Never throws for type errors: they are results.
 */
export class ServiceTypeChecker {
  private readonly running = new Map<string, ChildProcess>();

  /**
   * @param tscPath from {@link findWorkspaceTsc}.
   * @param workspaceDir absolute; tsc runs there, so paths in its output are workspace-relative.
   */
  constructor(
    private readonly tscPath: string,
    private readonly workspaceDir: string,
  ) {}

  /** Whether the workspace has a tsconfig.json to extend. */
  hasTsconfig(): boolean {
    return existsSync(join(this.workspaceDir, 'tsconfig.json'));
  }

  /**
   * Checks a service, cancelling a check of the same service still running.
   * @param serviceDir absolute folder of the service.
   */
  async check(service: string, serviceDir: string): Promise<TypeCheckResult> {
    this.running.get(service)?.kill('SIGKILL');
    const dir = join(this.workspaceDir, '.grpcforge', 'dev');
    await mkdir(dir, { recursive: true });
    const tsconfig = join(dir, `tsconfig.${service}.json`);
    const fromDir = (path: string) => toPosix(relative(dir, path)) || '.';
    await writeFile(
      tsconfig,
      `${JSON.stringify({ extends: fromDir(join(this.workspaceDir, 'tsconfig.json')), include: [`${fromDir(serviceDir)}/src`] }, null, 2)}\n`,
    );
    const child = spawn(process.execPath, [this.tscPath, '--noEmit', '--pretty', 'false', '-p', tsconfig], {
      cwd: this.workspaceDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.running.set(service, child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.once('close', resolve);
      child.once('error', () => resolve(null));
    });
    if (this.running.get(service) !== child) return { outcome: 'cancelled', lines: [] };
    this.running.delete(service);
    if (code === null) return { outcome: 'cancelled', lines: [] };
    const lines = output
      .split('\n')
      .filter((line) => line.trim() !== '')
      // `path(3,7): error TS...` → `path:3:7: error TS...`, the form editors and terminals link.
      .map((line) => line.replace(/^(.+?)\((\d+),(\d+)\): /, '$1:$2:$3: '));
    return { outcome: code === 0 ? 'clean' : 'errors', lines };
  }

  /** Kills every check still running. */
  stopAll(): void {
    for (const child of this.running.values()) child.kill('SIGKILL');
    this.running.clear();
  }
}
