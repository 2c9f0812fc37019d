import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { linkWorkspace, repoRoot, runCli, runNodeTests, runProgram, tempDir, tscPath, writeFiles } from '../helpers/workspace.ts';

/** Every ```ts file=PATH block of the README: the path in the example workspace and the code. */
async function readmeSnippets(): Promise<{ path: string; code: string }[]> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```ts file=(\S+)\n([\s\S]*?)^```$/gm)].map((match) => ({ path: match[1]!, code: match[2]! }));
}

const TYPES_REFUSED = `import type { AuthServiceStub } from '../src/gen/stubs/auth.v1.AuthService.js';
import type { UserServiceHandlers } from '../src/gen/server/user.v1.UserService.js';

export function refused(stub: AuthServiceStub): void {
  // @ts-expect-error a stub knows its service's method names
  stub.verify('validateTokn', 1);
  // @ts-expect-error and types the requests it recorded
  void stub.callsTo('validateToken')[0]?.requests[0]?.tokn;
}

// @ts-expect-error principal is typed: it has no 'name'
export const wrong: UserServiceHandlers['getUser'] = async (_request, context) => ({ requestedBy: context.principal?.name ?? '' });
`;

// The handler guide is tried as a user would: each snippet goes where its fence says, into a fresh example
// workspace, which must then type-check (the workspace's own strict tsconfig) and pass its own tests.
describe('README handler guide', () => {
  let ws: string;
  let snippets: { path: string; code: string }[];

  before(async () => {
    snippets = await readmeSnippets();
    ws = join(await tempDir(), 'platform');
    assert.equal(runCli(['init', ws], repoRoot).code, 0);
    await linkWorkspace(ws);
    const generated = runCli(['generate'], ws);
    assert.equal(generated.code, 0, generated.stderr);
    await writeFiles(ws, {
      ...Object.fromEntries(snippets.map((snippet) => [snippet.path, snippet.code])),
      // Not in the README: what the types refuse. Each @ts-expect-error fails the compile when its line compiles.
      'services/user/test/types-refused.ts': TYPES_REFUSED,
    });
  });

  test('has snippets for handlers of every RPC kind, the service context, the auth hook and a test', () => {
    const paths = snippets.map((snippet) => snippet.path);
    for (const expected of [
      'get-user.ts',
      'list-sessions.ts',
      'import-users.ts',
      'sync-users.ts',
      'src/context.ts',
      'middleware/auth.ts',
      'test/get-user.test.ts',
    ]) {
      assert.ok(
        paths.some((path) => path.endsWith(expected)),
        `no snippet for ${expected}`,
      );
    }
  });

  test('every snippet compiles in the example workspace', () => {
    const result = runProgram(tscPath, ['-p', 'tsconfig.json'], ws);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test('the test snippet passes against the generated stub', async () => {
    const result = await runNodeTests(['services/user/test/get-user.test.ts'], ws);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(result.counts, { passed: 2, failed: 0, skipped: 0, todo: 0 });
  });
});
