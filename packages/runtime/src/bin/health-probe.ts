#!/usr/bin/env node
/**
 * `grpcforge-health-probe [--service NAME] [--timeout-ms N] [--ca F --cert F --key F] HOST:PORT`: asks a server's
 * grpc.health.v1 Check and exits 0 when it answers SERVING, 1 otherwise (refused, unreachable, another status, a
 * deadline, or a usage error: Docker reserves exit 2 in health checks), with the reason on stderr. For container
 * health checks: `["node_modules/.bin/grpcforge-health-probe", "127.0.0.1:50051"]`.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ChannelCredentials, createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { createTlsChannelCredentials } from '../client/tls-credentials.js';

const USAGE = 'usage: grpcforge-health-probe [--service NAME] [--timeout-ms N] [--ca FILE [--cert FILE --key FILE]] HOST:PORT';
/** grpc.health.v1 HealthCheckResponse.ServingStatus names, by number. */
const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/**
 * Runs the probe with `args` (without node and the script).
 * @returns the exit code: 0 for SERVING, 1 otherwise.
 */
async function runHealthProbe(
  args: readonly string[],
  stderr = (line: string) => process.stderr.write(`${line}\n`),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        service: { type: 'string', default: '' },
        'timeout-ms': { type: 'string', default: '5000' },
        ca: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
      },
    });
  } catch (error) {
    stderr(`grpcforge-health-probe: ${(error as Error).message}`);
    stderr(USAGE);
    return 1;
  }
  const { values, positionals } = parsed;
  const timeoutMs = Number(values['timeout-ms']);
  if (positionals.length !== 1 || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    stderr(USAGE);
    return 1;
  }
  if (!values.cert !== !values.key) {
    stderr('grpcforge-health-probe: give both --cert and --key for mTLS, or neither');
    return 1;
  }
  const address = positionals[0]!;
  const service = values.service;
  let credentials: ChannelCredentials;
  try {
    const read = (path: string | undefined) => (path === undefined ? null : readFileSync(path));
    credentials =
      values.ca || values.cert
        ? createTlsChannelCredentials(read(values.ca), read(values.key), read(values.cert))
        : ChannelCredentials.createInsecure();
  } catch (error) {
    stderr(`grpcforge-health-probe: ${(error as Error).message}`);
    return 1;
  }
  const channel = createChannel(address, credentials);
  const client = createClient(HealthDefinition, channel);
  const what = `${address}${service ? ` ${service}` : ''}`;
  try {
    const { status } = await client.check({ service }, { signal: AbortSignal.timeout(timeoutMs) });
    const name = STATUS_NAMES[status] ?? String(status);
    if (name === 'SERVING') return 0;
    stderr(`grpcforge-health-probe: ${what}: ${name}`);
    return 1;
  } catch (error) {
    const aborted = ['AbortError', 'TimeoutError'].includes((error as Error).name);
    stderr(`grpcforge-health-probe: ${what}: ${aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message}`);
    return 1;
  } finally {
    channel.close();
  }
}

process.exitCode = await runHealthProbe(process.argv.slice(2));
