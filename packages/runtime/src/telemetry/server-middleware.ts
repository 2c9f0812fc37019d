import { context, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { ServerError, Status, type ServerMiddleware } from 'nice-grpc';
import { rpcAttributes, SERVER_ERROR_CODES, splitPath, statusAttributes, statusName } from './conventions.js';
import { INSTRUMENTS_KEY, metadataGetter, propagator, type TelemetryInstruments } from './propagation.js';
import { setTraceIdOfCall } from './trace-id.js';

const OK: number = Status.OK;

/**
 * Server middleware of a server with telemetry, right inside the request logger (outside auth): a SERVER span per
 * call named `{rpc.method}` (`auth.v1.AuthService/Login`), child of the caller's span when the request carries a W3C
 * `traceparent`. The span covers auth, error mapping and the handler, so a refused call is a span too, and its status
 * is the one the pipeline answered with (error mapping is inside). The handler runs in the span's context, so the
 * calls it makes through generated clients become child spans and carry the trace on.
 */
export function createServerTelemetryMiddleware(instruments: TelemetryInstruments): ServerMiddleware {
  const tracer = instruments.tracer;
  return async function* serverTelemetry(call, callContext) {
    const parent = propagator
      .extract(context.active(), callContext.metadata, metadataGetter)
      .setValue(INSTRUMENTS_KEY, instruments);
    if (!tracer) return yield* bindGenerator(parent, call.next(call.request, callContext));
    const { service, method } = splitPath(call.method.path);
    const span = tracer.startSpan(
      `${service}/${method}`,
      { kind: SpanKind.SERVER, attributes: rpcAttributes(service, method) },
      parent,
    );
    setTraceIdOfCall(callContext.signal, span.spanContext().traceId);
    let code = OK;
    let message: string | undefined;
    try {
      return yield* bindGenerator(trace.setSpan(parent, span), call.next(call.request, callContext));
    } catch (error) {
      if (error instanceof ServerError) {
        code = error.code;
        message = error.details;
      } else {
        code = callContext.signal.aborted ? Status.CANCELLED : Status.UNKNOWN;
        message = error instanceof Error ? error.message : String(error);
      }
      throw error;
    } finally {
      if (code === OK && callContext.signal.aborted) code = Status.CANCELLED;
      span.setAttributes(statusAttributes(code));
      if (SERVER_ERROR_CODES.has(code)) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: message ? `${statusName(code)}: ${message}` : statusName(code) });
      }
      span.end();
    }
  };
}

/**
 * An async generator whose every step (`next`, `return`, `throw`) runs in `ctx`: what the inner stages and the
 * handler do, up to and across their awaits, sees `ctx` as the active context.
 */
export function bindGenerator<Generator extends AsyncGenerator<unknown, unknown, never>>(
  ctx: Context,
  generator: Generator,
): Generator {
  const inner = generator as unknown as AsyncGenerator<unknown, unknown, unknown>;
  const bound = {
    next: (value?: unknown) => context.with(ctx, () => inner.next(value)),
    return: (value: unknown) => context.with(ctx, () => inner.return(value)),
    throw: (error: unknown) => context.with(ctx, () => inner.throw(error)),
    [Symbol.asyncIterator]() {
      return bound;
    },
  };
  return bound as unknown as Generator;
}
