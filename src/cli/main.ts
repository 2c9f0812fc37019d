import { Command, CommanderError } from 'commander';
import { GrpcforgeError, InternalError, UserError } from '../util/errors.js';
import { grpcforgeIssuesUrl, grpcforgeVersion, installedVersion } from '../util/version.js';
import { registerGenerate } from './commands/generate.js';
import { registerBuild } from './commands/build.js';
import { registerCall } from './commands/call.js';
import { registerCerts } from './commands/certs.js';
import { registerCompletion } from './commands/completion.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDeploy } from './commands/deploy.js';
import { registerDev } from './commands/dev.js';
import { registerInit } from './commands/init.js';
import { registerLint } from './commands/lint.js';
import { registerServe } from './commands/serve.js';
import { registerKeys, registerLogs, registerStats, registerStatus } from './commands/store-commands.js';
import { formatInternalError } from './output/internal-error.js';
import { err, errLabelled, styleErr } from './output/print.js';

/** Exit codes (PRODUCT.md): 0 success, 1 findings (for example `generate --check` drift), 2 error. */
const EXIT_ERROR = 2;

// Every command module registers its name, arguments, flags and help, and imports nothing heavy: each action loads
// its implementation (config, contracts, codegen, the store, nice-grpc) with import() when it runs. So `--help` and
// `--version` cost little more than starting Node (bench/cli-startup.ts; test/e2e/cli-startup.test.ts checks it).

/** Builds the commander program. */
export function createProgram(): Command {
  const program = new Command('grpcforge')
    .version(grpcforgeVersion(), '-V, --version')
    .description('From .proto contracts to running, typed gRPC services on Node.js (buf + ts-proto + nice-grpc).')
    .option('-c, --config <path>', 'grpcforge.yaml to use (default: found in the current folder or its parents)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(styleErr('red', text)) })
    .exitOverride();
  registerInit(program);
  registerGenerate(program);
  registerServe(program);
  registerDev(program);
  registerLint(program);
  registerBuild(program);
  registerCerts(program);
  registerCall(program);
  registerKeys(program);
  registerLogs(program);
  registerStats(program);
  registerStatus(program);
  registerDashboard(program);
  registerDeploy(program);
  registerCompletion(program);
  program.addHelpText(
    'after',
    `
A day with grpcforge:
  $ grpcforge init platform && cd platform && npm install
  $ grpcforge generate          # per-service code in services/*/src/gen, handlers in services/*/src/handlers
  $ grpcforge serve auth        # nice-grpc server: logging, auth, health, reflection
  $ grpcforge keys create --name ops --roles admin
  $ grpcforge stats --since 1h  # totals, success rate, p50/p95/p99, per method
  $ grpcforge lint --against main   # CI: buf lint, breaking changes and whom they break, consistency, drift
  $ grpcforge build             # compile to services/*/dist; then: node services/auth/dist/main.js

Exit codes: 0 success, 1 findings (lint, generate --check), 2 error (bad config, contract, flags, missing ref).`,
  );
  return program;
}

/** Runs the CLI and maps errors to exit codes: the only place that does. */
export async function main(argv: readonly string[]): Promise<void> {
  // `grpcforge ... | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    await createProgram().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were printed by commander.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_ERROR;
      return;
    }
    // A bug first (an InternalError, or anything that is not one of ours): with versions and a request for an issue.
    if (error instanceof InternalError || !(error instanceof GrpcforgeError)) {
      const [first = '', ...rest] = formatInternalError(error, {
        grpcforge: grpcforgeVersion(),
        node: process.version,
        grpcJs: installedVersion('@grpc/grpc-js'),
        issuesUrl: grpcforgeIssuesUrl(),
      });
      errLabelled('red', first);
      for (const line of rest) err(line);
    } else {
      errLabelled('red', `grpcforge: ${error.message}`);
      if (error instanceof UserError) for (const line of error.details) err(`  ${line}`);
    }
    process.exitCode = EXIT_ERROR;
  }
}

await main(process.argv);
