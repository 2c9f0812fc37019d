import { findLogStoreDialect } from '../logstore/dialect-registry.js';
import type { OptionalFeature } from '../optional-packages.js';
import { telemetryFeatures } from '../telemetry/options.js';
import type { ServiceManifest } from './service-manifest.js';

/**
 * The optional features a service's manifest turns on, as far as the manifest says before start: the store engine's
 * (PostgreSQL's when `logStore.url` is written as a `postgres://` or `postgresql://` URL) (a URL that is all one `${VAR}` is only
 * known at start), and telemetry with its exporters (an OTLP protocol left to `OTEL_EXPORTER_OTLP_PROTOCOL` counts
 * as the default, `http/json`).
 */
export function optionalFeaturesOf(manifest: ServiceManifest): OptionalFeature[] {
  const features: OptionalFeature[] = [];
  const engine = manifest.logStore.enabled ? findLogStoreDialect(manifest.logStore.url)?.optionalFeature : undefined;
  if (engine) features.push(engine);
  if (manifest.telemetry) features.push(...telemetryFeatures(manifest.telemetry));
  return features;
}
