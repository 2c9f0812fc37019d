import type { MethodOfPath } from '../middleware/request-logger.js';
import { STORED_TEXT_MAX_BYTES, UNKNOWN_BUCKET, truncateUtf8 } from '../vocabulary/stored-calls.js';

/** The bucket of a call to a path the server does not serve, and the path as the client sent it (truncated). */
export interface UnknownMethodOfPath extends MethodOfPath {
  readonly kind: 'unknown';
  /** `:path`, cut to {@link STORED_TEXT_MAX_BYTES}`.rawPath` bytes of UTF-8 at a character boundary. */
  readonly rawPath: string;
}

/** The service part of a well-formed path `/<service>/…`; undefined without a leading slash or a second one. */
const SERVICE_PART = /^\/([^/]+)\//;

/** Per set of served paths: its size when last read (paths are only added) and the services in it. */
const servicesOfSets = new WeakMap<ReadonlySet<string>, { size: number; services: ReadonlySet<string> }>();

/** The services of a set of served paths `/<service>/<method>`, computed again only once the set grew. */
function servicesOf(served: ReadonlySet<string>): ReadonlySet<string> {
  const cached = servicesOfSets.get(served);
  if (cached?.size === served.size) return cached.services;
  const services = new Set<string>();
  for (const path of served) {
    const service = SERVICE_PART.exec(path)?.[1];
    if (service !== undefined) services.add(service);
  }
  servicesOfSets.set(served, { size: served.size, services });
  return services;
}

/**
 * Where a call to a path the server does not serve is recorded: `<service>/_unknown` when the path's service part
 * (between its first two slashes) is a service the server serves, `_unknown/_unknown` for any other path (an unknown
 * service, no leading slash, an empty service part). Never a served method's name: `/pkg.Svc/Echo/zzz` is
 * `pkg.Svc/_unknown`, not `Echo`. So however many distinct paths clients send, the store holds at most one row key
 * per served service, plus one (see {@link UNKNOWN_BUCKET}).
 * @param path - the request's `:path`, any text.
 * @param served - every path the server serves, `/<service>/<method>` (it may still grow until the server listens).
 */
export function unknownMethodOf(path: string, served: ReadonlySet<string>): UnknownMethodOfPath {
  const service = SERVICE_PART.exec(path)?.[1];
  return {
    service: service !== undefined && servicesOf(served).has(service) ? service : UNKNOWN_BUCKET,
    method: UNKNOWN_BUCKET,
    kind: 'unknown',
    rawPath: truncateUtf8(path, STORED_TEXT_MAX_BYTES.rawPath),
  };
}
