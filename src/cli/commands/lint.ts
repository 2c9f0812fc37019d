import { Option, type Command } from 'commander';
import { configPathFor } from '../context.js';
import { err, out, printJson, styleOut } from '../output/print.js';

interface LintFlags {
  readonly against?: string;
  readonly againstImage?: string;
  readonly format: string;
  /** commander's --no-… flags. */
  readonly lint: boolean;
  readonly breaking: boolean;
  readonly drift: boolean;
}

/** `grpcforge lint`: the CI step for contracts. */
export function registerLint(program: Command): void {
  program
    .command('lint')
    .description('check contracts and workspace for CI: buf lint, buf breaking (and whom it breaks), consistency, drift')
    .addOption(
      new Option('--against <ref>', 'git ref to compare for breaking changes: main, origin/main, a tag, a commit').conflicts(
        'againstImage',
      ),
    )
    .option('--against-image <file>', 'compare with a saved buf image instead (buf build -o base.binpb)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'github-actions']).default('text'))
    .option('--no-lint', 'skip buf lint')
    .option('--no-breaking', 'skip buf breaking')
    .option('--no-drift', 'skip the generated-code check')
    .addHelpText(
      'after',
      `
Checks, reported together:
  lint         buf lint with the rules of buf.yaml (file:line:col and rule id)
  breaking     buf breaking with the rules of buf.yaml, and the services in grpcforge.yaml each change breaks
  consistency  every name in grpcforge.yaml exists in the contracts, every served RPC has a handler, no orphans
  drift        generated code is exactly what grpcforge generate writes now (missing, changed, extra, untracked)

Exit codes: 0 clean, 1 findings, 2 the check could not run (bad config, contracts that do not compile, missing ref).
The JSON shape (--format json) is documented in the README and versioned ("version": 1).

Examples:
  $ grpcforge lint --against main
  $ grpcforge lint --against origin/main --format github-actions     # in GitHub Actions (fetch-depth: 0)
  $ grpcforge lint --no-breaking --format json`,
    )
    .action(async (flags: LintFlags, command: Command) => {
      const [{ loadConfigForLint, runLint }, { formatLintGithub, formatLintText }] = await Promise.all([
        import('../../lint/run-lint.js'),
        import('../output/lint-report.js'),
      ]);
      const { config, ruleProblems } = await loadConfigForLint(await configPathFor(command));
      const against = flags.againstImage ? { image: flags.againstImage } : flags.against ? { gitRef: flags.against } : undefined;
      const report = await runLint(config, {
        ...(against ? { against } : {}),
        lint: flags.lint,
        breaking: flags.breaking,
        drift: flags.drift,
        configProblems: ruleProblems,
        ...(flags.format === 'text' ? { onProgress: (line: string) => err(`checking ${line}`) } : {}),
      });
      if (flags.format === 'json') printJson(report);
      else if (flags.format === 'github-actions')
        for (const line of formatLintGithub(report, await repositoryPrefix(config.workspaceDir))) out(line);
      else for (const line of formatLintText(report)) out(paintLintLine(line));
      if (report.findings.length > 0) process.exitCode = 1;
    });
}

/** The workspace's folder relative to the root of its git repository (`platform/`), or '' outside git. */
async function repositoryPrefix(workspaceDir: string): Promise<string> {
  const { runProcess } = await import('../../util/spawn.js');
  const result = await runProcess('git', ['rev-parse', '--show-prefix'], { cwd: workspaceDir }).catch(() => undefined);
  return result?.exitCode === 0 ? result.stdout.toString('utf8').trim() : '';
}

/** A check's heading or the summary line, coloured for a terminal: ok and clean green, findings red, skipped dim. */
function paintLintLine(line: string): string {
  const match = /^(\S[^:]*: )(ok|clean|skipped .*|\d+ findings?.*)$/.exec(line);
  if (!match) return line;
  const [, head = '', tail = ''] = match;
  const style = tail === 'ok' || tail === 'clean' ? 'green' : tail.startsWith('skipped') ? 'dim' : 'red';
  return head + styleOut(style, tail);
}
