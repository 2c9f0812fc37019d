// `${VAR}` and `${VAR:-default}` in grpcforge.yaml values (client targets, the store URL, OTLP header values), read
// the way POSIX shells read them, and `${SERVICE}` in the tls section's paths. The one parser of that syntax: config
// resolution, the generator, the deploy planners and the runtime all read references through it.

/** A `${VAR}` or `${VAR:-default}` reference found in a value. */
export interface EnvReference {
  /** The variable's name: a letter or `_`, then letters, digits and `_`. */
  readonly name: string;
  /** The text after `:-`; `undefined` for `${VAR}`. */
  readonly fallback: string | undefined;
  /** The reference as written, `${VAR:-default}`. */
  readonly text: string;
}

/**
 * Thrown for a `${` that does not start a well-formed reference. The message quotes the malformed part only, not the
 * whole value (a store URL may hold a password), and says what fits; callers prefix the setting's name.
 */
export class EnvReferenceError extends Error {
  /** The malformed part, from `${` to the next `}` or the end of the value. */
  readonly reference: string;
  /**
   * The message without the malformed part, for a value that may hold a secret (a store URL whose password holds
   * `${`: the part runs on into it).
   */
  readonly redactedMessage: string;

  constructor(reference: string) {
    const expected = '(expected ${NAME} or ${NAME:-default}, NAME of letters, digits and _ not starting with a digit)';
    super(`"${reference}" is not a variable reference ${expected}`);
    this.name = 'EnvReferenceError';
    this.reference = reference;
    this.redactedMessage = `holds a "\${" that starts no variable reference ${expected}`;
  }
}

/** An environment to expand from: `process.env` or any name → value map. */
export type EnvironmentValues = Readonly<Record<string, string | undefined>>;

/** The variable `${SERVICE}` stands for in the tls section's paths: the name of the service (`auth`). */
export const SERVICE_REFERENCE = '${SERVICE}';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/y;

/**
 * Every `${VAR}` / `${VAR:-default}` reference in a value, in order. A `$` not followed by `{` is text.
 * @example parseEnvReferences('${HOST}:${PORT:-50051}') // [{ name: 'HOST', … }, { name: 'PORT', fallback: '50051', … }]
 * @throws EnvReferenceError for a `${` that starts no well-formed reference (`${1X}`, `${HOST`, `${}`).
 */
export function parseEnvReferences(value: string): EnvReference[] {
  return scan(value).flatMap((part) => (typeof part === 'string' ? [] : [part]));
}

/**
 * The reference when the whole value is one `${VAR}` or `${VAR:-default}`, else `undefined`.
 * @throws EnvReferenceError as {@link parseEnvReferences} does.
 */
export function wholeEnvReference(value: string): EnvReference | undefined {
  const [only, ...rest] = scan(value);
  return only !== undefined && typeof only !== 'string' && rest.length === 0 ? only : undefined;
}

/**
 * Expands `${VAR}` and `${VAR:-default}` the way shells do: `${AUTH_ADDR:-dns:///127.0.0.1:50051}` is `$AUTH_ADDR`
 * when it is set and not empty, else the default.
 * @param env where variables are read.
 * @param missing makes the error thrown for the variable `name` when it is unset or empty and has no default, so the
 *   message names the setting and, when it may hold a password, not its value.
 * @throws EnvReferenceError for a malformed reference; the error of `missing` for a variable without a value.
 */
export function expandEnvReferences(value: string, env: EnvironmentValues, missing: (name: string) => Error): string {
  return replaceEnvReferences(value, (reference) => {
    const found = env[reference.name];
    if (found !== undefined && found !== '') return found;
    if (reference.fallback !== undefined) return reference.fallback;
    throw missing(reference.name);
  });
}

/**
 * The value with each reference replaced by what `replace` returns for it; the text around them is kept.
 * @throws EnvReferenceError for a malformed reference.
 */
export function replaceEnvReferences(value: string, replace: (reference: EnvReference) => string): string {
  return scan(value)
    .map((part) => (typeof part === 'string' ? part : replace(part)))
    .join('');
}

/**
 * A tls path with `${SERVICE}` replaced by the service's name (`certs/${SERVICE}.pem` → `certs/auth.pem`). Config
 * resolution applies it once per service; other `${…}` text is left alone.
 */
export function substituteService(path: string, serviceName: string): string {
  return path.replaceAll(SERVICE_REFERENCE, serviceName);
}

/** A value as text and references, in order. */
function scan(value: string): (string | EnvReference)[] {
  const parts: (string | EnvReference)[] = [];
  let from = 0;
  for (let at = value.indexOf('${'); at !== -1; at = value.indexOf('${', from)) {
    REFERENCE.lastIndex = at;
    const match = REFERENCE.exec(value);
    if (!match) {
      const close = value.indexOf('}', at);
      throw new EnvReferenceError(value.slice(at, close === -1 ? undefined : close + 1));
    }
    if (at > from) parts.push(value.slice(from, at));
    parts.push({ name: match[1] ?? '', fallback: match[2], text: match[0] });
    from = at + match[0].length;
  }
  if (from < value.length) parts.push(value.slice(from));
  return parts;
}
