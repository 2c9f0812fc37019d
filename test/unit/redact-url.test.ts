import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openServiceLogStore, registerLogStoreDialect } from '../../packages/runtime/src/index.ts';
import { sqliteDialect } from '../../packages/runtime/src/logstore/dialects/sqlite/dialect.ts';
import { redactLogStoreUrl, resolveLogStoreUrl } from '../../packages/runtime/src/logstore/dialect-registry.ts';
import { redactConnectionString } from '../../packages/runtime/src/logstore/redact-connection-string.ts';

test('store URLs in messages never hold a password, wherever the URL put it', () => {
  const cases = [
    ['postgres://u:s3cret@h:5432/db', 'postgres://u:***@h:5432/db'],
    ['postgres://u@h/db?password=s3cret&sslmode=require', 'postgres://u@h/db?password=***&sslmode=require'],
    ['postgres://u:p@ss@h/db', 'postgres://u:***@h/db'], // an unencoded @ in the password
    ['POSTGRES://u:s3cret@h/db', 'postgres://u:***@h/db'],
    ['postgresql+asyncpg://app:s3cret@db/x', 'postgresql+asyncpg://app:***@db/x'],
    ['postgres://u@h/db', 'postgres://u@h/db'],
    ['sqlite:/tmp/x.db', 'sqlite:/tmp/x.db'],
    ['${DATABASE_URL}', '${DATABASE_URL}'],
  ] as const;
  for (const [url, shown] of cases) assert.equal(redactConnectionString(url), shown, url);
  for (const [url] of cases) assert.doesNotMatch(redactConnectionString(url), /s3cret|ss@h/);
});

test('an unsupported store URL is named by its scheme only', () => {
  assert.throws(
    () => resolveLogStoreUrl('mysql://root:s3cret@db/x'),
    (error: Error) => error.message.startsWith('unsupported log store URL (scheme mysql:)') && !error.message.includes('s3cret'),
  );
  const resolved = resolveLogStoreUrl('POSTGRESQL://u@h/db');
  assert.deepEqual([resolved.dialect.name, resolved.location], ['postgres', 'POSTGRESQL://u@h/db']);
});

test("a registered engine's URL is shown as its dialect redacts it; any scheme:// password is hidden too", async () => {
  // An engine whose URL holds its password where no URL parser looks: only its dialect knows.
  registerLogStoreDialect({
    ...sqliteDialect,
    name: 'secretdb',
    schemes: ['secretdb'],
    acceptsUrl: () => false,
    redactUrl: (url) => url.replace(/;password=[^;]*/, ';password=***'),
  });
  assert.equal(redactLogStoreUrl('secretdb:host=db;password=s3cret;user=app'), 'secretdb:host=db;password=***;user=app');
  // SQLite accepts any URL ending in .db: its own redaction (none) does not leave another engine's password in.
  assert.equal(redactLogStoreUrl('mysql://root:s3cret@db/x.db'), 'mysql://root:***@db/x.db');
  assert.equal(redactLogStoreUrl('sqlite:/tmp/x.db'), 'sqlite:/tmp/x.db');

  await assert.rejects(
    openServiceLogStore(
      {
        enabled: true,
        url: 'secretdb:host=db;password=s3cret;user=${GF_TEST_UNSET_USER}',
        postgres: { poolSize: 1, statementTimeoutMs: 1000 },
      },
      { baseDir: '/nonexistent', env: {} },
    ),
    (error: Error) =>
      error.message ===
      'logStore.url secretdb:host=db;password=***;user=${GF_TEST_UNSET_USER}: environment variable GF_TEST_UNSET_USER is not set and has no default',
  );
});

test('a malformed reference in a store URL is reported without the part of the password it runs on into', async () => {
  await assert.rejects(
    openServiceLogStore(
      { enabled: true, url: 'postgres://u:pa${s3cret@db/logs', postgres: { poolSize: 1, statementTimeoutMs: 1000 } },
      { baseDir: '/nonexistent', env: {} },
    ),
    (error: Error) =>
      error.message ===
      'logStore.url postgres://u:***@db/logs: holds a "${" that starts no variable reference (expected ${NAME} or ${NAME:-default}, NAME of letters, digits and _ not starting with a digit)',
  );
});
