import { hostPort } from '../host-port.js';
import { context, type Histogram, type Meter } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { createServer, type Server } from 'node:http';
import type { ServerMiddleware } from 'nice-grpc';
import type { CallRecord } from '../logstore/call-record.js';
import { installClientTelemetry } from './client-hook.js';
import { createClientTelemetryMiddleware } from './client-middleware.js';
import {
  DURATION_BUCKETS_S,
  defenceMetricName,
  METRIC_RPC_CLIENT_CALL_DURATION,
  METRIC_RPC_SERVER_CALL_DURATION,
  OTHER,
  rpcAttributes,
  statusAttributes,
} from './conventions.js';
import { telemetryFeatures, type OtlpExportOptions, type TelemetryOptions } from './options.js';
import { importOptional } from '../optional-packages.js';
import type { TelemetryInstruments } from './propagation.js';
import { createServerTelemetryMiddleware } from './server-middleware.js';
import { DEFENCE_COUNTERS, DEFENCE_COUNTER_NAMES, type DefenceCountsJson } from '../vocabulary/defence-counters.js';

/** Instrumentation scope of everything grpcforge records. */
const SCOPE = 'grpcforge';

/** One server's telemetry: the SDK providers, its middleware and metric sink, and the flush at shutdown. */
export interface ServerTelemetry {
  /** The server middleware (spans), placed right inside the request logger. */
  readonly middleware: ServerMiddleware;
  /**
   * Records `rpc.server.call.duration` for a finished call, with the status its client saw (the server's call
   * accounting calls it for every call, unknown paths included). A call of a method the server does not serve counts
   * under `rpc.method` `_OTHER`, as the RPC semantic conventions require for a method the server does not recognise,
   * and `rpc.service` the store's bucket: the served service of its path, or `_unknown` (`UNKNOWN_BUCKET`), which the
   * accounting already put in the record's `service`. So the series are the rows of `grpcforge stats`
   * (`<service>/_unknown` is `rpc_service="<service>",rpc_method="_OTHER"`) and no client can grow the label set.
   */
  recordServerCall(call: CallRecord): void;
  /** `host:port` of the Prometheus endpoint, when one is served. */
  readonly prometheusAddress: string | undefined;
  /** Ends the spans export and sends the last metrics, waiting up to `timeoutMs`; closes the Prometheus endpoint. */
  shutdown(timeoutMs: number): Promise<void>;
}

/** The telemetry instances running in this process, latest last: calls made outside any server call use the latest. */
const running: TelemetryInstruments[] = [];
let contextManagerChecked = false;

/**
 * Starts the OpenTelemetry SDK for one server: a tracer provider exporting spans in batches and a meter provider
 * pushing metrics every `intervalMs`, both over OTLP by `otlp.protocol` (see {@link createOtlpExporters}), the
 * Prometheus endpoint, and the client middleware of the process's generated clients. Registers an AsyncLocalStorage context
 * manager unless the application registered one; registers no global tracer or meter provider (two servers in one
 * process keep their own `service.name`).
 * @param defenceCounts the server's defence counters, read at each collection: each one is exported as an observable
 *   counter (see {@link defenceMetricName}).
 * @throws Error when the Prometheus port cannot be bound.
 */
