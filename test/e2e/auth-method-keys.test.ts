import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { LintReport } from '../../src/lint/findings.ts';
import { linkWorkspace, runCli, tempDir } from '../helpers/workspace.ts';

// A misspelt auth.methods key must not silently drop its rule (here: ListSessions admin-only would fall back to
// `authenticated`): generate and serve refuse it (exit 2), lint reports it as a consistency finding.

describe('auth.methods keys that the contracts do not have', () => {
  let ws: string;
  let line: number;
  const KEY = 'auth.v1.AuthService/ListSesions';
  const PROBLEM =
    'auth.methods["auth.v1.AuthService/ListSesions"]: "ListSesions" is not an RPC of auth.v1.AuthService (did you mean "auth.v1.AuthService/ListSessions"?)';

  before(async () => {
    ws = join(await tempDir(), 'platform');
    assert.equal(runCli(['init', ws], process.cwd()).code, 0);
    await linkWorkspace(ws);
    assert.equal(runCli(['generate'], ws).code, 0);
    const path = join(ws, 'grpcforge.yaml');
    const text = await readFile(path, 'utf8');
    assert.ok(text.includes('auth.v1.AuthService/ListSessions:'));
    const edited = text.replace('auth.v1.AuthService/ListSessions:', `${KEY}:`);
    await writeFile(path, edited);
    line = edited.split('\n').findIndex((candidate) => candidate.includes(KEY)) + 1;
  });

  test('generate: exit 2 with file:line:col, the key path and a did-you-mean', () => {
    const result = runCli(['generate'], ws);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr.trim(),
      `grpcforge: grpcforge.yaml names services or RPCs the contracts do not declare\n  grpcforge.yaml:${line}:5: ${PROBLEM}`,
    );
  });

  test('lint: a consistency finding at the key', () => {
    const result = runCli(['lint', '--no-lint', '--no-breaking', '--no-drift', '--format', 'json'], ws);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as LintReport;
    assert.deepEqual(
      report.findings.map((finding) => ({ ...finding })),
      [{ check: 'consistency', rule: 'unknown-service', message: PROBLEM, file: 'grpcforge.yaml', line, column: 5 }],
    );
  });

  test('serve: refuses to start, exit 2, checked against the generated definitions', () => {
    const result = runCli(['serve', 'auth', '--port', '0', '--no-log-store'], ws);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '', 'it never listened');
    assert.equal(
      result.stderr.trim(),
      [
        'grpcforge: auth.methods in grpcforge.yaml does not match what "auth" serves',
        `  grpcforge.yaml:${line}:5: ${PROBLEM}`,
        '  if the contracts changed, run `grpcforge generate` first',
      ].join('\n'),
    );
  });
});
