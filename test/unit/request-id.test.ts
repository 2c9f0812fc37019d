import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRequestId, requestIdTime } from '../../packages/runtime/src/logstore/request-id.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('createRequestId', () => {
  test('is a UUIDv7: version 7, RFC 9562 variant, lower-case', () => {
    for (let i = 0; i < 1000; i++) assert.match(createRequestId(), UUID_V7);
  });

  test('carries the ms timestamp in its first 48 bits', () => {
    const now = Date.now();
    assert.equal(requestIdTime(createRequestId(now)), now);
    assert.equal(requestIdTime(createRequestId(0)), 0);
    assert.equal(createRequestId(0xffffffffffff).slice(0, 13), 'ffffffff-ffff');
    const before = Date.now();
    const time = requestIdTime(createRequestId()) ?? 0;
    assert.ok(time >= before && time <= Date.now());
    assert.equal(requestIdTime('0190a1b2-0000-4000-8000-000000000000'), undefined, 'a v4 carries no time');
  });

  test('sorts by time across milliseconds; random within one', () => {
    const ids = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002, 1_700_000_001_000].map((ms) => createRequestId(ms));
    assert.deepEqual([...ids].sort(), ids);
    const sameMs = new Set(Array.from({ length: 100 }, () => createRequestId(1_700_000_000_000)));
    assert.equal(sameMs.size, 100);
  });
});
