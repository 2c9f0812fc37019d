/**
 * Options of a server's OpenTelemetry export ({@link ServerBaseOptions.telemetry}). Plain data: `grpcforge serve`
 * maps the `telemetry:` section of `grpcforge.yaml` onto it (`buildTelemetryOptions`), tests build it by hand.
 * Importing this module loads nothing: the OpenTelemetry SDK is imported only when a server starts with telemetry.
 */
export interface TelemetryOptions {
  /** `service.name` of the exported resource, for example `auth`. */
  readonly serviceName: string;
  /** OTLP/HTTP export (JSON encoding); without it nothing is pushed (Prometheus may still be scraped). */
  readonly otlp?: OtlpExportOptions;
  /** Export a server span per call and a client span per outgoing call of generated clients. @defaultValue true */
  readonly traces?: boolean;
  /** Record `rpc.server.call.duration` and `rpc.client.call.duration`. @defaultValue true */
  readonly metrics?: boolean;
  /** Serve the metrics in the Prometheus text format on their own port (needs `metrics`). */
  readonly prometheus?: PrometheusOptions;
}

/** Where and how often OTLP/HTTP data is sent. */
export interface OtlpExportOptions {
  /**
   * Base URL of the collector's OTLP/HTTP receiver, for example `http://127.0.0.1:4318`: traces go to
   * `<endpoint>/v1/traces`, metrics to `<endpoint>/v1/metrics` (the OTLP/HTTP default paths).
   */
  readonly endpoint: string;
  /** Extra HTTP headers of every export request, for example an API key of a hosted backend. */
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
