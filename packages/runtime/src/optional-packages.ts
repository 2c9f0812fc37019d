import { createRequire } from 'node:module';

/**
 * Optional peer dependencies: packages `@grpcforge/runtime` loads only when a feature that needs them is on, so a
 * service's production install holds them only when it uses them (as the runtime's package.json declares them, under
 * `peerDependenciesMeta`).
 */

/** The packages of each optional feature (every one of them is a peer dependency of the runtime). */
export const OPTIONAL_FEATURE_PACKAGES = {
  /** A `postgres://` log store. */
  postgres: ['pg'],
  /** Telemetry of any kind: the OpenTelemetry SDK the runtime builds providers with. */
  telemetry: [
    '@opentelemetry/api',
    '@opentelemetry/context-async-hooks',
    '@opentelemetry/core',
    '@opentelemetry/resources',
    '@opentelemetry/sdk-metrics',
    '@opentelemetry/sdk-trace-base',
    '@opentelemetry/semantic-conventions',
  ],
  /** `telemetry.prometheus`. */
  prometheus: ['@opentelemetry/exporter-prometheus'],
  /** `telemetry.otlp` with protocol `grpc`. */
  'otlp-grpc': ['@opentelemetry/exporter-trace-otlp-grpc', '@opentelemetry/exporter-metrics-otlp-grpc'],
  /** `telemetry.otlp` with protocol `http/protobuf`. */
  'otlp-http/protobuf': ['@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/exporter-metrics-otlp-proto'],
  /** `telemetry.otlp` with protocol `http/json` (the default). */
  'otlp-http/json': ['@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/exporter-metrics-otlp-http'],
} as const satisfies Record<string, readonly string[]>;

/** A feature whose packages are optional: a key of {@link OPTIONAL_FEATURE_PACKAGES}. */
export type OptionalFeature = keyof typeof OPTIONAL_FEATURE_PACKAGES;

/**
 * A feature is on but a package it needs is not installed. `message` names the feature, the missing package and the
 * `npm install` line that adds every package of the feature at the versions this runtime was released with.
 */
export class MissingPackageError extends Error {
  /** Stable, for callers that map errors to exit codes. */
  readonly code = 'missing-package';
  override readonly name = 'MissingPackageError';

  /**
   * @param feature - what was on (`telemetry`, `postgres`, …)
   * @param missing - the package Node could not find
   * @param install - every package of the feature, `name@range`, for the hint
   */
  constructor(
    readonly feature: OptionalFeature,
    readonly missing: string,
    readonly install: readonly string[],
  ) {
    super(
      `${describeFeature(feature)} needs the package ${missing}, which is not installed: ` +
        `npm install ${install.join(' ')} (optional peer dependencies of @grpcforge/runtime)`,
    );
  }
}

const DESCRIPTIONS: Record<OptionalFeature, string> = {
  postgres: 'a postgres:// log store',
  telemetry: 'telemetry',
  prometheus: 'telemetry.prometheus',
  'otlp-grpc': 'telemetry.otlp over grpc',
  'otlp-http/protobuf': 'telemetry.otlp over http/protobuf',
  'otlp-http/json': 'telemetry.otlp over http/json',
};

function describeFeature(feature: OptionalFeature): string {
  return DESCRIPTIONS[feature];
}

let peerRanges: Record<string, string> | undefined;

/** `name@range` from the runtime's own package.json (one folder above this module, in src/ and in dist/). */
function withRange(name: string): string {
  peerRanges ??=
    (createRequire(import.meta.url)('../package.json') as { peerDependencies?: Record<string, string> }).peerDependencies ?? {};
  const range = peerRanges[name];
  return range ? `${name}@${range}` : name;
}

/** The package an `ERR_MODULE_NOT_FOUND` names (`Cannot find package 'x' imported from …`), if any. */
function missingPackageOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  return /Cannot find (?:package|module) '((?:@[^/']+\/)?[^/']+)/.exec((error as Error).message)?.[1];
}

/**
 * Runs `load` (a dynamic import of what a feature needs) and turns Node's "cannot find package" for one of the
 * optional packages into a {@link MissingPackageError} naming the feature and the install command for every package
 * of `features`. Other errors pass unchanged.
 * @param features - the features that are on; the first one names them in the message (`telemetry`, then its
 *   exporters)
 * @param load - imports the features' modules
 * @throws MissingPackageError when an optional package of the runtime is not installed
 */
export async function importOptional<T>(
  features: readonly [OptionalFeature, ...OptionalFeature[]],
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const missing = missingPackageOf(error);
    const optional = Object.values(OPTIONAL_FEATURE_PACKAGES).flat() as readonly string[];
    if (missing === undefined || !optional.includes(missing)) throw error;
    throw new MissingPackageError(features[0], missing, specsOf([missing, ...features.flatMap(packagesOf)]));
  }
}

/**
 * Every package of `features`, as `name@range` (the ranges this runtime was released with), for an `npm install`
 * line or a check of a package.json's `dependencies`.
 */
export function optionalPackagesOf(features: readonly OptionalFeature[]): string[] {
  return specsOf(features.flatMap(packagesOf));
}

const packagesOf = (feature: OptionalFeature): readonly string[] => OPTIONAL_FEATURE_PACKAGES[feature];

/** Package names as sorted, unique `name@range` specs. */
function specsOf(names: readonly string[]): string[] {
  return [...new Set(names)].sort().map(withRange);
}
