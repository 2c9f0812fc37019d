import { UserError } from '../util/errors.js';
import { closestByShortName, closestMatch, shortName } from '../util/suggest.js';

/** A service a server has and its method names, as reflection (or the workspace contracts) tells them. */
export interface ServiceMethods {
  /** Fully-qualified name, `grpc.health.v1.Health`. */
  readonly service: string;
  /** Method names, `Check`. */
  readonly methods: readonly string[];
}

/** A method name that {@link resolveMethodName} found. */
export interface ResolvedMethodName {
  readonly service: string;
  readonly method: string;
  /** `/pkg.Service/Method`. */
  readonly path: string;
}

/**
 * `pkg.Service/Method` (or `/pkg.Service/Method`) split into its service and method, or `undefined` when the
 * argument does not have that shape (`Check`, `grpc.health.v1.Health.Check`, `a/b/c`). Says nothing about whether
 * the service exists.
 */
export function splitMethodName(target: string): { service: string; method: string } | undefined {
  const match = /^\/?([^/\s]+)\/([^/\s]+)$/.exec(target);
  return match ? { service: match[1]!, method: match[2]! } : undefined;
}

/**
 * Resolves the method argument of `grpcforge call` against the services a server has: exactly `pkg.Service/Method`
 * (a leading `/` is allowed). Anything else is an error with a did-you-mean hint when one is close: a name without
 * its package (`Health/Check`), a bare method (`Check`), the dotted form (`grpc.health.v1.Health.Check`), a
 * misspelt service or method.
 * @param catalog the services (and their methods) to resolve against.
 * @param where where they are, completing `no service "x" …`: `on the server`, `in the workspace contracts`.
 * @throws UserError `unknown-method`, its message naming the argument and, when cheap, the likely meant method.
 * @example
 * resolveMethodName('Health/Check', [{ service: 'grpc.health.v1.Health', methods: ['Check', 'Watch'] }])
 * // throws: "Health/Check" is not a fully-qualified method (did you mean "grpc.health.v1.Health/Check"?)
 */
export function resolveMethodName(
  target: string,
  catalog: readonly ServiceMethods[],
  where = 'on the server',
): ResolvedMethodName {
  const listHint = 'list them with --list';
  const split = splitMethodName(target);
  const entry = split && catalog.find((candidate) => candidate.service === split.service);
  // A service of a file without a package has no dot and is still fully qualified.
  if (split && (entry || split.service.includes('.'))) {
    if (entry?.methods.includes(split.method)) {
      return { service: entry.service, method: split.method, path: `/${entry.service}/${split.method}` };
    }
    if (entry) {
      const close = closestMatch(split.method, entry.methods);
      if (close)
        throw new UserError(
          'unknown-method',
          `${entry.service} has no method "${split.method}" (did you mean "${entry.service}/${close}"?)`,
        );
      throw new UserError('unknown-method', `${entry.service} has no method "${split.method}"`, [
        `methods: ${entry.methods.join(', ') || '(none)'}`,
      ]);
    }
    const suggestions = suggest(catalog, split.service, split.method);
    if (suggestions.length > 0)
      throw new UserError('unknown-method', `no service "${split.service}" ${where} (${didYouMean(suggestions)})`);
    throw new UserError('unknown-method', `no service "${split.service}" ${where}`, [servicesLine(catalog, listHint)]);
  }
  // Not pkg.Service/Method: a short service name, the dotted form, a bare method, or something else.
  let suggestions: string[];
  if (split) suggestions = suggest(catalog, split.service, split.method);
  else if (!target.includes('/') && target.includes('.')) {
    const dot = target.lastIndexOf('.');
    suggestions = suggest(catalog, target.slice(0, dot), target.slice(dot + 1));
  } else if (!target.includes('/')) suggestions = suggest(catalog, undefined, target);
  else suggestions = [];
  const message = `"${target}" is not a fully-qualified method: expected pkg.Service/Method`;
  if (suggestions.length > 0) throw new UserError('unknown-method', `${message} (${didYouMean(suggestions)})`);
  throw new UserError('unknown-method', message, [servicesLine(catalog, listHint)]);
}

/** `did you mean "a"?`, `did you mean "a" or "b"?` */
function didYouMean(suggestions: readonly string[]): string {
  return `did you mean ${suggestions.map((suggestion) => `"${suggestion}"`).join(' or ')}?`;
}

function servicesLine(catalog: readonly ServiceMethods[], listHint: string): string {
  const names = catalog.map((entry) => entry.service).sort();
  if (names.length === 0) return 'no services are listed';
  return `services: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''} (${listHint})`;
}

/**
 * The `pkg.Service/Method` names the user most likely meant (at most three), from a service guess (full, short or
 * absent) and a method guess; empty when nothing is close. The method must be close too: suggesting a name that
 * would fail again helps nobody.
 */
function suggest(catalog: readonly ServiceMethods[], serviceGuess: string | undefined, methodGuess: string): string[] {
  let services: readonly ServiceMethods[];
  if (serviceGuess === undefined) services = catalog;
  else {
    const fullNames = catalog.map((entry) => entry.service);
    const full = closestMatch(serviceGuess, fullNames);
    // Without a close full name, compare short names: `Health` → grpc.health.v1.Health (every service named so).
    const matches = full ? [full] : closestByShortName(shortName(serviceGuess), fullNames);
    services = catalog.filter((entry) => matches.includes(entry.service));
  }
  const exact = services.flatMap((entry) =>
    entry.methods
      .filter((method) => method.toLowerCase() === methodGuess.toLowerCase())
      .map((method) => `${entry.service}/${method}`),
  );
  if (exact.length > 0) return exact.slice(0, 3);
  const close = closestMatch(
    methodGuess,
    services.flatMap((entry) => entry.methods),
  );
  if (close === undefined) return [];
  return services
    .filter((entry) => entry.methods.includes(close))
    .map((entry) => `${entry.service}/${close}`)
    .slice(0, 3);
}
