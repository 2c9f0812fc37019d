import type { Command } from 'commander';
import type { DevFlags } from './run-dev.js';

/** `grpcforge dev [service...]`: generate, serve, watch, regenerate and restart, in one terminal. */
export function registerDev(program: Command): void {
  program
    .command('dev')
    .argument('[service...]', 'services of grpcforge.yaml to serve (default: every service that serves something)')
    .description('the inner loop: generate, serve every service, watch contracts and handlers, regenerate and restart')
    .option('--debounce <ms>', 'quiet time after the last file change before rebuilding, in ms (default: 200)')
    .option('--no-type-check', 'do not run `tsc --noEmit` over a service after each restart')
    .addHelpText(
      'after',
      `
Runs \`grpcforge generate\`, then one \`grpcforge serve <service>\` child per service on its configured listen
address, every line prefixed with the service's name. It watches the contract root (proto/), grpcforge.yaml,
buf.gen.yaml, buf.yaml and each service's src/ (not src/gen/), also after an editor's write-and-rename save:
  contract or config change   buf lint + regenerate (errors inline as file:line:col; servers keep the last good
                              build), then restart the services whose generated code changed (grpcforge.yaml and
                              buf.gen.yaml: every service); new RPCs get their handler files
  change under services/x/src restart x
Before a server is stopped, its new build is loaded in a throwaway process: a syntax error or a failing import is
printed and the running server keeps answering. Type errors (tsx does not check types) come from a \`tsc --noEmit\`
of the service that runs beside the restart. A restart drains in-flight calls and flushes the log store (SIGTERM to
serve). A service that serves nothing (it only consumes) gets one line saying so, and no process. Ctrl-C or
SIGTERM stops every server the same way, then exits 0; under npm (npx grpcforge dev), so does the end of npx. Each
restart is a new instance in the log store: grpcforge status folds the earlier runs into the newest.

Examples:
  $ grpcforge dev
  $ grpcforge dev auth --debounce 500`,
    )
    .action(async (services: string[], flags: DevFlags, command: Command) => {
      const { runDev } = await import('./run-dev.js');
      await runDev(services, flags, command);
    });
}
