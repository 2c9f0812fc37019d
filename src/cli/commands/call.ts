import type { Command } from 'commander';
import type { CallFlags } from './run-call.js';

/** `grpcforge call ADDRESS SERVICE/METHOD`: dynamic calls through server reflection. */
export function registerCall(program: Command): void {
  program
    .command('call')
    .argument('<address>', 'HOST:PORT of the server')
    .argument('[method]', 'fully-qualified method: pkg.Service/Method')
    .description('call any RPC of a server through reflection (or the workspace contracts), JSON in and out')
    .option(
      '-d, --data <json>',
      'request as JSON, @file, or - for stdin; streams take JSON values one after another or an array, and from stdin send each as it is read (default: {})',
    )
    .option(
      '-H, --header <key:value|@file>',
      'metadata, repeatable; @file reads "name: value" lines from a file (# comments); ${VAR} in a value is read from the environment',
      (value: string, all: string[] | undefined) => [...(all ?? []), value],
    )
    .option('--tls', 'dial with TLS (the system roots unless --ca)')
    .option('--ca <file>', 'CA certificate (PEM) of the server; implies --tls')
    .option('--cert <file>', 'client certificate (PEM) for mTLS; implies --tls')
    .option('--key <file>', 'client key (PEM) for mTLS')
    .option('--servername <name>', 'TLS server name: sent as SNI and checked against the certificate; implies --tls')
    .option('--list', 'list the services and methods the server exposes')
    .option(
      '--json',
      'machine output: one JSON document {version, status, details?, responses} (or {version, services} with --list)',
    )
    .option('--print-curl', 'also print the equivalent buf curl command (on stderr)')
    .option('--deadline <ms>', 'deadline of the call, in ms')
    .addHelpText(
      'after',
      `
Responses print as proto JSON, one message each; 64-bit integers keep their exact value (numbers beyond 2^53
are read as their digits). An error prints its status code name and message; TLS and connection failures are
explained in one line ("the server requires a client certificate: pass --cert and --key"). The error's details
(google.rpc.Status in grpc-status-details-bin) follow, one line each: "bad request: username: value length must be
at least 3 characters [string.min_len]", "error info: INVALID_CREDENTIALS (auth.v1) username=bob", "retry info:
retry after 1500 ms"; --json has them as "details" (BadRequest as badRequest.fieldViolations, ErrorInfo as errorInfo).

Exit codes: 0 OK; 64 + the gRPC status code when the call fails (69 NOT_FOUND, 78 UNAVAILABLE, 80
UNAUTHENTICATED: grpcurl's convention); 2 for usage errors (bad flag, bad JSON, unknown method).
Without reflection on the server, the contracts of the grpcforge workspace in the current folder are used.
Credentials stay out of the command line (and of ps): -H @file reads headers from a file, one "name: value" a
line, blank lines and # comments skipped (buf curl's -H @file); \${VAR} or \${VAR:-default} in a header value,
on the command line in single quotes or in the file, is read from the environment by grpcforge.
The method is exactly pkg.Service/Method; a short, dotted or misspelt name is an error (exit 2) that says which
method was probably meant. A grpcforge server also lists and describes grpc.health.v1.Health and reflection.

Examples:
  $ grpcforge call 127.0.0.1:50051 --list
  $ grpcforge call 127.0.0.1:50051 grpc.health.v1.Health/Check -d '{"service":"auth.v1.AuthService"}'
  $ grpcforge call 127.0.0.1:50051 auth.v1.AuthService/Login -d '{"username":"ada","password":"demo"}'
  $ grpcforge call 10.0.0.7:443 auth.v1.AuthService/Login --ca certs/ca.pem --servername auth.internal -d @login.json --json
  $ grpcforge call 127.0.0.1:50052 user.v1.UserService/GetUser -H 'authorization: Bearer \${TOKEN}' -d '{"id":"u1"}'
  $ grpcforge call 127.0.0.1:50052 user.v1.UserService/GetUser -H @headers.txt -d '{"id":"u1"}'
  $ printf '{"id":"u1"}\\n{"id":"u2"}\\n' | grpcforge call 127.0.0.1:50052 user.v1.UserService/SyncUsers -d - -H ...`,
    )
    .action(async (address: string, target: string | undefined, flags: CallFlags, command: Command) => {
      const { runCall } = await import('./run-call.js');
      await runCall(address, target, flags, command);
    });
}
