import type { Command } from 'commander';
import { relative } from 'node:path';
import { toPosix } from '../../util/fs.js';
import { runProcess } from '../../util/spawn.js';
import { UserError } from '../../util/errors.js';
import type { GlobalOptions } from '../context.js';
import { formatLintGithub, formatLintText } from '../output/lint-report.js';
import { err, out, printJson } from '../output/print.js';

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
    .option('--against <ref>', 'git ref to compare for breaking changes: main, origin/main, a tag, a commit')
    .option('--against-image <file>', 'compare with a saved buf image instead (buf build -o base.binpb)')
    .option('--format <format>', 'text, json or github-actions (default: text)', 'text')
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
      if (!['text', 'json', 'github-actions'].includes(flags.format)) {
        throw new UserError('bad-flag', `--format: expected text, json or github-actions, got "${flags.format}"`);
      }
      if (flags.against && flags.againstImage) throw new UserError('bad-flag', '--against and --against-image exclude each other');
      const globals = command.optsWithGlobals<GlobalOptions>();
      const { findConfigFile, formatConfigProblem, loadConfig } = await import('../../config/load.js');
      const configPath = globals.config ?? findConfigFile(process.cwd());
      const loaded = await loadConfig(configPath);
      // Schema errors stop the check (exit 2); cross-field rule errors (a consumed service without a provider, two
      // providers) are findings of the consistency check.
      const schemaErrors = loaded.errors.filter((problem) => problem.rule === undefined);
      if (!loaded.unchecked || schemaErrors.length > 0) {
        throw new UserError('config-invalid', 'grpcforge.yaml is not valid', loaded.errors.map((problem) => formatConfigProblem(configPath, problem)));
      }
      const config = loaded.unchecked;
      const ruleFindings = loaded.errors.map((problem) => ({
        check: 'consistency' as const,
        rule: problem.rule!,
        message: `${problem.path}: ${problem.message}`,
        file: toPosix(relative(config.workspaceDir, configPath)),
        ...(problem.line !== undefined ? { line: problem.line, column: problem.column ?? 1 } : {}),
      }));
      const { runLint } = await import('../../lint/run-lint.js');
      const against = flags.againstImage ? { image: flags.againstImage } : flags.against ? { gitRef: flags.against } : undefined;
      const report = await runLint(config, {
        ...(against ? { against } : {}),
        lint: flags.lint,
        breaking: flags.breaking,
        drift: flags.drift,
        extraFindings: ruleFindings,
        ...(flags.format === 'text' ? { onProgress: (line: string) => err(`checking ${line}`) } : {}),
      });
      if (flags.format === 'json') printJson(report);
      else if (flags.format === 'github-actions') for (const line of formatLintGithub(report, await repositoryPrefix(config.workspaceDir))) out(line);
      else for (const line of formatLintText(report)) out(line);
      if (report.findings.length > 0) process.exitCode = 1;
    });
}

/** The workspace's folder relative to the root of its git repository (`platform/`), or '' outside git. */
async function repositoryPrefix(workspaceDir: string): Promise<string> {
  const result = await runProcess('git', ['rev-parse', '--show-prefix'], { cwd: workspaceDir }).catch(() => undefined);
  return result?.exitCode === 0 ? result.stdout.toString('utf8').trim() : '';
}
