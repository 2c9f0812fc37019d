import { hostPort } from '../host-port.js';
import { context, type Histogram } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { createServer, type Server } from 'node:http';
import type { ServerMiddleware } from 'nice-grpc';
import type { CallRecord } from '../logstore/call-record.js';
import { installClientTelemetry } from './client-hook.js';
import { createClientTelemetryMiddleware } from './client-middleware.js';
import {
  DURATION_BUCKETS_S,
  METRIC_RPC_CLIENT_CALL_DURATION,
  METRIC_RPC_SERVER_CALL_DURATION,
  OTHER,
  rpcAttributes,
  statusAttributes,
} from './conventions.js';
import type { TelemetryOptions } from './options.js';
import type { TelemetryInstruments } from './propagation.js';
import { createServerTelemetryMiddleware } from './server-middleware.js';

/** Instrumentation scope of everything grpcforge records. */
const SCOPE = 'grpcforge';

/** One server's telemetry: the SDK providers, its middleware and metric sink, and the flush at shutdown. */
export interface ServerTelemetry {
  /** The server middleware (spans), placed right inside the request logger. */
  readonly middleware: ServerMiddleware;
  /**
   * Records `rpc.server.call.duration` for a finished call, with the status its client saw (the server's call
   * accounting calls it for every call, unknown paths included). A call of a method the server does not serve counts
   * under `rpc.method` `_OTHER` (and `rpc.service` `_OTHER` unless the service is served), so no client can grow the
   * label set.
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
 * Starts the OpenTelemetry SDK for one server: a tracer provider exporting to `<endpoint>/v1/traces` in batches, a
 * meter provider pushing to `<endpoint>/v1/metrics` every `intervalMs` (OTLP/HTTP, JSON encoding), the Prometheus
 * endpoint, and the client middleware of the process's generated clients. Registers an AsyncLocalStorage context
 * manager unless the application registered one; registers no global tracer or meter provider (two servers in one
 * process keep their own `service.name`).
 * @param servedServices fully-qualified names of the services the server serves (for the `_OTHER` collapsing).
 * @throws Error when the Prometheus port cannot be bound.
 */
export async function startTelemetry(options: TelemetryOptions, servedServices: readonly string[]): Promise<ServerTelemetry> {
  if (!contextManagerChecked) {
    contextManagerChecked = true;
    const manager = new AsyncLocalStorageContextManager().enable();
    if (!context.setGlobalContextManager(manager)) manager.disable();
  }
  const resource = defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }));
  const headers = { ...options.otlp?.headers };
  const tracerProvider =
    (options.traces ?? true)
      ? new BasicTracerProvider({
          resource,
          spanProcessors: options.otlp
            ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${trimSlash(options.otlp.endpoint)}/v1/traces`, headers }))]
            : [],
        })
      : undefined;
  const readers: MetricReader[] = [];
  const metricsOn = options.metrics ?? true;
  if (metricsOn && options.otlp) {
    const intervalMs = options.otlp.intervalMs ?? 60_000;
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${trimSlash(options.otlp.endpoint)}/v1/metrics`, headers }),
        exportIntervalMillis: intervalMs,
        exportTimeoutMillis: Math.min(intervalMs, 30_000),
      }),
    );
  }
  let prometheus: { server: Server; address: string } | undefined;
  if (metricsOn && options.prometheus) {
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
  running.push(instruments);
  installClientTelemetry(createClientTelemetryMiddleware(() => running.at(-1)));
  const served = new Set(servedServices);
  return {
    middleware: createServerTelemetryMiddleware(instruments),
    recordServerCall(call) {
      if (!serverDuration) return;
      const known = call.kind !== 'unknown';
      const service = known || served.has(call.service) ? call.service : OTHER;
      serverDuration.record(call.durationMs / 1000, {
        ...rpcAttributes(service, known ? call.method : OTHER),
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

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
