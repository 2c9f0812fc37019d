import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { ClientError, Metadata, Status, type ClientMiddleware } from 'nice-grpc-common';
import { rpcAttributes, splitPath, statusAttributes, statusName } from './conventions.js';
import { instrumentsOf, metadataSetter, propagator, type TelemetryInstruments } from './propagation.js';
import { bindGenerator } from './server-middleware.js';

const OK: number = Status.OK;

/**
 * The client telemetry of a process (installed into every generated client through `clientTelemetryMiddleware`):
 * a CLIENT span per call named `{rpc.method}`, child of the active span (the server call whose handler makes it), the
 * W3C `traceparent`/`tracestate` in the call's metadata, and `rpc.client.call.duration` in seconds. It spans the
 * whole call, retries and deadline included, and ends with the status the caller got.
 * @param fallback the instruments used for calls made outside any server call (a handler's call uses its server's).
 */
export function createClientTelemetryMiddleware(fallback: () => TelemetryInstruments | undefined): ClientMiddleware {
  return async function* clientTelemetry(call, options) {
    const active = context.active();
    const instruments = instrumentsOf(active) ?? fallback();
    if (!instruments) return yield* call.next(call.request, options);
    const { service, method } = splitPath(call.method.path);
    const attributes = rpcAttributes(service, method);
    const span = instruments.tracer?.startSpan(`${service}/${method}`, { kind: SpanKind.CLIENT, attributes }, active);
    const ctx = span ? trace.setSpan(active, span) : active;
    const metadata = Metadata(options.metadata);
    propagator.inject(ctx, metadata, metadataSetter);
    const start = performance.now();
    let code = OK;
    let message: string | undefined;
    try {
      return yield* bindGenerator(ctx, call.next(call.request, { ...options, metadata }));
    } catch (error) {
      if (error instanceof ClientError) {
        code = error.code;
        message = error.details;
      } else {
        code = error instanceof Error && error.name === 'AbortError' ? Status.CANCELLED : Status.UNKNOWN;
        message = error instanceof Error ? error.message : String(error);
      }
      throw error;
    } finally {
      const status = statusAttributes(code);
      instruments.clientDuration?.record((performance.now() - start) / 1000, { ...attributes, ...status });
      if (span) {
        span.setAttributes(status);
        if (code !== OK) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: message ? `${statusName(code)}: ${message}` : statusName(code) });
        }
        span.end();
      }
    }
  };
}
