import assert from 'node:assert/strict';
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { watchWorkspace, type WorkspaceChange, type WorkspaceWatcher } from '../../src/dev/watch-workspace.ts';
import { tempDir, writeFiles } from '../helpers/workspace.ts';

// dev's file watcher on a real folder, no SQLite and no buf: it runs on every Node the CI has. The regression it
// guards: Node 20 and 22's recursive fs.watch on Linux stopped reporting a file once an editor had saved it by
// writing a temporary and renaming it over the file (vim, JetBrains' safe write, many formatters).

const LOGIN = 'services/auth/src/handlers/auth.v1.AuthService/login.ts';
const GENERATED = 'services/auth/src/gen/server/index.ts';
const PROTO = 'proto/auth/v1/auth.proto';

describe('watchWorkspace', () => {
  let ws: string;
  let watcher: WorkspaceWatcher;
  const seen: WorkspaceChange[] = [];
  const errors: Error[] = [];
  const waiters: { match: (change: WorkspaceChange) => boolean; resolve: () => void }[] = [];

  /** Resolves when a change for `path` (workspace-relative) arrives after the call; rejects after 10 s. */
  const nextChange = (path: string, kind: WorkspaceChange['kind']): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${kind} change of ${path} in 10 s; seen: ${seen.map((c) => c.path).join(', ')}`)),
        10_000,
      );
      waiters.push({
        match: (change) => change.kind === kind && change.path === join(ws, path),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });

  /**
   * An editor's atomic save: the new content to a temporary beside the file, renamed over it. After a pause longer than
   * chokidar's 50 ms throttle of a file's change events (a later change inside it is folded into the first: dev
   * debounces longer than that and reads the file when it restarts), as a person saves.
   */
  const saveByRename = async (path: string, content: string) => {
    await sleep(150);
    await writeFile(join(ws, `${path}.4242.tmp`), content);
    await rename(join(ws, `${path}.4242.tmp`), join(ws, path));
  };

  before(async () => {
    ws = await tempDir();
    await writeFiles(ws, {
      'grpcforge.yaml': 'version: 1\n', // buf.gen.yaml does not exist yet: created by a test
      [PROTO]: 'syntax = "proto3";\n',
      [LOGIN]: 'export const login = 1;\n',
      [GENERATED]: '// generated\n',
      'services/auth/src/node_modules/x/index.js': '',
    });
    watcher = watchWorkspace(
      {
        contractRoot: join(ws, 'proto'),
        configFiles: [join(ws, 'grpcforge.yaml'), join(ws, 'buf.gen.yaml'), join(ws, 'proto/buf.yaml')],
        services: [{ name: 'auth', dir: join(ws, 'services/auth') }],
      },
      (change) => {
        seen.push(change);
        for (const waiter of [...waiters]) {
          if (!waiter.match(change)) continue;
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      },
      (error) => errors.push(error),
    );
    await watcher.ready;
  });

  after(async () => {
    await watcher.close();
  });

  test('a handler saved by write-and-rename is reported every time, and so is an append after it', async () => {
    for (let save = 1; save <= 3; save++) {
      const renamed = nextChange(LOGIN, 'service');
      await saveByRename(LOGIN, `export const login = ${save};\n`);
      await renamed;
      const appended = nextChange(LOGIN, 'service');
      await sleep(150);
      await appendFile(join(ws, LOGIN), '// y\n');
      await appended;
    }
    // GNU sed -i writes a temporary named sedXXXXXX beside the file, then renames it over the file.
    const sedSave = nextChange(LOGIN, 'service');
    await sleep(150);
    await writeFile(join(ws, 'services/auth/src/handlers/auth.v1.AuthService/sedAb12Cd'), 'export const login = 4;\n');
    await sleep(100);
    await rename(join(ws, 'services/auth/src/handlers/auth.v1.AuthService/sedAb12Cd'), join(ws, LOGIN));
    await sedSave;
    await sleep(300);
    assert.deepEqual(
      seen.filter((change) => change.path.endsWith('.tmp') || change.path.endsWith('sedAb12Cd')),
      [],
      'the temporaries are not reported',
    );
    assert.deepEqual(errors, []);
  });

  test('grpcforge.yaml and a contract saved by write-and-rename are reported every time', async () => {
    for (let save = 1; save <= 2; save++) {
      const config = nextChange('grpcforge.yaml', 'config');
      await saveByRename('grpcforge.yaml', `version: 1\n# ${save}\n`);
      await config;
      const contract = nextChange(PROTO, 'contract');
      await saveByRename(PROTO, `syntax = "proto3";\n// ${save}\n`);
      await contract;
    }
  });

  test('a config file that did not exist when dev started is reported once created, and after', async () => {
    const created = nextChange('buf.gen.yaml', 'config');
    await writeFile(join(ws, 'buf.gen.yaml'), 'version: v2\n');
    await created;
    const changed = nextChange('buf.gen.yaml', 'config');
    await saveByRename('buf.gen.yaml', 'version: v2\n# 2\n');
    await changed;
  });

  test('new folders are watched; generated code and node_modules are not reported', async () => {
    const fresh = 'services/auth/src/handlers/auth.v1.AuthService/new/ping.ts';
    await mkdir(join(ws, 'services/auth/src/handlers/auth.v1.AuthService/new'));
    const added = nextChange(fresh, 'service');
    await writeFile(join(ws, GENERATED), '// generated again\n');
    await writeFile(join(ws, 'services/auth/src/node_modules/x/index.js'), '// changed\n');
    await writeFile(join(ws, fresh), 'export {};\n');
    await added;
    assert.deepEqual(
      seen.filter((change) => change.path.includes('/gen/') || change.path.includes('node_modules')),
      [],
    );
    const removed = nextChange(fresh, 'service');
    await rm(join(ws, fresh));
    await removed;
  });
});
