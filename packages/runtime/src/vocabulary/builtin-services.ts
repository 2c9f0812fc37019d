/** Fully-qualified name of the gRPC health service (`grpc/health/v1/health.proto`). */
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/** Fully-qualified names of the server reflection services, v1 and the older v1alpha. */
export const REFLECTION_SERVICE_NAMES: readonly string[] = [
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
];

/**
 * The services every grpcforge server adds besides the workspace's own. Always public: load balancers and tools
 * call them without credentials, so the auth policy lets them through and an `auth.methods` rule for them has no
 * effect.
 */
export const BUILTIN_SERVICE_NAMES: readonly string[] = [HEALTH_SERVICE_NAME, ...REFLECTION_SERVICE_NAMES];
