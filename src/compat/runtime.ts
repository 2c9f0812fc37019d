/**
 * `grpcforge/runtime`, kept for workspaces whose handlers were written before the runtime became its own package.
 * @deprecated Import from `@grpcforge/runtime`, which a service installs without the CLI.
 * @packageDocumentation
 */
export * from '@grpcforge/runtime';
