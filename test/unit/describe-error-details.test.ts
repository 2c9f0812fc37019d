import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeErrorDetails } from '../../packages/runtime/src/vocabulary.ts';

// The one formatter of error details for people: grpcforge call's text output and the dashboard explorer's answer.

describe('describeErrorDetails', () => {
  test('one line an entry, kinds in the order they are encoded; a DebugInfo with its stack indented', () => {
    assert.deepEqual(
      describeErrorDetails({
        debugInfo: { detail: 'TypeError: x is undefined', stackEntries: ['at login (login.ts:12)', 'at next (pipeline.ts:40)'] },
        badRequest: {
          fieldViolations: [
            { field: 'username', description: 'value length must be at least 3 characters', reason: 'string.min_len' },
            { field: 'emails[2]', description: 'value must be a valid email address' },
          ],
        },
        errorInfo: { reason: 'QUOTA_EXCEEDED', domain: 'billing.v1', metadata: { limit: '10', used: '11' } },
      }),
      [
        'error info: QUOTA_EXCEEDED (billing.v1) limit=10 used=11',
        'bad request: username: value length must be at least 3 characters [string.min_len]',
        'bad request: emails[2]: value must be a valid email address',
        'debug info: TypeError: x is undefined',
        '  at login (login.ts:12)',
        '  at next (pipeline.ts:40)',
      ],
    );
  });

  test('entries of unknown types by their type URL and size, from bytes or from base64 (JSON output)', () => {
    const typeUrl = 'type.googleapis.com/acme.v1.Hint';
    assert.deepEqual(describeErrorDetails({ unknown: [{ typeUrl, value: new Uint8Array(5) }] }), [
      `other detail: ${typeUrl} (5 bytes)`,
    ]);
    for (const [value, bytes] of [
      ['AAAAAAA=', 5],
      ['AAAAAA==', 4],
      ['AAAAAAAA', 6],
      ['', 0],
    ] as const) {
      assert.deepEqual(describeErrorDetails({ unknown: [{ typeUrl, value }] }), [`other detail: ${typeUrl} (${bytes} bytes)`]);
    }
    assert.deepEqual(describeErrorDetails({}), []);
    assert.deepEqual(describeErrorDetails({ errorInfo: { reason: 'GONE', domain: '' } }), ['error info: GONE']);
  });
});
