import { BUILTIN_SERVICE_NAMES } from '@grpcforge/runtime/vocabulary';
import { closestByShortName, closestMatch } from '../util/suggest.js';
import { formatKeyPath } from './key-path.js';
import type { ConfigProblem, ResolvedMethodRule } from './resolved.js';

/** A service whose RPC names an `auth.methods` key may use. */
export interface KnownService {
  /** Fully-qualified name, `auth.v1.AuthService`. */
  readonly fullName: string;
  /** Its RPC names (`Login`); when omitted only the service part of the keys is checked. */
  readonly methods?: readonly string[];
}

/** Options of {@link checkAuthMethodKeys}. */
export interface AuthMethodKeyCheckOptions {
  /**
   * Where the known services come from, completing "… is not a service ${source}": `in proto/` (the contracts),
   * `that "auth" serves` (one server's generated definitions).
   */
  readonly source: string;
  /**
   * Set when `known` is only part of the workspace (what one server serves): keys of these other services (served or
   * consumed elsewhere in grpcforge.yaml) are skipped, and so is a key of an unknown service that is not a likely
   * typo of a known one. When omitted, `known` is every service there is and every key is checked.
   */
  readonly otherServices?: readonly string[];
}

/**
 * Checks that every `auth.methods` key (`pkg.Service/Method` or `pkg.Service/*`) names a known service and, for
 * exact keys, one of its RPCs: a renamed or misspelt method would otherwise silently lose its rule. Keys of the
 * health and reflection services are reported too (they are always public). Pure: the problems carry the key path
 * `auth.methods["pkg.Service/Method"]`, without line and column.
 * @param methods `auth.methods` of the resolved config.
 * @param known the services (and their RPCs) the keys may name.
 * @example
 * checkAuthMethodKeys({ 'auth.v1.AuthService/Logn': 'public' }, [{ fullName: 'auth.v1.AuthService', methods: ['Login'] }], { source: 'in proto/' })
 * // → [{ path: 'auth.methods["auth.v1.AuthService/Logn"]',
 * //      message: '"Logn" is not an RPC of auth.v1.AuthService (did you mean "auth.v1.AuthService/Login"?)', ... }]
 */
export function checkAuthMethodKeys(
  methods: Readonly<Record<string, ResolvedMethodRule>>,
  known: readonly KnownService[],
  options: AuthMethodKeyCheckOptions,
): ConfigProblem[] {
  const byName = new Map(known.map((service) => [service.fullName, service]));
  const names = [...byName.keys()].sort();
  const others = new Set(options.otherServices ?? []);
  const partial = options.otherServices !== undefined;
  const problems: ConfigProblem[] = [];
  for (const key of Object.keys(methods)) {
    const separator = key.lastIndexOf('/');
    const serviceName = key.slice(0, separator);
    const methodName = key.slice(separator + 1);
    const segments = ['auth', 'methods', key];
    const report = (message: string) => problems.push({ path: formatKeyPath(segments), segments, message });
    if (BUILTIN_SERVICE_NAMES.includes(serviceName)) {
      report(`"${key}" has no effect: health and reflection are always public (remove the key)`);
      continue;
    }
    const service = byName.get(serviceName);
    if (!service) {
      if (partial && others.has(serviceName)) continue;
      const close = closestServiceName(serviceName, names);
      if (partial && !close) continue;
      const hint = close
        ? `did you mean "${close}/${methodName}"?`
        : names.length === 0
          ? 'no service is known'
          : `known: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`;
      report(`"${serviceName}" is not a service ${options.source} (${hint})`);
      continue;
    }
    if (methodName === '*' || !service.methods || service.methods.includes(methodName)) continue;
    const close = closestMatch(methodName, service.methods);
    const hint = close ? `did you mean "${serviceName}/${close}"?` : `RPCs: ${service.methods.join(', ') || '(none)'}`;
    report(`"${methodName}" is not an RPC of ${serviceName} (${hint})`);
  }
  return problems;
}

/**
 * The known service a mistyped name most likely meant: close to the whole name (`auth.v1.AuthServce`), or, for a
 * name written without its package (`AuthService`), the service with that short name.
 */
function closestServiceName(name: string, candidates: readonly string[]): string | undefined {
  const direct = closestMatch(name, candidates);
  if (direct || name.includes('.')) return direct;
  return closestByShortName(name, candidates)[0];
}
