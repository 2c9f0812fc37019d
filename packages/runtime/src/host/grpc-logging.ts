/**
 * grpc-js's own logging under a service host: its trace lines (`GRPC_TRACE` with `GRPC_VERBOSITY=DEBUG`) print every
 * request's metadata, so API keys and bearer tokens would reach the logs. A host refuses tracing unless it is
 * explicitly allowed, and then masks credential values in every line.
 */

/** The variable a built service reads to allow grpc-js tracing (`1`), as `grpcforge serve --allow-grpc-trace` does. */
export const ALLOW_GRPC_TRACE_ENV = 'GRPCFORGE_ALLOW_GRPC_TRACE';

/**
 * The variable that turns grpc-js tracing on so that it prints (`GRPC_TRACE=all` or `GRPC_NODE_TRACE=…`, with
 * `GRPC_VERBOSITY` or `GRPC_NODE_VERBOSITY` DEBUG: grpc-js traces at DEBUG), as `NAME=value`; `undefined` when
 * nothing is traced. grpc-js reads them once, when it loads.
 */
export function grpcTracing(env: NodeJS.ProcessEnv): string | undefined {
  const traceName = env.GRPC_NODE_TRACE !== undefined ? 'GRPC_NODE_TRACE' : 'GRPC_TRACE';
  const trace = env[traceName] ?? '';
  const verbosity = (env.GRPC_NODE_VERBOSITY ?? env.GRPC_VERBOSITY ?? '').toUpperCase();
  const enabled = trace.split(',').some((tracer) => tracer.length > 0 && !tracer.startsWith('-'));
  if (!enabled || verbosity !== 'DEBUG') return undefined;
  return `${traceName}=${trace}`;
}

/** Values of metadata that carry credentials, in grpc-js's trace lines (`"x-api-key":["…"]`), and bearer tokens. */
const CREDENTIAL_IN_TRACE =
  /("(?:authorization|proxy-authorization|x-api-key|cookie|set-cookie)"\s*:\s*\[?\s*)"(?:[^"\\]|\\.)*"/gi;
const BEARER_IN_TRACE = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/** A grpc-js log line with credential values masked. */
export function maskCredentials(line: string): string {
  return line.replace(CREDENTIAL_IN_TRACE, '$1"[masked]"').replace(BEARER_IN_TRACE, '$1 [masked]');
}

/**
 * Replaces grpc-js's logger: its lines go to `write` (stderr by default) prefixed `E`/`I`/`D`, with credential values
 * masked ({@link maskCredentials}), and its own line before a failed bind ("No address added out of total N
 * resolved") is dropped: the host reports the failure itself.
 */
export async function installGrpcLogger(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<void> {
  const { setLogger } = await import('@grpc/grpc-js');
  const log =
    (prefix: string) =>
    (message: unknown, ...rest: unknown[]) => {
      const line = [message, ...rest].map(String).join(' ');
      if (/^No address added out of total \d+ resolved$/.test(line)) return;
      write(`${prefix} ${maskCredentials(line)}`);
    };
  setLogger({ error: log('E'), info: log('I'), debug: log('D') });
}
