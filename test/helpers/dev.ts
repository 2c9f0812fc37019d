import assert from 'node:assert/strict';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { linkWorkspace, repoRoot, runCli, tempDir, type CliResult } from './workspace.ts';

// The workspace of the `grpcforge dev` tests (test/e2e/dev*.test.ts): the example of `grpcforge init` on free ports.

/** auth's Login handler, workspace-relative. */
export const LOGIN = 'services/auth/src/handlers/auth.v1.AuthService/login.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `grpcforge init`'s example in a temp folder, linked to this checkout, with typescript (dev's type check), auth and
 * user on free ports, every method public (a new RPC answers from its handler, not from auth), and `audit`, a
 * service that only consumes auth.
 */
export async function devWorkspace(): Promise<{ ws: string; authPort: number; userPort: number }> {
  const ws = join(await tempDir(), 'platform');
  assert.equal(runCli(['init', ws], process.cwd()).code, 0);
  await linkWorkspace(ws);
  // What the workspace's `npm install` would add: its devDependency typescript, for dev's type check.
  await symlink(join(repoRoot, 'node_modules/typescript'), join(ws, 'node_modules/typescript'), 'dir');
  const [authPort, userPort] = [await freePort(), await freePort()];
  const config = (await readFile(join(ws, 'grpcforge.yaml'), 'utf8'))
    .replaceAll('50051', String(authPort))
    .replaceAll('50052', String(userPort))
    .replace('default: authenticated', 'default: public')
    .replace(
      '\n# Who may call what',
      `\n  audit:\n    dir: services/audit\n    consumes:\n      - service: auth.v1.AuthService\n        target: dns:///127.0.0.1:${authPort}\n\n# Who may call what`,
    );
  await writeFile(join(ws, 'grpcforge.yaml'), config);
  return { ws, authPort, userPort };
}

/** Unary call through `grpcforge call` (server reflection): exit code and output. */
export function call(ws: string, address: string, method: string, body: object): CliResult {
  return runCli(['call', address, method, '-d', JSON.stringify(body)], ws);
}

/** The pids of dev's servers, from its `<service> | started, pid N` lines. */
export function startedPids(output: string): number[] {
  return [...output.matchAll(/\| started, pid (\d+)$/gm)].map((match) => Number(match[1]));
}
