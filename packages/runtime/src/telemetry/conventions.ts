import { Status } from 'nice-grpc-common';

/**
 * Names and values of the OpenTelemetry RPC semantic conventions (https://opentelemetry.io/docs/specs/semconv/rpc/,
 * as in `@opentelemetry/semantic-conventions` 1.45: `rpc.system.name`, `rpc.method` fully qualified, `rpc.status_code`
 * as the status name, durations in seconds), with the older gRPC attributes (`rpc.system`, `rpc.service`,
 * `rpc.grpc.status_code`) set alongside, so dashboards built on the previous conventions keep working. Both sets are
 * functions of the method and status, so they add no cardinality.
 */

/** `rpc.server.call.duration`: histogram of server call durations, unit `s` (it was `rpc.server.duration` in ms). */
export const METRIC_RPC_SERVER_CALL_DURATION = 'rpc.server.call.duration';
/** `rpc.client.call.duration`: histogram of client call durations, unit `s`. */
export const METRIC_RPC_CLIENT_CALL_DURATION = 'rpc.client.call.duration';

/**
 * The name of a defence counter's metric, an observable (monotonic) counter of grpcforge's own, outside the semantic
 * conventions: `grpcforge.server.defence.<name in snake_case>` (`connectionsRefused` →
 * `grpcforge.server.defence.connections_refused`, scraped as `grpcforge_server_defence_connections_refused_total`).
 */
export function defenceMetricName(name: string): string {
  return `grpcforge.server.defence.${name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}`;
}

/**
 * Bucket boundaries of both duration histograms, in seconds: the ones the conventions recommend for
 * `rpc.server.call.duration` (5 ms to 10 s).
 */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * Value of `rpc.method` for a method the server does not serve: the conventions require it ("When the method is not
 * recognized [...] the attribute MUST be set to `_OTHER`",
 * https://opentelemetry.io/docs/specs/semconv/registry/attributes/rpc/). `rpc.service` then carries the log store's
 * bucket (`<service>` or `_unknown`), so the series match `grpcforge stats`' `<service>/_unknown` rows.
 */
export const OTHER = '_OTHER';

const STATUS_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(Status)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, code]) => [code, name]),
);

/** The name of a gRPC status code (`NOT_FOUND` for 5), as `rpc.status_code` and `error.type` carry it. */
export function statusName(code: number): string {
  return STATUS_NAMES.get(code) ?? String(code);
}

/** Attributes of one call: the method, and once it ended, its status. */
export type RpcAttributes = Record<string, string | number>;

/**
 * The attributes of a call of `service`/`method` (fully-qualified service name, or the `_unknown` bucket; RPC name as
 * in the contract, or {@link OTHER} for a method not served), for spans and metrics.
 */
export function rpcAttributes(service: string, method: string): RpcAttributes {
  return {
    'rpc.system.name': 'grpc',
    'rpc.method': method === OTHER ? OTHER : `${service}/${method}`,
    'rpc.system': 'grpc',
    'rpc.service': service,
  };
}

/** The status attributes: `rpc.status_code` (name), `rpc.grpc.status_code` (number) and, unless OK, `error.type`. */
export function statusAttributes(code: number): RpcAttributes {
  const name = statusName(code);
  return code === (Status.OK as number)
    ? { 'rpc.status_code': name, 'rpc.grpc.status_code': code }
    : { 'rpc.status_code': name, 'rpc.grpc.status_code': code, 'error.type': name };
}

/**
 * Codes that mark a server span as an error (the gRPC conventions: the server's own failures). The others (NOT_FOUND,
 * PERMISSION_DENIED, ...) are the caller's problem and leave the server span's status unset; a client span is an
 * error for every code but OK.
 */
export const SERVER_ERROR_CODES: ReadonlySet<number> = new Set([
  Status.UNKNOWN,
  Status.DEADLINE_EXCEEDED,
  Status.UNIMPLEMENTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

/** Service and method of a path `/pkg.Service/Method`; empty strings for the parts it lacks. */
export function splitPath(path: string): { service: string; method: string } {
  const [service = '', method = ''] = path.replace(/^\//, '').split('/');
  return { service, method };
}
