import { Command, CommanderError } from 'commander';
import { GrpcforgeError, InternalError, UserError } from '../util/errors.js';
import { grpcforgeIssuesUrl, grpcforgeVersion, installedVersion } from '../util/version.js';
import { formatInternalError } from './output/internal-error.js';
import { err, errLabelled, styleErr } from './output/print.js';

/** Exit codes (PRODUCT.md): 0 success, 1 findings (for example `generate --check` drift), 2 error. */
const EXIT_ERROR = 2;

// Every command module registers its name, arguments, flags and help, and imports nothing heavy: each action loads
// its implementation (config, contracts, codegen, the store, nice-grpc) with import() when it runs. So `--help` and
// `--version` cost little more than starting Node (bench/cli-startup.ts; test/e2e/cli-startup.test.ts checks it).

type Register = (program: Command) => void;

/** Every command's registration, in the order `--help` lists them, each loaded from its own module. */
const COMMANDS: readonly (readonly [name: string, load: () => Promise<Register>])[] = [
  ['init', async () => (await import('./commands/init.js')).registerInit],
  ['generate', async () => (await import('./commands/generate.js')).registerGenerate],
  ['serve', async () => (await import('./commands/serve.js')).registerServe],
  ['dev', async () => (await import('./commands/dev.js')).registerDev],
  ['lint', async () => (await import('./commands/lint.js')).registerLint],
  ['build', async () => (await import('./commands/build.js')).registerBuild],
  ['certs', async () => (await import('./commands/certs.js')).registerCerts],
  ['call', async () => (await import('./commands/call.js')).registerCall],
  ['keys', async () => (await import('./commands/store-commands.js')).registerKeys],
  ['logs', async () => (await import('./commands/store-commands.js')).registerLogs],
  ['stats', async () => (await import('./commands/store-commands.js')).registerStats],
  ['status', async () => (await import('./commands/store-commands.js')).registerStatus],
  ['dashboard', async () => (await import('./commands/dashboard.js')).registerDashboard],
  ['deploy', async () => (await import('./commands/deploy.js')).registerDeploy],
  ['completion', async () => (await import('./commands/completion.js')).registerCompletion],
];

/**
 * Commands whose run, when the command is named first (`grpcforge generate …`), needs no other command registered:
 * the others' modules are not loaded. `generate` is run after every change (a no-op answered from its cache costs
 * little more than starting Node); its help, flags and errors do not depend on the other commands.
 */
const STANDALONE = new Set(['generate']);

/**
 * Builds the commander program.
 * @param argv the process's arguments: when they name a standalone command first, only that one is registered.
 */
export async function createProgram(argv: readonly string[] = []): Promise<Command> {
  const first = argv[2];
  const wanted = first !== undefined && STANDALONE.has(first) ? COMMANDS.filter(([name]) => name === first) : COMMANDS;
  const registers = await Promise.all(wanted.map(([, load]) => load()));
  const program = new Command('grpcforge')
    .version(grpcforgeVersion(), '-V, --version')
    .description('From .proto contracts to running, typed gRPC services on Node.js (buf + ts-proto + nice-grpc).')
    .option('-c, --config <path>', 'grpcforge.yaml to use (default: found in the current folder or its parents)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(styleErr('red', text)) })
    .exitOverride();
  for (const register of registers) register(program);
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
    await (await createProgram(argv)).parseAsync([...argv]);
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
