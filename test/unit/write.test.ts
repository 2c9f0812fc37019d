import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GENERATED_HEADER } from '../../src/codegen/header.ts';
import { MANIFEST_PATH, type GenerationPlan, type PlannedFile, type PlannedService } from '../../src/codegen/plan-types.ts';
import { applyPlan, diffPlan, type WriteReport } from '../../src/codegen/write.ts';
import { formatGenerateReport, isDrift } from '../../src/cli/output/generate-report.ts';
import { checkDrift } from '../../src/lint/drift.ts';
import { listFilesRecursive } from '../../src/util/fs.ts';
import { hashTree, tempDir, writeFiles } from '../helpers/workspace.ts';

// The writer on a real folder, with plans built by hand (no buf): what `generate`, `generate --check` and lint's
// drift check do with the files on disk. The plans' contents stand in for the templates; only paths, ownership and
// the header matter to the writer.

const generated = (path: string, service: string, body = `export const path = '${path}';`): PlannedFile => ({
  path,
  ownership: 'generated',
  content: `${GENERATED_HEADER}\n${body}\n`,
  service,
});
const scaffold = (path: string, service: string, body = `// yours: ${path}\nexport {};`): PlannedFile => ({
  path,
  ownership: 'scaffold',
  content: `${body}\n`,
  service,
});
const service = (name: string, dir = `services/${name}`): PlannedService => ({
  name,
  dir,
  genDir: `${dir}/src/gen`,
  handlersDir: `${dir}/src/handlers`,
});
const plan = (files: readonly PlannedFile[], services: readonly PlannedService[]): GenerationPlan => ({
  files: [...files].sort((a, b) => a.path.localeCompare(b.path)),
  services,
  notes: [],
});

/** auth serves auth.v1.AuthService; user serves user.v1.UserService and consumes auth (in `userDir`). */
function examplePlan(userDir = 'services/user', handlers: readonly string[] = ['login', 'validate-token']): GenerationPlan {
  return plan(
    [
      generated('services/auth/src/gen/pb/auth/v1/auth.ts', 'auth'),
      generated('services/auth/src/gen/server/auth.v1.AuthService.ts', 'auth'),
      generated('services/auth/src/gen/server/index.ts', 'auth'),
      scaffold('services/auth/src/context.ts', 'auth'),
      ...handlers.map((rpc) => scaffold(`services/auth/src/handlers/auth.v1.AuthService/${rpc}.ts`, 'auth')),
      generated(`${userDir}/src/gen/clients/auth.v1.AuthService.ts`, 'user'),
      generated(`${userDir}/src/gen/pb/auth/v1/auth.ts`, 'user'),
      generated(`${userDir}/src/gen/stubs/auth.v1.AuthService.ts`, 'user'),
      scaffold(`${userDir}/src/handlers/user.v1.UserService/get-user.ts`, 'user'),
    ],
    [service('auth'), service('user', userDir)],
  );
}

/** `action path`, one per report entry, in the report's order. */
const lines = (entries: WriteReport['entries']) => entries.map((entry) => `${entry.action} ${entry.path}`);

/** Every file below the workspace, path → SHA-256 (the manifest included). */
async function snapshot(dir: string): Promise<Map<string, string>> {
  return hashTree(dir, await listFilesRecursive(dir));
}

const readManifest = async (dir: string) =>
  JSON.parse(await readFile(join(dir, MANIFEST_PATH), 'utf8')) as { version: number; files: Record<string, string> };

/** A temp workspace with `examplePlan()` applied once. */
async function generatedWorkspace(): Promise<string> {
  const ws = await tempDir('grpcforge-write-');
  await applyPlan(ws, examplePlan());
  return ws;
}

