/**
 * Expands `${VAR}` and `${VAR:-default}` in a gRPC target with values from the environment, the way shells do:
 * `${AUTH_ADDR:-dns:///127.0.0.1:50051}` is `$AUTH_ADDR` when it is set and not empty, else the default.
 * @param env where variables are read. @defaultValue process.env
 * @throws Error naming the variable when `${VAR}` has no default and VAR is unset or empty.
 */
export function expandTarget(target: string, env: NodeJS.ProcessEnv = process.env): string {
  return target.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw new Error(`environment variable ${name} is not set and the target "${target}" gives no default`);
  });
}
