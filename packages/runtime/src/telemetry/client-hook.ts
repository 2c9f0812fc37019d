import type { ClientMiddleware } from 'nice-grpc-common';

/**
 * The seam between generated clients and telemetry. Every client `createServiceClient` makes carries
 * {@link clientTelemetryMiddleware}, which passes calls through untouched until a server of this process starts
 * with telemetry and installs the real middleware here: clients are often created (in `createServiceContext`) before
 * the server starts, and a service without telemetry must not load OpenTelemetry.
 */
let installed: ClientMiddleware | undefined;

/** @internal Installs (or, with `undefined`, removes) the client telemetry middleware of this process. */
export function installClientTelemetry(middleware: ClientMiddleware | undefined): void {
  installed = middleware;
}

/**
 * Client middleware of every generated client: a client span and `rpc.client.call.duration` per call, and the W3C
 * trace context in the metadata, once telemetry is installed; a pass-through before that.
 */
export const clientTelemetryMiddleware: ClientMiddleware = async function* clientTelemetry(call, options) {
  const middleware = installed;
  if (!middleware) return yield* call.next(call.request, options);
  return yield* middleware(call, options);
};
