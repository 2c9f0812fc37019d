import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { formatLintText } from '../../src/cli/output/lint-report.ts';
import type { LintReport } from '../../src/lint/findings.ts';
import { linkWorkspace, repoRoot, runCli, publicContracts, tempDir, writeFiles, type CliResult } from '../helpers/workspace.ts';

// `grpcforge lint` on a git repository built here: the example workspace in a subfolder, one branch per change.

let repo: string;
let ws: string;

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: repo, encoding: 'utf8' });

async function edit(path: string, change: (text: string) => string): Promise<void> {
  const file = join(ws, path);
  const before = await readFile(file, 'utf8');
  const after = change(before);
  assert.notEqual(after, before, `the edit of ${path} changed nothing`);
  await writeFile(file, after);
}

function lint(...args: string[]): { code: number | null; report: LintReport; stderr: string } {
  const result = runCli(['lint', '--format', 'json', ...args], ws);
  assert.notEqual(result.code, 2, `lint could not run: ${result.stderr}`);
  return {
    code: result.code,
    report: result.stdout ? (JSON.parse(result.stdout) as LintReport) : ({} as LintReport),
    stderr: result.stderr,
  };
}

const AUTH = 'proto/auth/v1/auth.proto';
const USER = 'proto/user/v1/user.proto';

/** Runs `change` on a fresh branch from main, then returns to a clean main. */
async function onBranch(name: string, change: () => Promise<void>, check: () => Promise<void> | void): Promise<void> {
  git('checkout', '-q', '-b', name, 'main');
  try {
    await change();
    git('add', '-A');
    git('commit', '-q', '-m', name);
    await check();
  } finally {
    git('checkout', '-q', '-f', 'main');
    git('clean', '-q', '-fd', '-e', 'node_modules');
  }
}

