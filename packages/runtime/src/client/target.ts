import { expandEnvReferences, type EnvironmentValues } from '../vocabulary/env-references.js';

/**
 * Expands `${VAR}` and `${VAR:-default}` in a gRPC target with values from the environment, the way shells do:
 * `${AUTH_ADDR:-dns:///127.0.0.1:50051}` is `$AUTH_ADDR` when it is set and not empty, else the default.
 * @param env where variables are read. @defaultValue process.env
 * @throws Error naming the variable when `${VAR}` has no default and VAR is unset or empty; EnvReferenceError (from
 *   the vocabulary's parser) for a malformed reference such as `${HOST`.
 */
export function expandTarget(target: string, env: EnvironmentValues = process.env): string {
  return expandEnvReferences(
    target,
    env,
    (name) => new Error(`environment variable ${name} is not set and the target "${target}" gives no default`),
  );
}
