/**
 * `@grpcforge/runtime/admin`: for tools that inspect and administer services rather than run them (the grpcforge
 * CLI, its dashboard, a team's own reports): listing instances, naming a store without its password, reading
 * `${VAR}` settings, verifying tokens and dialing TLS the way a service does. A running service never needs it.
 * @packageDocumentation
 */
export { hostPort } from './host-port.js';
export { parseStatusCode } from './errors.js';
export { createTlsChannelCredentials } from './client/tls-credentials.js';
export { describeEnvValue, resolveEnvValue } from './client/env.js';
export { createJwtVerifier } from './auth/jwt.js';
export type { JwtOptions, JwtResult, JwtVerifier } from './auth/jwt.js';
export { redactConnectionString } from './logstore/postgres-connection.js';
export { describeDropped, totalDropped } from './logstore/writer-protocol.js';
export type { PostgresSettings } from './logstore/postgres-connection.js';
export { foldRestarts, isInstanceRunning, selectInstances, UNRESPONSIVE_LISTED_MS } from './logstore/instances.js';
export type { InstanceSelection, ListedInstance } from './logstore/instances.js';