describe('grpcforge lint', () => {
  before(async () => {
    repo = await tempDir();
    ws = join(repo, 'platform');
    git('init', '-q', '-b', 'main');
    assert.equal(runCli(['init', ws], repo).code, 0);
    await linkWorkspace(ws);
    await writeFile(join(repo, '.gitignore'), 'node_modules/\n.grpcforge/*.db*\n');
    // An enum, so that deleting one of its values can be tested.
    await edit(
      USER,
      (text) =>
        text.replace('  ];\n}\n\nmessage GetUserRequest', '  ];\n  UserStatus status = 4;\n}\n\nmessage GetUserRequest') +
        '\nenum UserStatus {\n  USER_STATUS_UNSPECIFIED = 0;\n  USER_STATUS_ACTIVE = 1;\n  USER_STATUS_BLOCKED = 2;\n}\n',
    );
    assert.equal(runCli(['generate'], ws).code, 0);
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
  });

  test('a clean workspace passes, exit 0, and the JSON has its documented shape', () => {
    const { code, report } = lint('--against', 'main');
    assert.equal(code, 0, JSON.stringify(report.findings));
    assert.equal(report.version, 1);
    assert.equal(report.against, 'git ref main');
    assert.deepEqual(
      report.checks.map((check) => [check.check, check.ran, check.findings]),
      [
        ['lint', true, 0],
        ['breaking', true, 0],
        ['consistency', true, 0],
        ['drift', true, 0],
      ],
    );
    assert.deepEqual(report.findings, []);
  });

  const compatible: [string, () => Promise<void>][] = [
    [
      'add a field',
      () => edit(AUTH, (t) => t.replace('message LoginRequest {\n', 'message LoginRequest {\n  string otp_code = 3;\n')),
    ],
    [
      'add an RPC',
      () =>
        edit(AUTH, (t) =>
          t
            .replace(
              '  // ListSessions streams',
              '  // Logout ends a session.\n  rpc Logout(LogoutRequest) returns (LogoutResponse);\n\n  // ListSessions streams',
            )
            .replace(
              'message ListSessionsRequest {}',
              'message LogoutRequest {\n  string token = 1;\n}\n\nmessage LogoutResponse {}\n\nmessage ListSessionsRequest {}',
            ),
        ),
    ],
    [
      'add a service',
      () =>
        edit(
          AUTH,
          (t) =>
            `${t}\n// AuditService records who did what.\nservice AuditService {\n  rpc RecordEvent(RecordEventRequest) returns (RecordEventResponse);\n}\n\nmessage RecordEventRequest {\n  string what = 1;\n}\n\nmessage RecordEventResponse {}\n`,
        ),
    ],
  ];
  // Additive changes cannot hide each other's findings (buf compares element by element), so they share one branch,
  // one generate and one lint run: a false finding from any of them fails it, and the message names the file and rule.
  test(`compatible: ${compatible.map(([name]) => name).join(', ')} pass once regenerated (one branch)`, async () => {
    await onBranch(
      'compatible',
      async () => {
        for (const [, change] of compatible) await change();
        const generate = runCli(['generate'], ws);
        assert.equal(generate.code, 0, generate.stderr);
        assert.match(
          generate.stdout,
          /created +services\/auth\/src\/handlers\/auth\.v1\.AuthService\/logout\.ts/,
          'the added RPC got its handler',
        );
      },
      () => {
        const { code, report } = lint('--against', 'main');
        assert.equal(code, 0, JSON.stringify(report.findings, null, 1));
        assert.deepEqual(
          report.checks.map((check) => [check.check, check.ran, check.findings]),
          [
            ['lint', true, 0],
            ['breaking', true, 0],
            ['consistency', true, 0],
            ['drift', true, 0],
          ],
        );
      },
    );
  });

  interface BreakingCase {
    readonly name: string;
    readonly change: () => Promise<void>;
    readonly rule: string;
    readonly consumer: string;
    /** What identifies the change's finding in buf's message, since several changes share one run. */
    readonly element: RegExp;
    /** A change that hides others (a deleted service, a new package) gets a branch and a run of its own. */
    readonly alone?: boolean;
  }
  const breaking: BreakingCase[] = [
    {
      name: 'delete an RPC',
      change: () =>
        edit(AUTH, (t) =>
          t.replace(/ {2}\/\/ Login exchanges[^\n]*\n {2}rpc Login\(LoginRequest\) returns \(LoginResponse\);\n/, ''),
        ),
      rule: 'RPC_NO_DELETE',
      consumer: 'user (consumes auth.v1.AuthService)',
      element: /"Login"/,
    },
    {
      name: 'delete a service',
      change: () => edit(AUTH, (t) => t.replace(/\/\/ AuthService issues[\s\S]*?\n}\n/, '')),
      rule: 'SERVICE_NO_DELETE',
      consumer: 'user (consumes auth.v1.AuthService)',
      element: /"AuthService"/,
      alone: true,
    },
    {
      name: 'rename a field',
      change: () => edit(AUTH, (t) => t.replace('string username = 1 ', 'string login = 1 ')),
      rule: 'FIELD_SAME_NAME',
      consumer: 'user (consumes auth.v1.AuthService)',
      element: /"username"/,
    },
    {
      name: 'renumber a field',
      change: () => edit(AUTH, (t) => t.replace('string password = 2 ', 'string password = 5 ')),
      rule: 'FIELD_NO_DELETE',
      consumer: 'user (consumes auth.v1.AuthService)',
      element: /"password"/,
    },
    {
      name: "change a field's type",
      change: () =>
        edit(AUTH, (t) =>
          t.replace(
            '  string token = 1;\n}\n\nmessage ValidateTokenResponse',
            '  bytes token = 1;\n}\n\nmessage ValidateTokenResponse',
          ),
        ),
      rule: 'FIELD_SAME_TYPE',
      consumer: 'user (consumes auth.v1.AuthService)',
      element: /"ValidateTokenRequest"/,
    },
    {
      name: "change an RPC's streaming",
      change: () =>
        edit(AUTH, (t) =>
          t.replace(
            'rpc ListSessions(ListSessionsRequest) returns (stream ListSessionsResponse);',
            'rpc ListSessions(ListSessionsRequest) returns (ListSessionsResponse);',
          ),
        ),
      rule: 'RPC_SAME_SERVER_STREAMING',
      consumer: 'user (consumes auth.v1.AuthService)',
      element: /"ListSessions"/,
    },
    {
      name: 'delete an enum value',
      change: () => edit(USER, (t) => t.replace('  USER_STATUS_BLOCKED = 2;\n', '')),
      rule: 'ENUM_VALUE_NO_DELETE',
      consumer: 'user (serves user.v1.UserService)',
      element: /"UserStatus"/,
    },
    {
      name: 'change the package',
      change: () => edit(AUTH, (t) => t.replace('package auth.v1;', 'package auth.v2;')),
      rule: 'FILE_SAME_PACKAGE',
      consumer: 'user (consumes auth.v1.AuthService)',
      element: /"auth\.v1"/,
      alone: true,
    },
  ];
  const title = (c: BreakingCase) => `breaking: ${c.name} fails with ${c.rule} and names ${c.consumer}`;

  /** The case's finding is in the report, names the consumer, and the text output names it under the finding. */
  function assertBreaks(report: LintReport, c: BreakingCase): void {
    const found = report.findings.filter(
      (finding) => finding.check === 'breaking' && finding.rule === c.rule && c.element.test(finding.message),
    );
    assert.ok(
      found.length > 0,
      `no ${c.rule} matching ${c.element.source} in ${JSON.stringify(report.findings.map((f) => `${f.rule}: ${f.message}`))}`,
    );
    const named = found.flatMap((finding) => (finding.affects ?? []).map((a) => `${a.service} (${a.role} ${a.contractService})`));
    assert.ok(named.includes(c.consumer), `${c.consumer} not in ${JSON.stringify(named)}`);
    const text = formatLintText(report);
    const at = text.findIndex((line) => line.includes(` ${c.rule} `) && c.element.test(line));
    assert.ok(at >= 0, `no text line for ${c.rule}:\n${text.join('\n')}`);
    assert.match(text[at + 1] ?? '', new RegExp(`^ +breaks .*${c.consumer.replace(/[().]/g, '\\$&')}`), text.join('\n'));
  }

  describe('breaking: the independent changes on one branch, one lint run', () => {
    let result: ReturnType<typeof lint>;
    let text: CliResult;
    before(async () => {
      await onBranch(
        'breaking',
        async () => {
          for (const c of breaking.filter((c) => !c.alone)) await c.change();
        },
        () => {
          result = lint('--against', 'main', '--no-drift');
          text = runCli(['lint', '--against', 'main', '--no-drift'], ws);
        },
      );
    });

    test('exit 1 in both formats, and the text output is the JSON report formatted', () => {
      assert.equal(result.code, 1);
      assert.equal(text.code, 1, text.stderr);
      assert.equal(text.stdout, `${formatLintText(result.report).join('\n')}\n`);
    });

    for (const c of breaking.filter((c) => !c.alone)) test(title(c), () => assertBreaks(result.report, c));
  });

  for (const c of breaking.filter((c) => c.alone)) {
    test(title(c), async () => {
      await onBranch(c.name.replace(/[^a-z]+/g, '-'), c.change, () => {
        const { code, report } = lint('--against', 'main', '--no-drift');
        assert.equal(code, 1);
        assertBreaks(report, c);
      });
    });
  }

  test('drift: an edited, a deleted and a stray generated file, and an RPC removed without regenerating', async () => {
    await onBranch(
      'drift',
      async () => {
        await edit('services/user/src/gen/clients/auth.v1.AuthService.ts', (t) => `${t}// edited by hand\n`);
        await unlink(join(ws, 'services/auth/src/gen/server/index.ts'));
        await writeFiles(ws, { 'services/user/src/gen/notes.ts': 'export const note = 1;\n' });
        await edit(USER, (t) => t.replace(/ {2}\/\/ SyncUsers answers[^\n]*\n {2}rpc SyncUsers[^\n]*\n/, ''));
      },
      () => {
        const { code, report } = lint('--no-breaking');
        assert.equal(code, 1);
        const drift: Record<string, string> = Object.fromEntries(
          report.findings.filter((f) => f.check === 'drift').map((f): [string, string] => [f.file ?? '', f.rule]),
        );
        assert.equal(drift['services/user/src/gen/clients/auth.v1.AuthService.ts'], 'drift-changed');
        assert.equal(drift['services/auth/src/gen/server/index.ts'], 'drift-missing');
        assert.equal(drift['services/user/src/gen/notes.ts'], 'drift-untracked');
        assert.equal(
          drift['services/user/src/gen/server/user.v1.UserService.ts'],
          'drift-changed',
          'the wiring still lists SyncUsers',
        );
        const orphan = report.findings.find((f) => f.rule === 'orphaned-handler');
        assert.equal(orphan?.file, 'services/user/src/handlers/user.v1.UserService/sync-users.ts');
        assert.equal(runCli(['generate', '--check'], ws).code, 1, 'generate --check reports the same drift');
      },
    );
  });

  test('consistency: a missing handler and an unknown service each have their message', async () => {
    await onBranch(
      'consistency',
      async () => {
        await unlink(join(ws, 'services/auth/src/handlers/auth.v1.AuthService/login.ts'));
        await edit('grpcforge.yaml', (t) =>
          t.replace(
            '        deadlineMs: 2000\n',
            '        deadlineMs: 2000\n      - service: billing.v1.BillingService\n        target: billing:443\n',
          ),
        );
      },
      () => {
        const { code, report } = lint('--no-breaking');
        assert.equal(code, 1);
        const messages = report.findings.filter((f) => f.check === 'consistency').map((f) => `${f.rule}: ${f.message}`);
        assert.ok(
          messages.some((m) =>
            m.startsWith('unknown-service: services.user.consumes[1]: "billing.v1.BillingService" is not a service in proto/'),
          ),
          JSON.stringify(messages),
        );
        assert.equal(report.checks.find((c) => c.check === 'drift')?.skipped, 'grpcforge.yaml has consistency errors');
      },
    );
    // No provider in the workspace and no target (a target would declare it external).
    await onBranch(
      'no-provider',
      () =>
        edit('grpcforge.yaml', (t) =>
          t.replace('serves: [auth.v1.AuthService]', 'serves: []').replace(/ +target: \$\{AUTH_ADDR[^\n]*\n/, ''),
        ),
      () => {
        const { code, report } = lint('--no-breaking');
        assert.equal(code, 1, 'a consumed service without a provider is a finding, not a setup error');
        const finding = report.findings.find((f) => f.rule === 'consumed-has-provider');
        assert.match(
          finding?.message ?? '',
          /^services\.user\.consumes\[0\]\.target: is required because no service in the workspace serves "auth\.v1\.AuthService"/,
        );
        assert.equal(finding?.file, 'grpcforge.yaml');
      },
    );
    await onBranch(
      'two-providers',
      () =>
        edit('grpcforge.yaml', (t) =>
          t.replace('serves: [user.v1.UserService]', 'serves: [user.v1.UserService, auth.v1.AuthService]'),
        ),
      () => {
        const { report } = lint('--no-breaking');
        const finding = report.findings.find((f) => f.rule === 'one-provider');
        assert.equal(finding?.message, 'services.user.serves[1]: "auth.v1.AuthService" is already served by service "auth"');
      },
    );
    await onBranch(
      'missing-handler',
      () => unlink(join(ws, 'services/auth/src/handlers/auth.v1.AuthService/login.ts')),
      () => {
        const { report } = lint('--no-breaking');
        const missing = report.findings.find((f) => f.rule === 'missing-handler');
        assert.equal(missing?.message, 'auth serves /auth.v1.AuthService/Login but has no handler (run grpcforge generate)');
      },
    );
  });

  test('GitHub Actions format: one ::error annotation per finding with file, line and col', async () => {
    await onBranch(
      'gha',
      () => edit(AUTH, (t) => t.replace('string username = 1 ', 'string UserName = 1 ')),
      () => {
        const result = runCli(['lint', '--against', 'main', '--no-drift', '--format', 'github-actions'], ws);
        assert.equal(result.code, 1);
        // Paths are relative to the repository root (the workspace is platform/), where GitHub places annotations.
        assert.match(
          result.stdout,
          /^::error file=platform\/proto\/auth\/v1\/auth\.proto,line=\d+,col=\d+,title=lint%3A FIELD_LOWER_SNAKE_CASE::Field name "UserName"/m,
        );
        assert.match(
          result.stdout,
          /^::error file=platform\/proto\/auth\/v1\/auth\.proto,line=\d+,col=\d+,title=breaking%3A FIELD_SAME_NAME::.*\(breaks .*user \(consumes auth\.v1\.AuthService\)\)$/m,
        );
        assert.match(result.stdout, /^::notice title=grpcforge lint::grpcforge lint: \d+ findings/m);
      },
    );
  });

  test('a missing ref and a bad config are setup errors: exit 2 with what to do', async () => {
    const missing = runCli(['lint', '--against', 'origin/release-9'], ws);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--against: "origin\/release-9" is not a commit in this repository/);
    assert.match(missing.stderr, /git fetch origin release-9/);
    const image = runCli(['lint', '--against-image', 'nope.binpb'], ws);
    assert.equal(image.code, 2);
    await onBranch(
      'bad-config',
      () => edit('grpcforge.yaml', (t) => t.replace('version: 1', 'version: 7')),
      () => {
        const bad = runCli(['lint'], ws);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /grpcforge\.yaml:\d+:\d+: version: expected 1, got 7/);
      },
    );
  });

  test('a saved image works as the baseline', async () => {
    const image = join(await tempDir(), 'base.binpb');
    execFileSync(join(repoRoot, 'node_modules/.bin/buf'), ['build', '-o', image], { cwd: ws });
    await onBranch(
      'image',
      () => edit(AUTH, (t) => t.replace('string password = 2 ', 'string password = 9 ')),
      () => {
        const { code, report } = lint('--against-image', image, '--no-drift');
        assert.equal(code, 1);
        assert.ok(report.findings.some((f) => f.rule === 'FIELD_NO_DELETE'));
        assert.match(report.against ?? '', /^image /);
      },
    );
  });

  test('the GitHub Actions workflow init writes runs its lint step unchanged', async () => {
    const workflow = parse(await readFile(join(ws, '.github/workflows/grpcforge.yml'), 'utf8')) as {
      jobs: Record<string, { steps: { run?: string; with?: Record<string, unknown> }[] }>;
    };
    const steps = Object.values(workflow.jobs)[0]!.steps;
    assert.equal(steps.find((step) => step.with?.['fetch-depth'] !== undefined)?.with?.['fetch-depth'], 0);
    const run = steps.find((step) => step.run?.includes('grpcforge lint'))!.run!;
    // A remote named origin, as actions/checkout leaves it; `npx grpcforge` is this checkout's CLI here.
    const origin = join(await tempDir(), 'origin.git');
    execFileSync('git', ['clone', '-q', '--bare', repo, origin]);
    git('remote', 'add', 'origin', origin);
    git('fetch', '-q', 'origin');
    try {
      const command = run.replace('npx grpcforge', `node ${join(repoRoot, 'bin/grpcforge')}`);
      const clean = spawnSync('bash', ['-c', command], {
        cwd: ws,
        env: { ...process.env, GITHUB_BASE_REF: 'main' },
        encoding: 'utf8',
      });
      assert.equal(clean.status, 0, clean.stdout + clean.stderr);
      assert.match(clean.stdout, /^::notice title=grpcforge lint::grpcforge lint: clean$/m);
      await onBranch(
        'ci-breaking',
        () => edit(AUTH, (t) => t.replace('string password = 2 ', 'string password = 4 ')),
        () => {
          const broken = spawnSync('bash', ['-c', command], {
            cwd: ws,
            env: { ...process.env, GITHUB_BASE_REF: 'main' },
            encoding: 'utf8',
          });
          assert.equal(broken.status, 1);
          assert.match(
            broken.stdout,
            /^::error file=platform\/proto\/auth\/v1\/auth\.proto,.*breaks .*user \(consumes auth\.v1\.AuthService\)/m,
          );
        },
      );
    } finally {
      git('remote', 'remove', 'origin');
    }
  });

  test('public contracts: a hundred lint findings stay readable', async () => {
    const dir = await tempDir();
    await cp(join(publicContracts, 'grpc-proto'), join(dir, 'proto'), { recursive: true });
    await rm(join(dir, 'proto/LICENSE'));
    await cp(join(repoRoot, 'templates/workspace/buf.gen.yaml'), join(dir, 'buf.gen.yaml'));
    await writeFiles(dir, {
      'buf.yaml': 'version: v2\nmodules:\n  - path: proto\nlint:\n  use: [STANDARD]\n',
      'grpcforge.yaml': 'version: 1\nservices:\n  greeter:\n    serves: [helloworld.Greeter]\n    listen: 127.0.0.1:0\n',
    });
    const result = runCli(['lint', '--no-drift'], dir);
    assert.equal(result.code, 1);
    const lines = result.stdout.trim().split('\n');
    const count = Number(/^lint: (\d+) findings$/.exec(lines[0] ?? '')?.[1]);
    assert.ok(count >= 80, `lint findings: ${count}`);
    assert.ok(
      lines.some((line) => /^ {2}proto\/grpc\/testing\/test\.proto$/.test(line)),
      'findings are grouped by file',
    );
    assert.ok(
      lines.some((line) => line.startsWith('  by rule: ')),
      'a per-rule count follows many findings',
    );
    assert.match(lines.at(-1)!, /^grpcforge lint: \d+ findings \(lint \d+, consistency \d+\)$/);
  });
});
