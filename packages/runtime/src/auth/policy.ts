import { BUILTIN_SERVICE_NAMES } from '../vocabulary/builtin-services.js';

/** What a method requires of its caller. */
export type MethodRule = 'public' | 'authenticated' | { readonly roles: readonly string[] };

/** Per-method policy: exact `pkg.Service/Method` keys win over `pkg.Service/*`, which win over `default`. */
export interface AuthPolicy {
  /** @defaultValue 'authenticated' (secure by default) */
  readonly default?: MethodRule;
  readonly methods?: Readonly<Record<string, MethodRule>>;
}

/**
 * The rule of a method. Health and reflection ({@link BUILTIN_SERVICE_NAMES}) are always public.
 * @param path gRPC method path, `/pkg.Service/Method`.
 */
export function resolveMethodRule(policy: AuthPolicy, path: string): MethodRule {
  const [service = '', method = ''] = path.replace(/^\//, '').split('/');
  if (BUILTIN_SERVICE_NAMES.includes(service)) return 'public';
  return policy.methods?.[`${service}/${method}`] ?? policy.methods?.[`${service}/*`] ?? policy.default ?? 'authenticated';
}
