import type { LISTEN_ENV as RuntimeListenEnv, LOG_STORE_URL_ENV as RuntimeLogStoreUrlEnv } from '@grpcforge/runtime';

// The deploy layer may import the runtime for types only: these copies are typed by the runtime's constants, so a
// rename there fails type-checking here instead of writing artefacts that set a variable nobody reads.

/** The variable a built service reads its listen address from (`host:port`), the runtime's `LISTEN_ENV`. */
export const LISTEN_ENV: typeof RuntimeListenEnv = 'GRPCFORGE_LISTEN';

/** The variable that overrides `logStore.url` of a built service, the runtime's `LOG_STORE_URL_ENV`. */
export const LOG_STORE_URL_ENV: typeof RuntimeLogStoreUrlEnv = 'GRPCFORGE_LOG_STORE_URL';

/** The OpenTelemetry variable that, when set, replaces the configured OTLP endpoint at start. */
export const OTLP_ENDPOINT_ENV = 'OTEL_EXPORTER_OTLP_ENDPOINT';
