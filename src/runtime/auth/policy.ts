/** What a method requires of its caller. */
export type MethodRule = 'public' | 'authenticated' | { readonly roles: readonly string[] };

/** Per-method policy: exact `pkg.Service/Method` keys win over `pkg.Service/*`, which win over `default`. */
export interface AuthPolicy {
  /** @defaultValue 'authenticated' (secure by default) */
  readonly default?: MethodRule;
  readonly methods?: Readonly<Record<string, MethodRule>>;
}

/** Services that are always public: health checks and reflection must work for load balancers and tools. */
const ALWAYS_PUBLIC = [
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
];

/**
 * The rule of a method.
 * @param path gRPC method path, `/pkg.Service/Method`.
 */
export function resolveMethodRule(policy: AuthPolicy, path: string): MethodRule {
  const [service = '', method = ''] = path.replace(/^\//, '').split('/');
  if (ALWAYS_PUBLIC.includes(service)) return 'public';
  return policy.methods?.[`${service}/${method}`] ?? policy.methods?.[`${service}/*`] ?? policy.default ?? 'authenticated';
}
