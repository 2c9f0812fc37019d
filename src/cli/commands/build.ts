import type { Command } from 'commander';
import type { BuildFlags } from './run-build.js';

/** `grpcforge build [service…]`: type-checks and compiles services into `<service dir>/dist/`. */
export function registerBuild(program: Command): void {
  program
    .command('build')
    .argument('[service...]', 'services of grpcforge.yaml to build (default: every service that serves something)')
    .description('type-check and compile services to JavaScript in <service dir>/dist/, with their configuration and a main.js')
    .option('--json', 'print the result as JSON on stdout (version 1: per service, files written, bytes, duration in ms)')
    .addHelpText(
      'after',
      `
For each service, build type-checks and compiles src/ (handlers, generated code, context, middleware) with the
TypeScript compiler (module NodeNext, target ES2022, source maps; the strictness of the workspace's tsconfig.json,
strict by default) and replaces <service dir>/dist/ with:
  dist/**/*.js, *.js.map          the compiled src/, same layout (dist/gen/server/index.js, dist/handlers/...)
  dist/grpcforge.service.json     the service's configuration from grpcforge.yaml; \${VAR} references stay references
  dist/main.js                    the entry: node <service dir>/dist/main.js runs the service from any folder
The built service needs only the runtime package at run time: no tsx, no grpcforge CLI. At start it reads
GRPCFORGE_LISTEN=host:port (listen address), GRPCFORGE_LOG_STORE_URL and the \${VAR}s of its configuration.
Run \`grpcforge generate\` first; build warns when the generated code is older than the contracts or grpcforge.yaml.
A service with type errors gets no dist/ (a previous one is removed): the errors are listed as path:line:col.

Exit codes: 0 built, 2 error (type errors, code not generated, unknown service, bad config).

Examples:
  $ grpcforge build                  # every service that serves something
  $ grpcforge build auth
  $ node services/auth/dist/main.js
  $ GRPCFORGE_LISTEN=0.0.0.0:50051 node services/auth/dist/main.js   # in a container
  $ grpcforge build --json | jq '.services[] | {service, bytes}'`,
    )
    .action(async (names: string[], flags: BuildFlags, command: Command) => {
      const { runBuild } = await import('./run-build.js');
      await runBuild(names, flags, command);
    });
}
