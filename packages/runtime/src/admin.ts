/**
 * `@grpcforge/runtime/admin`: for tools that inspect and administer services rather than run them (the grpcforge
 * CLI, its dashboard, a team's own reports): listing instances, naming a store without its password, reading
 * `${VAR}` settings, describing the store's counters. A running service never needs it. Light on purpose: it loads
 * none of nice-grpc, grpc-js, jose or kysely, so a CLI can import it when it starts (what needs them is on `.`).
 * @packageDocumentation
 */
export { hostPort } from './host-port.js';
export { describeEnvValue, resolveEnvValue } from './client/env.js';
export { redactConnectionString } from './logstore/redact-connection-string.js';
export { describeDropped, totalDropped } from './logstore/writer-protocol.js';
export type { PostgresSettings } from './logstore/dialects/postgres/connection.js';
export { foldRestarts, isInstanceRunning, selectInstances, UNRESPONSIVE_LISTED_MS } from './logstore/instances.js';
export type { InstanceSelection, ListedInstance } from './logstore/instances.js';