describe('applyPlan (the writer) on a real folder', () => {
  test('a first run creates every planned file, byte for byte, and lists only the generated ones in the manifest', async () => {
    const ws = await tempDir('grpcforge-write-');
    const first = examplePlan();
    const report = await applyPlan(ws, first);
    assert.deepEqual(lines(report.entries), [
      'created services/auth/src/context.ts',
      'created services/auth/src/gen/pb/auth/v1/auth.ts',
      'created services/auth/src/gen/server/auth.v1.AuthService.ts',
      'created services/auth/src/gen/server/index.ts',
      'created services/auth/src/handlers/auth.v1.AuthService/login.ts',
      'created services/auth/src/handlers/auth.v1.AuthService/validate-token.ts',
      'created services/user/src/gen/clients/auth.v1.AuthService.ts',
      'created services/user/src/gen/pb/auth/v1/auth.ts',
      'created services/user/src/gen/stubs/auth.v1.AuthService.ts',
      'created services/user/src/handlers/user.v1.UserService/get-user.ts',
    ]);
    assert.deepEqual(
      report.entries.filter((entry) => entry.service === 'user').map((entry) => entry.path),
      first.files.filter((file) => file.service === 'user').map((file) => file.path),
      'each entry names the service of its file',
    );
    for (const file of first.files) assert.equal(await readFile(join(ws, file.path), 'utf8'), file.content, file.path);
    assert.deepEqual((await listFilesRecursive(ws)).sort(), [...first.files.map((file) => file.path), MANIFEST_PATH].sort());
    const manifest = await readManifest(ws);
    assert.equal(manifest.version, 1);
    assert.deepEqual(manifest.files, {
      'services/auth/src/gen/pb/auth/v1/auth.ts': 'auth',
      'services/auth/src/gen/server/auth.v1.AuthService.ts': 'auth',
      'services/auth/src/gen/server/index.ts': 'auth',
      'services/user/src/gen/clients/auth.v1.AuthService.ts': 'user',
      'services/user/src/gen/pb/auth/v1/auth.ts': 'user',
      'services/user/src/gen/stubs/auth.v1.AuthService.ts': 'user',
    });
  });

  test('a second run of the same plan changes no byte: generated files unchanged, user-owned files kept', async () => {
    const ws = await generatedWorkspace();
    const before = await snapshot(ws);
    const report = await applyPlan(ws, examplePlan());
    assert.deepEqual(lines(report.entries), [
      'kept services/auth/src/context.ts',
      'unchanged services/auth/src/gen/pb/auth/v1/auth.ts',
      'unchanged services/auth/src/gen/server/auth.v1.AuthService.ts',
      'unchanged services/auth/src/gen/server/index.ts',
      'kept services/auth/src/handlers/auth.v1.AuthService/login.ts',
      'kept services/auth/src/handlers/auth.v1.AuthService/validate-token.ts',
      'unchanged services/user/src/gen/clients/auth.v1.AuthService.ts',
      'unchanged services/user/src/gen/pb/auth/v1/auth.ts',
      'unchanged services/user/src/gen/stubs/auth.v1.AuthService.ts',
      'kept services/user/src/handlers/user.v1.UserService/get-user.ts',
    ]);
    assert.deepEqual(await snapshot(ws), before, 'no file changed, the manifest included');
    assert.deepEqual(await diffPlan(ws, examplePlan()), [], 'generate --check finds nothing');
  });

  test('a dry run reports a changed, a missing and a stray generated file and a foreign one, and writes nothing', async () => {
    const ws = await generatedWorkspace();
    const client = join(ws, 'services/user/src/gen/clients/auth.v1.AuthService.ts');
    await writeFile(client, `${await readFile(client, 'utf8')}// hand edit\n`);
    await unlink(join(ws, 'services/auth/src/gen/server/index.ts'));
    await writeFiles(ws, {
      'services/user/src/gen/stray.ts': `${GENERATED_HEADER}\nexport const stray = 1;\n`,
      'services/user/src/gen/notes.ts': 'export const note = 1;\n',
    });
    const before = await snapshot(ws);

    const report = await applyPlan(ws, examplePlan(), { dryRun: true });
    const drift = [
      'created services/auth/src/gen/server/index.ts',
      'written services/user/src/gen/clients/auth.v1.AuthService.ts',
      'foreign services/user/src/gen/notes.ts',
      'removed services/user/src/gen/stray.ts',
    ];
    assert.deepEqual(lines(report.entries.filter(isDrift)), drift, 'what generate --check counts as drift');
    assert.deepEqual(
      lines(report.entries.filter((entry) => !isDrift(entry))).filter((line) => !/^(unchanged|kept) /.test(line)),
      [],
      'every other file is unchanged or kept',
    );
    assert.equal(report.entries.length, examplePlan().files.length + 2, 'one entry per planned file, plus the two strays');
    assert.deepEqual(await snapshot(ws), before, 'a dry run writes nothing (the manifest included)');
    assert.deepEqual(lines(await diffPlan(ws, examplePlan())), drift);
    // lint's drift check reads the same dry run.
    assert.deepEqual(
      checkDrift(examplePlan(), report.entries).map((finding) => `${finding.rule} ${finding.file ?? '-'}`),
      [
        'drift-missing services/auth/src/gen/server/index.ts',
        'drift-changed services/user/src/gen/clients/auth.v1.AuthService.ts',
        'drift-untracked services/user/src/gen/notes.ts',
        'drift-extra services/user/src/gen/stray.ts',
      ],
    );

    // Applying it for real repairs the generated files and leaves the foreign one alone.
    assert.deepEqual(lines((await applyPlan(ws, examplePlan())).entries.filter(isDrift)), drift);
    for (const file of examplePlan().files) assert.equal(await readFile(join(ws, file.path), 'utf8'), file.content, file.path);
    assert.ok(!existsSync(join(ws, 'services/user/src/gen/stray.ts')), 'the stray generated file is removed');
    assert.equal(await readFile(join(ws, 'services/user/src/gen/notes.ts'), 'utf8'), 'export const note = 1;\n');
    assert.deepEqual(lines(await diffPlan(ws, examplePlan())), ['foreign services/user/src/gen/notes.ts']);
  });

  test("generate's text report: one line per change, unchanged and kept files only with --verbose, then the counts", async () => {
    const ws = await generatedWorkspace();
    const again = (await applyPlan(ws, examplePlan())).entries;
    assert.deepEqual(formatGenerateReport(again, { verbose: false, dryRun: false }), [
      'generate: 0 created, 0 written, 6 unchanged, 4 kept',
    ]);
    assert.deepEqual(formatGenerateReport(again, { verbose: true, dryRun: false }).slice(0, 2), [
      '  kept      services/auth/src/context.ts',
      '  unchanged services/auth/src/gen/pb/auth/v1/auth.ts',
    ]);
    await unlink(join(ws, 'services/auth/src/gen/server/index.ts'));
    await writeFiles(ws, { 'services/user/src/gen/notes.ts': 'export const note = 1;\n' });
    const check = (await applyPlan(ws, examplePlan('services/user', ['login']), { dryRun: true })).entries;
    assert.deepEqual(formatGenerateReport(check, { verbose: false, dryRun: true }), [
      '  missing   services/auth/src/gen/server/index.ts',
      '  orphaned  services/auth/src/handlers/auth.v1.AuthService/validate-token.ts  (its RPC is no longer in the contract; kept, delete it when you no longer need it)',
      '  untracked services/user/src/gen/notes.ts  (in a generated folder but without the grpcforge header; left alone)',
      'check: 1 missing, 0 changed, 5 unchanged, 3 kept, 1 orphaned, 1 untracked',
    ]);
  });

  test('a scaffold file edited by the user is kept and never overwritten; a deleted one is created again', async () => {
    const ws = await generatedWorkspace();
    const login = 'services/auth/src/handlers/auth.v1.AuthService/login.ts';
    const mine = "export const login = async () => ({ token: 'mine' });\n";
    await writeFile(join(ws, login), mine);
    await unlink(join(ws, 'services/auth/src/handlers/auth.v1.AuthService/validate-token.ts'));
    // A later grpcforge whose handler template changed: every scaffold file is planned with new content.
    const later = examplePlan();
    const newer = plan(
      later.files.map((file) =>
        file.ownership === 'scaffold' ? { ...file, content: `// new template\n${file.content}` } : file,
      ),
      later.services,
    );

    const check = await applyPlan(ws, newer, { dryRun: true });
    const handlerLines = (report: WriteReport) =>
      lines(report.entries.filter((entry) => entry.path.includes('/src/handlers/auth.')));
    assert.deepEqual(handlerLines(check), [
      `kept ${login}`,
      'created services/auth/src/handlers/auth.v1.AuthService/validate-token.ts',
    ]);
    assert.deepEqual(checkDrift(newer, check.entries), [], 'a missing handler is not drift (lint reports it as missing-handler)');

    const report = await applyPlan(ws, newer);
    assert.deepEqual(handlerLines(report), handlerLines(check));
    assert.equal(await readFile(join(ws, login), 'utf8'), mine, 'the edited handler is untouched');
    assert.equal(
      await readFile(join(ws, 'services/auth/src/handlers/auth.v1.AuthService/validate-token.ts'), 'utf8'),
      newer.files.find((file) => file.path.endsWith('/validate-token.ts'))!.content,
    );
    assert.equal(
      await readFile(join(ws, 'services/auth/src/context.ts'), 'utf8'),
      examplePlan().files.find((file) => file.path === 'services/auth/src/context.ts')!.content,
      'an existing scaffold file keeps its first content',
    );
    assert.equal(
      (await applyPlan(ws, newer)).entries.filter((entry) => entry.action !== 'unchanged' && entry.action !== 'kept').length,
      0,
    );
  });

  test('a handler no longer planned is reported orphaned (also by a dry run) and kept, byte for byte', async () => {
    const ws = await generatedWorkspace();
    const orphan = 'services/auth/src/handlers/auth.v1.AuthService/validate-token.ts';
    await writeFile(join(ws, orphan), 'export const validateToken = async () => ({ valid: true });\n');
    // Files of the user's own in src/handlers that are not handlers: not reported.
    await writeFiles(ws, {
      'services/auth/src/handlers/shared.ts': 'export const shared = 1;\n',
      'services/auth/src/handlers/auth.v1.AuthService/README.md': 'notes\n',
    });
    const before = await snapshot(ws);
    const withoutRpc = examplePlan('services/user', ['login']);

    const check = await applyPlan(ws, withoutRpc, { dryRun: true });
    assert.deepEqual(lines(check.entries.filter((entry) => entry.action !== 'unchanged' && entry.action !== 'kept')), [
      `orphaned ${orphan}`,
    ]);
    assert.equal(check.entries.find((entry) => entry.action === 'orphaned')?.service, 'auth');
    assert.deepEqual(checkDrift(withoutRpc, check.entries), [], 'an orphaned handler is not drift');
    for (const run of [1, 2]) {
      const report = await applyPlan(ws, withoutRpc);
      assert.deepEqual(
        lines(report.entries.filter((entry) => entry.action !== 'unchanged' && entry.action !== 'kept')),
        [`orphaned ${orphan}`],
        `run ${run}: reported every time, never removed`,
      );
    }
    const after = await snapshot(ws);
    after.delete(MANIFEST_PATH);
    before.delete(MANIFEST_PATH);
    assert.deepEqual(after, before, 'no file changed (the orphan, its folder and the non-handler files included)');
  });

  test("the manifest removes a moved service's old generated files, prunes empty folders and keeps its handlers", async () => {
    const ws = await generatedWorkspace();
    const handler = 'services/user/src/handlers/user.v1.UserService/get-user.ts';
    const edited = "export const getUser = async () => ({ user: { id: 'u1' } });\n";
    await writeFile(join(ws, handler), edited);
    const moved = examplePlan('services/people');

    const check = await applyPlan(ws, moved, { dryRun: true });
    const expected = [
      'created services/people/src/gen/clients/auth.v1.AuthService.ts',
      'created services/people/src/gen/pb/auth/v1/auth.ts',
      'created services/people/src/gen/stubs/auth.v1.AuthService.ts',
      'created services/people/src/handlers/user.v1.UserService/get-user.ts',
      'removed services/user/src/gen/clients/auth.v1.AuthService.ts',
      'removed services/user/src/gen/pb/auth/v1/auth.ts',
      'removed services/user/src/gen/stubs/auth.v1.AuthService.ts',
    ];
    const changes = (report: WriteReport) =>
      lines(report.entries.filter((entry) => entry.action !== 'unchanged' && entry.action !== 'kept'));
    assert.deepEqual(changes(check), expected);
    assert.ok(existsSync(join(ws, 'services/user/src/gen/clients/auth.v1.AuthService.ts')), 'the dry run deleted nothing');

    const report = await applyPlan(ws, moved);
    assert.deepEqual(changes(report), expected);
    assert.deepEqual(
      report.entries.filter((entry) => entry.action === 'removed').map((entry) => entry.service),
      ['user', 'user', 'user'],
      'removed files are named with the service the manifest recorded',
    );
    assert.ok(!existsSync(join(ws, 'services/user/src/gen')), 'the old generated folder is gone, empty subfolders first');
    assert.equal(await readFile(join(ws, handler), 'utf8'), edited, 'handlers are never deleted');
    assert.deepEqual(await listFilesRecursive(join(ws, 'services/user')), ['src/handlers/user.v1.UserService/get-user.ts']);
    for (const file of moved.files) assert.ok(existsSync(join(ws, file.path)), file.path);
    const manifest = await readManifest(ws);
    assert.deepEqual(
      Object.keys(manifest.files).filter((path) => path.startsWith('services/user/')),
      [],
    );
    assert.equal(manifest.files['services/people/src/gen/clients/auth.v1.AuthService.ts'], 'user');
    assert.deepEqual(changes(await applyPlan(ws, moved)), [], 'the next run has nothing left to do');
  });

  test('a generated file edited to lose its header is foreign: not deleted, and its folder stays', async () => {
    const ws = await generatedWorkspace();
    const stub = 'services/user/src/gen/stubs/auth.v1.AuthService.ts';
    const text = (await readFile(join(ws, stub), 'utf8')).replace(`${GENERATED_HEADER}\n`, '// mine now\n');
    await writeFile(join(ws, stub), text);

    const report = await applyPlan(ws, examplePlan('services/people'));
    assert.deepEqual(lines(report.entries.filter((entry) => entry.path.startsWith('services/user/'))), [
      'removed services/user/src/gen/clients/auth.v1.AuthService.ts',
      'removed services/user/src/gen/pb/auth/v1/auth.ts',
      `foreign ${stub}`,
    ]);
    assert.equal(await readFile(join(ws, stub), 'utf8'), text, 'the file without the header is untouched');
    assert.deepEqual(await listFilesRecursive(join(ws, 'services/user')), [
      'src/gen/stubs/auth.v1.AuthService.ts',
      'src/handlers/user.v1.UserService/get-user.ts',
    ]);

    // In a current src/gen/ folder too: reported, never deleted, on every run.
    const ws2 = await generatedWorkspace();
    const client = 'services/user/src/gen/clients/auth.v1.AuthService.ts';
    const withoutClient = plan(
      examplePlan().files.filter((file) => file.path !== client),
      examplePlan().services,
    );
    await writeFile(join(ws2, client), 'export const mine = 1;\n');
    for (const run of [1, 2]) {
      const again = await applyPlan(ws2, withoutClient);
      assert.deepEqual(lines(again.entries.filter((entry) => entry.path === client)), [`foreign ${client}`], `run ${run}`);
    }
    assert.equal(await readFile(join(ws2, client), 'utf8'), 'export const mine = 1;\n');
  });

  test('a damaged manifest only means less to clean up: strays in src/gen/ are still removed', async () => {
    const ws = await generatedWorkspace();
    await writeFile(join(ws, MANIFEST_PATH), '{ not json');
    await writeFiles(ws, { 'services/auth/src/gen/old/gone.ts': `${GENERATED_HEADER}\n` });
    const report = await applyPlan(ws, examplePlan('services/people'));
    const removed = report.entries.filter((entry) => entry.action === 'removed').map((entry) => entry.path);
    assert.deepEqual(removed, ['services/auth/src/gen/old/gone.ts'], 'the old folder of user is no longer known');
    assert.ok(!existsSync(join(ws, 'services/auth/src/gen/old')), 'its empty folder is pruned');
    assert.ok(existsSync(join(ws, 'services/user/src/gen/clients/auth.v1.AuthService.ts')));
    assert.equal((await readManifest(ws)).version, 1, 'the manifest is written again');
  });

  test('a manifest entry outside src/gen/ is never deleted, even with the generated header', async () => {
    const ws = await generatedWorkspace();
    const kept = ['README.md', 'services/auth/src/handlers/keep.ts', 'node_modules/pkg/src/gen/index.ts'];
    const victims = [...kept, '../outside.ts'];
    await writeFiles(ws, Object.fromEntries(kept.map((path) => [path, `${GENERATED_HEADER}\n`])));
    const manifest = await readManifest(ws);
    await writeFile(
      join(ws, MANIFEST_PATH),
      JSON.stringify({ ...manifest, files: { ...manifest.files, ...Object.fromEntries(victims.map((path) => [path, 'auth'])) } }),
    );
    const report = await applyPlan(ws, examplePlan());
    assert.deepEqual(
      report.entries.filter((entry) => entry.action === 'removed'),
      [],
    );
    for (const path of kept) assert.ok(existsSync(join(ws, path)), path);
  });

  test('a generated file renamed only in case: the old name is removed, unless it is the planned file itself', async () => {
    const ws = await generatedWorkspace();
    const old = 'services/user/src/gen/clients/auth.v1.AuthService.ts';
    const renamed = 'services/user/src/gen/clients/auth.v1.Authservice.ts';
    const next = plan(
      examplePlan().files.map((file) => (file.path === old ? generated(renamed, 'user') : file)),
      examplePlan().services,
    );
    // A case-insensitive file system (macOS, Windows) shows one file under both names: a hard link does the same here.
    await link(join(ws, old), join(ws, renamed));
    await writeFile(join(ws, renamed), next.files.find((file) => file.path === renamed)!.content);
    assert.deepEqual(
      lines(await diffPlan(ws, next)),
      [],
      'the manifest names the planned file under its old case: it is not extra, or generate would delete what it wrote',
    );
    // A case-sensitive file system: two files, and the old one no longer belongs.
    await unlink(join(ws, renamed));
    await writeFile(join(ws, renamed), next.files.find((file) => file.path === renamed)!.content);
    const report = await applyPlan(ws, next);
    assert.deepEqual(lines(report.entries.filter((entry) => entry.path.includes('/clients/'))), [
      `unchanged ${renamed}`,
      `removed ${old}`,
    ]);
    assert.ok(!existsSync(join(ws, old)));
    assert.ok(existsSync(join(ws, renamed)));
  });
});
