import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MissingPackageError, OPTIONAL_FEATURE_PACKAGES } from '../../packages/runtime/src/index.ts';
import { importOptional } from '../../packages/runtime/src/optional-packages.ts';
import { repoRoot } from '../helpers/workspace.ts';

// A feature that is on without its optional package fails with the package and the install line, not with Node's
// "Cannot find package" from deep inside the runtime. test/e2e/production-install.test.ts sees it in a real install.

const manifest = JSON.parse(readFileSync(join(repoRoot, 'packages/runtime/package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

/** What Node throws for an import of a package that is not installed. */
function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from /srv/app/node_modules/x.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

test('every optional package is an optional peer dependency of the runtime, and no dependency', () => {
  for (const name of Object.values(OPTIONAL_FEATURE_PACKAGES).flat()) {
    assert.ok(manifest.peerDependencies[name], `${name} is not a peer dependency`);
    assert.equal(manifest.peerDependenciesMeta[name]?.optional, true, `${name} is not optional`);
    assert.equal(manifest.dependencies[name], undefined, `${name} is also a dependency`);
  }
});

test('a missing optional package names the feature, the package and every package of the feature with its range', async () => {
  const error = await importOptional(['telemetry', 'otlp-grpc'], () =>
    Promise.reject(notFound('@opentelemetry/sdk-trace-base/build/src/index.js')),
  ).catch((caught: unknown) => caught);
  assert.ok(error instanceof MissingPackageError);
  assert.equal(error.code, 'missing-package');
  assert.equal(error.missing, '@opentelemetry/sdk-trace-base');
  assert.match(
    error.message,
    /^telemetry needs the package @opentelemetry\/sdk-trace-base, which is not installed: npm install /,
  );
  const range = manifest.peerDependencies['@opentelemetry/exporter-trace-otlp-grpc']!;
  assert.ok(error.message.includes(`@opentelemetry/exporter-trace-otlp-grpc@${range}`), error.message);
  assert.ok(!error.message.includes('exporter-prometheus'), error.message);

  const pg = await importOptional(['postgres'], () => Promise.reject(notFound('pg'))).catch((caught: unknown) => caught);
  assert.ok(pg instanceof MissingPackageError);
  assert.match(pg.message, /^a postgres:\/\/ log store needs the package pg, which is not installed: npm install pg@\^8/);
});

test('other failures pass unchanged: a missing package that is not optional, and any other error', async () => {
  const other = notFound('left-pad');
  assert.equal(await importOptional(['postgres'], () => Promise.reject(other)).catch((caught: unknown) => caught), other);
  const broken = new Error('boom');
  assert.equal(await importOptional(['telemetry'], () => Promise.reject(broken)).catch((caught: unknown) => caught), broken);
  assert.equal(await importOptional(['telemetry'], () => Promise.resolve(42)), 42);
});
