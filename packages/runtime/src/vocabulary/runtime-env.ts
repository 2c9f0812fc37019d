// The environment variables a built service reads, named once: the runtime reads them, `grpcforge deploy` writes
// them into Compose files and Kubernetes manifests, so a rename cannot leave artefacts setting a variable nobody reads.

/** The variable that replaces a built service's listen address: `host:port` (`0.0.0.0:50051` in a container). */
export const LISTEN_ENV = 'GRPCFORGE_LISTEN';

/** The variable that replaces a built service's `logStore.url` (it may hold `${VAR}` references too). */
export const LOG_STORE_URL_ENV = 'GRPCFORGE_LOG_STORE_URL';

/** The OpenTelemetry variable that, when set, replaces the configured OTLP endpoint at start. */
export const OTLP_ENDPOINT_ENV = 'OTEL_EXPORTER_OTLP_ENDPOINT';
