// The deploy layer writes the variables a built service reads; their names are the runtime's, from the shared leaf.
export { LISTEN_ENV, LOG_STORE_URL_ENV, OTLP_ENDPOINT_ENV } from '@grpcforge/runtime/vocabulary';