export async function startTelemetry(
  options: TelemetryOptions,
  defenceCounts?: () => DefenceCountsJson,
): Promise<ServerTelemetry> {
  if (!contextManagerChecked) {
    contextManagerChecked = true;
    const manager = new AsyncLocalStorageContextManager().enable();
    if (!context.setGlobalContextManager(manager)) manager.disable();
  }
  const resource = defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }));
  const tracesOn = options.traces ?? true;
  const metricsOn = options.metrics ?? true;
  const otlp = options.otlp;
  const exporters =
    otlp && (tracesOn || metricsOn)
      ? await importOptional(telemetryFeatures(options), () => createOtlpExporters(otlp))
      : undefined;
  const tracerProvider = tracesOn
    ? new BasicTracerProvider({
        resource,
        spanProcessors: exporters ? [new BatchSpanProcessor(exporters.traces())] : [],
      })
    : undefined;
  const readers: MetricReader[] = [];
  if (metricsOn && exporters) {
    const intervalMs = options.otlp?.intervalMs ?? 60_000;
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: exporters.metrics(),
        exportIntervalMillis: intervalMs,
        exportTimeoutMillis: Math.min(intervalMs, 30_000),
      }),
    );
  }
  let prometheus: { server: Server; address: string } | undefined;
  if (metricsOn && options.prometheus) {
    // Its own package, loaded only when scraping is on (an optional peer dependency, as the OTLP exporters are).
    const { PrometheusExporter } = await importOptional(
      telemetryFeatures(options),
      () => import('@opentelemetry/exporter-prometheus'),
    );
    const exporter = new PrometheusExporter({ preventServerStart: true });
    readers.push(exporter);
    prometheus = await servePrometheus(exporter, options.prometheus.host, options.prometheus.port);
  }
  const meterProvider = readers.length > 0 ? new MeterProvider({ resource, readers }) : undefined;
  const meter = meterProvider?.getMeter(SCOPE);
  const histogram = (name: string, description: string): Histogram | undefined =>
    meter?.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: DURATION_BUCKETS_S } });
  const serverDuration = histogram(METRIC_RPC_SERVER_CALL_DURATION, 'Duration of incoming gRPC calls.');
  const instruments: TelemetryInstruments = {
    tracer: tracerProvider?.getTracer(SCOPE),
    clientDuration: histogram(METRIC_RPC_CLIENT_CALL_DURATION, 'Duration of outgoing gRPC calls.'),
  };
  if (meter && defenceCounts) observeDefenceCounts(meter, defenceCounts);
  running.push(instruments);
  installClientTelemetry(createClientTelemetryMiddleware(() => running.at(-1)));
  return {
    middleware: createServerTelemetryMiddleware(instruments),
    recordServerCall(call) {
      if (!serverDuration) return;
      serverDuration.record(call.durationMs / 1000, {
        ...rpcAttributes(call.service, call.kind === 'unknown' ? OTHER : call.method),
        ...statusAttributes(call.statusCode),
      });
    },
    prometheusAddress: prometheus?.address,
    async shutdown(timeoutMs) {
      const index = running.indexOf(instruments);
      if (index >= 0) running.splice(index, 1);
      if (running.length === 0) installClientTelemetry(undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([tracerProvider?.shutdown(), meterProvider?.shutdown()]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (prometheus) await closeServer(prometheus.server);
    },
  };
}

/** The unit of each defence counter's metric (UCUM annotations: what one count is). */
const DEFENCE_UNITS: Record<keyof typeof DEFENCE_COUNTERS, string> = {
  connectionsRefused: '{connection}',
  handshakeTimeouts: '{connection}',
  headerTimeouts: '{connection}',
  tlsHandshakeFailures: '{handshake}',
  rapidResetGoaways: '{connection}',
  streamsReset: '{stream}',
  authThrottled: '{call}',
};

/**
 * Exports every defence counter as an observable counter, all read from one snapshot per collection (a batch
 * callback), so a scrape shows counts of the same instant.
 */
function observeDefenceCounts(meter: Meter, defenceCounts: () => DefenceCountsJson): void {
  const counters = DEFENCE_COUNTER_NAMES.map(
    (name) =>
      [
        name,
        meter.createObservableCounter(defenceMetricName(name), {
          description: `${DEFENCE_COUNTERS[name][0]?.toUpperCase() ?? ''}${DEFENCE_COUNTERS[name].slice(1)}.`,
          unit: DEFENCE_UNITS[name],
        }),
      ] as const,
  );
  meter.addBatchObservableCallback(
    (result) => {
      const counts = defenceCounts();
      for (const [name, counter] of counters) result.observe(counter, counts[name]);
    },
    counters.map(([, counter]) => counter),
  );
}

/** Makers of the OTLP span and metric exporters of one protocol. */
interface OtlpExporters {
  traces(): SpanExporter;
  metrics(): PushMetricExporter;
}

/**
 * The OTLP exporters of `otlp.protocol`, importing only that protocol's packages: over HTTP (`http/json`, the default,
 * or `http/protobuf`) they post to `<endpoint>/v1/traces` and `<endpoint>/v1/metrics` with `headers`; over `grpc` they
 * call `TraceService/Export` and `MetricsService/Export` at the endpoint's host and port (plaintext for `http://`, TLS
 * for `https://`), with `headers` as metadata.
 */
async function createOtlpExporters(otlp: OtlpExportOptions): Promise<OtlpExporters> {
  const headers = { ...otlp.headers };
  const base = otlp.endpoint.replace(/\/+$/, '');
  switch (otlp.protocol ?? 'http/json') {
    case 'grpc': {
      // Checked here, not only in grpcforge.yaml's schema: the protocol may come from OTEL_EXPORTER_OTLP_PROTOCOL.
      if (new URL(otlp.endpoint).pathname.replace(/\/+$/, '') !== '')
        throw new Error(`OTLP over grpc: the endpoint ${otlp.endpoint} has a path; give only the scheme, host and port`);
      const binary = Object.keys(headers).find((name) => name.toLowerCase().endsWith('-bin'));
      if (binary !== undefined)
        throw new Error(`OTLP over grpc: header "${binary}" ends in -bin, which gRPC keeps for binary metadata: rename it`);
      const [{ Metadata }, { OTLPTraceExporter }, { OTLPMetricExporter }] = await Promise.all([
        import('@grpc/grpc-js'),
        import('@opentelemetry/exporter-trace-otlp-grpc'),
        import('@opentelemetry/exporter-metrics-otlp-grpc'),
      ]);
      const metadata = () => {
        const result = new Metadata();
        for (const [name, value] of Object.entries(headers)) result.set(name.toLowerCase(), value);
        return result;
      };
      return {
        traces: () => new OTLPTraceExporter({ url: base, metadata: metadata() }),
        metrics: () => new OTLPMetricExporter({ url: base, metadata: metadata() }),
      };
    }
    case 'http/protobuf': {
      const [{ OTLPTraceExporter }, { OTLPMetricExporter }] = await Promise.all([
        import('@opentelemetry/exporter-trace-otlp-proto'),
        import('@opentelemetry/exporter-metrics-otlp-proto'),
      ]);
      return {
        traces: () => new OTLPTraceExporter({ url: `${base}/v1/traces`, headers }),
        metrics: () => new OTLPMetricExporter({ url: `${base}/v1/metrics`, headers }),
      };
    }
    case 'http/json': {
      const [{ OTLPTraceExporter }, { OTLPMetricExporter }] = await Promise.all([
        import('@opentelemetry/exporter-trace-otlp-http'),
        import('@opentelemetry/exporter-metrics-otlp-http'),
      ]);
      return {
        traces: () => new OTLPTraceExporter({ url: `${base}/v1/traces`, headers }),
        metrics: () => new OTLPMetricExporter({ url: `${base}/v1/metrics`, headers }),
      };
    }
  }
}

/** Serves `GET /metrics` (Prometheus text format) on its own port; 404 for other paths. */
async function servePrometheus(
  exporter: PrometheusExporter,
  host: string,
  port: number,
): Promise<{ server: Server; address: string }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === '/metrics' && (request.method === 'GET' || request.method === 'HEAD')) {
      exporter.getMetricsRequestHandler(request, response);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at GET /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  return { server, address: hostPort(host, boundPort) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
