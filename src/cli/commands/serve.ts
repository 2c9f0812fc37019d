import type { Command } from 'commander';
import type { ServeFlags } from './run-serve.js';

/** `grpcforge serve <service>`: runs a service's handlers on nice-grpc with health and reflection. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .argument('<service>', 'name of the service in grpcforge.yaml')
    .description('run a service: its handlers on nice-grpc, with gRPC health, server reflection and graceful shutdown')
    .option('--host <host>', 'interface to bind (default: the host of services.<name>.listen)')
    .option('-p, --port <port>', 'port to bind; 0 takes a free one (default: the port of services.<name>.listen)')
    .option(
      '--shutdown-timeout <ms>',
      'drain time for in-flight calls on SIGTERM/SIGINT, in ms (default: server.shutdownTimeoutMs)',
    )
    .option('--no-log-store', 'do not record calls (API keys are then not accepted either)')
    .option(
      '--stub',
      'serve a fake from the contract instead of the handlers: <service> is a workspace service or a consumed fully-qualified service',
    )
    .option('--scenario <file>', 'with --stub: YAML or JSON rules per RPC (match, respond, stream, error, delayMs, sequence)')
    .option(
      '--allow-grpc-trace',
      'run although GRPC_TRACE with GRPC_VERBOSITY=DEBUG is set (grpc-js prints metadata; credential values are masked)',
    )
    .addHelpText(
      'after',
      `
The pipeline, outermost first: request logger -> auth -> error mapping -> handler. Auth follows grpcforge.yaml's
auth section (default: authenticated; health and reflection are public); every call is recorded in the log store
(logStore.url), which also holds API keys and this server instance's heartbeat.
Handlers are found by convention in src/handlers/<service>/<rpc>.ts (TypeScript is loaded with tsx); run
\`grpcforge generate\` first. The bound address is printed as "listening on HOST:PORT".
A handler error that is not a ServerError reaches the client as INTERNAL with a generic message; the error and the
method path go to stderr. SIGTERM or SIGINT stops accepting calls, ends response streams with UNAVAILABLE, drains
the other in-flight calls (server.shutdownTimeoutMs), then cancels the rest; so does the exit of the process that
started it (npx). Limits of every connection and call (message sizes, an 8 KiB metadata budget answered
RESOURCE_EXHAUSTED, 1000 concurrent calls per connection, idle and age timeouts, keepalive enforcement) are in
server.limits. GRPC_TRACE with GRPC_VERBOSITY=DEBUG makes grpc-js print every request's metadata, so serve refuses
it unless --allow-grpc-trace is given (the values of authorization, x-api-key and cookies are then masked).

Stubs (for consumers' integration tests and front-end work before a service exists):
  $ grpcforge serve auth.v1.AuthService --stub --scenario scenarios/auth.yaml --port 6000
  scenario file:  service: auth.v1.AuthService
                  methods:
                    ValidateToken:
                      - match: { token: good }
                        respond: { valid: true, subject: ada }
                      - sequence: [{ error: { code: UNAVAILABLE } }, { respond: { valid: false } }]
Unmatched calls and RPCs without rules answer UNIMPLEMENTED.

Examples:
  $ grpcforge serve auth
  $ grpcforge serve user --port 0
  $ AUTH_ADDR=127.0.0.1:6000 grpcforge serve user`,
    )
    .action(async (name: string, flags: ServeFlags, command: Command) => {
      const { runServe } = await import('./run-serve.js');
      await runServe(name, flags, command);
    });
}
