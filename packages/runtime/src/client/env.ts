import { expandTarget } from './target.js';

/**
 * A setting read from the environment when a client is created, not when its module loads: generated clients carry
 * `target: fromEnv('AUTH_ADDR', 'dns:///127.0.0.1:50051')` for grpcforge.yaml's `${AUTH_ADDR:-dns:///127.0.0.1:50051}`.
 */
export type EnvValue =
  /** One variable, with a default for when it is unset or empty. */
  | { readonly env: string; readonly default?: string }
  /** A text with `${VAR}` / `${VAR:-default}` references, expanded as a shell would. */
  | { readonly template: string };

/**
 * The value of environment variable `name` when the client is created, or `fallback` when it is unset or empty.
 * @example createAuthServiceClient({ target: fromEnv('AUTH_ADDR', '127.0.0.1:50051') })
 */
export function fromEnv(name: string, fallback?: string): EnvValue {
  return fallback === undefined ? { env: name } : { env: name, default: fallback };
}

/**
 * A text with `${VAR}` and `${VAR:-default}` references, expanded from the environment when the client is created.
 * @example fromEnvTemplate('dns:///${AUTH_HOST:-127.0.0.1}:50051')
 */
export function fromEnvTemplate(template: string): EnvValue {
  return { template };
}

/**
 * Reads a setting: a plain string as it is, an {@link EnvValue} from the environment.
 * @returns `undefined` when the variable is unset or empty and there is no default.
 * @throws Error naming the variable when a template references an unset variable without a default.
 */
export function resolveEnvValue(value: string | EnvValue, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (typeof value === 'string') return value;
  if ('template' in value) return expandTarget(value.template, env);
  const found = env[value.env];
  return found !== undefined && found !== '' ? found : value.default;
}

/** `$AUTH_ADDR (default "dns:///127.0.0.1:50051")`: an {@link EnvValue} for messages. */
export function describeEnvValue(value: string | EnvValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if ('template' in value) return JSON.stringify(value.template);
  return `$${value.env}${value.default === undefined ? '' : ` (default ${JSON.stringify(value.default)})`}`;
}
