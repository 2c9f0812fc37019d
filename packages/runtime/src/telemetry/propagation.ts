import {
  createContextKey,
  type Context,
  type Histogram,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Metadata } from 'nice-grpc-common';

/** The W3C Trace Context propagator (`traceparent`, `tracestate`): the one format grpcforge sends and reads. */
export const propagator = new W3CTraceContextPropagator();

/** Reads propagation fields from nice-grpc request metadata (keys are lower-case there). */
export const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => [...metadata].map(([key]) => key),
  get: (metadata, key) => metadata.get(key) as string | undefined,
};

/** Writes propagation fields into nice-grpc call metadata. */
export const metadataSetter: TextMapSetter<Metadata> = {
  set: (metadata, key, value) => {
    metadata.set(key, value);
  },
};

/** What one server's telemetry gives the middleware: its tracer and client histogram (either may be off). */
export interface TelemetryInstruments {
  readonly tracer: Tracer | undefined;
  readonly clientDuration: Histogram | undefined;
}

/**
 * Context key of the {@link TelemetryInstruments} of the server whose call is running: a client call made inside a
 * handler is recorded by the telemetry of that server (its `service.name`), even with several servers in a process.
 */
export const INSTRUMENTS_KEY = createContextKey('grpcforge telemetry instruments');

/** The instruments of the server call `ctx` belongs to, if any. */
export function instrumentsOf(ctx: Context): TelemetryInstruments | undefined {
  return ctx.getValue(INSTRUMENTS_KEY) as TelemetryInstruments | undefined;
}
