// Makes a workspace's `node_modules` point at this checkout, the way `npm install` of the workspace would resolve
// grpcforge and what generated code imports, without a network install. Used by the demo and the tests.
import { mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Packages a workspace resolves directly: grpcforge itself, what ts-proto output imports, the TS loader and types. */
const LINKED = ['@bufbuild/protobuf', '@grpc/grpc-js', '@types/node', 'nice-grpc', 'nice-grpc-common', 'tsx'];

/** Links `<workspace>/node_modules/{grpcforge,...}` to this checkout and its node_modules. */
export async function linkWorkspace(workspaceDir) {
  const modules = join(workspaceDir, 'node_modules');
  const links = [
    ['grpcforge', repoRoot],
    ['@grpcforge/runtime', join(repoRoot, 'packages/runtime')],
    ...LINKED.map((name) => [name, join(repoRoot, 'node_modules', name)]),
  ];
  for (const [name, target] of links) {
    const path = join(modules, name);
    await mkdir(dirname(path), { recursive: true });
    await rm(path, { recursive: true, force: true });
    await symlink(target, path, 'dir');
  }
}
