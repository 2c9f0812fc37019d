/**
 * The OTLP transports, named as `OTEL_EXPORTER_OTLP_PROTOCOL` names them (OpenTelemetry's exporter specification):
 * what grpcforge.yaml's `telemetry.otlp.protocol` accepts and what a built service reads from that variable.
 */
export const OTLP_PROTOCOLS = ['http/json', 'http/protobuf', 'grpc'] as const;

/** One of {@link OTLP_PROTOCOLS}. */
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
