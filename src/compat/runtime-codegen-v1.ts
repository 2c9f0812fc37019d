/**
 * `grpcforge/runtime/codegen-v1`, kept so that code generated before the runtime became its own package still runs
 * until the next `grpcforge generate` (which writes `@grpcforge/runtime/codegen-v1`).
 * @deprecated Regenerate: generated code imports `@grpcforge/runtime/codegen-v1`.
 * @packageDocumentation
 */
export * from '@grpcforge/runtime/codegen-v1';
