/**
 * Expands `${VAR}` and `${VAR:-default}` in a gRPC target with values from the environment, the way shells do:
 * `${AUTH_ADDR:-dns:///127.0.0.1:50051}` is `$AUTH_ADDR` when it is set and not empty, else the default.
 * @param env where variables are read. @defaultValue process.env
 * @throws Error naming the variable when `${VAR}` has no default and VAR is unset or empty.
 */
export function expandTarget(target: string, env: NodeJS.ProcessEnv = process.env): string {
  return expandEnvReferences(
    target,
    env,
    (name) => new Error(`environment variable ${name} is not set and the target "${target}" gives no default`),
  );
}

/**
 * Expands `${VAR}` and `${VAR:-default}` in any setting (a store URL, a header value) as {@link expandTarget} does,
 * with the caller's error for a variable that is unset or empty and has no default.
 * @param missing makes the error thrown for the variable `name`, so the message names the setting, not its value
 *   (which may hold a password).
 */
export function expandEnvReferences(text: string, env: NodeJS.ProcessEnv, missing: (name: string) => Error): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw missing(name);
  });
}
