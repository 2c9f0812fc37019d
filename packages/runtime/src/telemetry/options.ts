import type { OptionalFeature } from '../optional-packages.js';
import type { OtlpProtocol } from '../vocabulary/otlp.js';

/**
 * Options of a server's OpenTelemetry export ({@link ServerBaseOptions.telemetry}). Plain data: `grpcforge serve`
 * maps the `telemetry:` section of `grpcforge.yaml` onto it (`buildTelemetryOptions`), tests build it by hand.
 * Importing this module loads nothing: the OpenTelemetry SDK is imported only when a server starts with telemetry, and
 * only the exporters of the chosen OTLP protocol.
 */
export interface TelemetryOptions {
  /** `service.name` of the exported resource, for example `auth`. */
  readonly serviceName: string;
  /** OTLP export (over HTTP or gRPC); without it nothing is pushed (Prometheus may still be scraped). */
  readonly otlp?: OtlpExportOptions;
  /** Export a server span per call and a client span per outgoing call of generated clients. @defaultValue true */
  readonly traces?: boolean;
  /** Record `rpc.server.call.duration` and `rpc.client.call.duration`. @defaultValue true */
  readonly metrics?: boolean;
  /** Serve the metrics in the Prometheus text format on their own port (needs `metrics`). */
  readonly prometheus?: PrometheusOptions;
}

/**
 * The OTLP transport, named as `OTEL_EXPORTER_OTLP_PROTOCOL` names it: `http/json` (OTLP/HTTP, JSON encoding),
 * `http/protobuf` (OTLP/HTTP, binary protobuf) or `grpc` (the OTLP gRPC services `TraceService/Export` and
 * `MetricsService/Export`, for a collector that listens on gRPC only, such as one built with grpcforge).
 */
export type { OtlpProtocol };

/** Where, how and how often OTLP data is sent. */
export interface OtlpExportOptions {
  /**
   * Base URL of the collector's OTLP receiver. Over HTTP, for example `http://127.0.0.1:4318`: traces go to
   * `<endpoint>/v1/traces`, metrics to `<endpoint>/v1/metrics` (the OTLP/HTTP default paths). Over gRPC, for example
   * `http://127.0.0.1:4317` (plaintext) or `https://collector:4317` (TLS with the system's CAs); a path is ignored.
   */
  readonly endpoint: string;
  /** The transport. @defaultValue `'http/json'` */
  readonly protocol?: OtlpProtocol;
  /**
   * Extra headers of every export request (HTTP headers, or gRPC metadata with the name in lower case), for example
   * an API key of a hosted backend.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** How often metrics are pushed, in ms (spans go in batches, at most 5 s after they end). @defaultValue 60000 */
  readonly intervalMs?: number;
}

/** The Prometheus scrape endpoint. */
export interface PrometheusOptions {
  /** Interface to bind, for example `127.0.0.1` or `0.0.0.0`. */
  readonly host: string;
  /** TCP port; 0 binds a free one (see {@link RunningTelemetry.prometheusAddress}). */
  readonly port: number;
}

/** What a running server reports of its telemetry. */
export interface RunningTelemetry {
  /** `host:port` of the Prometheus endpoint (`GET /metrics`), when one is served. */
  readonly prometheusAddress: string | undefined;
}

/**
 * How long a server's shutdown waits for the exporters to send what they hold (the last spans and a final metrics
 * export), in ms. What is not sent by then is dropped.
 */
export const TELEMETRY_FLUSH_TIMEOUT_MS = 2000;

/**
 * The optional features a telemetry configuration turns on, for the install hint of a missing package: the SDK, the
 * Prometheus exporter when scraping is on, the OTLP exporters of the chosen protocol when pushing is. Takes the
 * options or a service manifest's telemetry settings: only whether each export is on, and the protocol, count.
 */
export function telemetryFeatures(options: {
  readonly otlp?: { readonly protocol?: OtlpProtocol } | undefined;
  readonly prometheus?: unknown;
}): [OptionalFeature, ...OptionalFeature[]] {
  return [
    'telemetry',
    ...(options.prometheus ? (['prometheus'] as const) : []),
    ...(options.otlp ? ([`otlp-${options.otlp.protocol ?? 'http/json'}`] as const) : []),
  ];
}
