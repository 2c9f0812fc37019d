import type { ApiKeyRecord, CreateApiKeyOptions, LogStore } from '../../packages/runtime/src/index.ts';

/** Creates an API key a test needs, failing the test with the store's reason when none was created. */
export async function createTestApiKey(
  store: Pick<LogStore, 'apiKeys'>,
  options: CreateApiKeyOptions,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const created = await store.apiKeys.create(options);
  if (created.kind !== 'created') throw new Error(`no API key created: ${created.message}`);
  return created;
}
