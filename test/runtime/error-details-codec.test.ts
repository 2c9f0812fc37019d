import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  decodeStatusDetails,
  encodeStatusDetails,
  encodeStatusDetailsWithin,
} from '../../packages/runtime/src/error-details/status-details.ts';
import {
  BadRequestSchema,
  ErrorInfoSchema,
  RetryInfoSchema,
} from '../../packages/runtime/src/gen/google/rpc/error_details_pb.ts';
import { StatusSchema } from '../../packages/runtime/src/gen/google/rpc/status_pb.ts';
import type { ErrorDetails } from '../../packages/runtime/src/index.ts';
import { STATUS_DETAILS_MAX_BYTES } from '../../packages/runtime/src/vocabulary.ts';

// The google.rpc.Status codec at its edges: what a handler may hand it, and what another server may send.

function roundTrip(details: ErrorDetails): ErrorDetails {
  return decodeStatusDetails(encodeStatusDetails(9, 'failed', details)).details;
}

function violations(count: number) {
  return Array.from({ length: count }, (_, index) => ({
    field: `items[${index}].name`,
    description: 'value length must be at least 3 characters',
    reason: 'string.min_len',
  }));
}

describe('status details codec', () => {
  test('a retry delay that is not a finite, non-negative number of ms is sent as 0 ms; ms are kept', () => {
    for (const retryDelayMs of [Number.NaN, Number.POSITIVE_INFINITY, -5]) {
      assert.deepEqual(roundTrip({ retryInfo: { retryDelayMs } }), { retryInfo: { retryDelayMs: 0 } }, String(retryDelayMs));
    }
    assert.deepEqual(roundTrip({ retryInfo: { retryDelayMs: 61_250.4 } }), { retryInfo: { retryDelayMs: 61_250 } });
  });

  test('a negative Duration from another server is no delay', () => {
    const retryInfo = create(RetryInfoSchema, { retryDelay: { seconds: 0n, nanos: -500_000_000 } });
    const bytes = toBinary(StatusSchema, create(StatusSchema, { code: 14, details: [anyPack(RetryInfoSchema, retryInfo)] }));
    assert.deepEqual(decodeStatusDetails(bytes).details, { retryInfo: { retryDelayMs: 0 } });
  });

  test('ErrorInfo metadata given as numbers by JavaScript callers is sent as their text', () => {
    const metadata = { limit: 10, window: '1m' } as unknown as Record<string, string>;
    assert.deepEqual(roundTrip({ errorInfo: { reason: 'QUOTA_EXCEEDED', domain: 'auth.v1', metadata } }), {
      errorInfo: { reason: 'QUOTA_EXCEEDED', domain: 'auth.v1', metadata: { limit: '10', window: '1m' } },
    });
  });

  test('entries of one type are joined for lists, the first kept for the others', () => {
    const errorInfo = (reason: string) => anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason, domain: 'd' }));
    const badRequest = (from: number, to: number) =>
      anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: violations(to).slice(from) }));
    const status = create(StatusSchema, {
      code: 3,
      details: [errorInfo('FIRST'), badRequest(0, 1), errorInfo('SECOND'), badRequest(1, 3)],
    });
    assert.deepEqual(decodeStatusDetails(toBinary(StatusSchema, status)).details, {
      errorInfo: { reason: 'FIRST', domain: 'd', metadata: {} },
      badRequest: { fieldViolations: violations(3) },
    });
  });

  test('an entry of a known type that does not decode is kept as unknown, with the others decoded', () => {
    const good = anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: 'KEPT', domain: 'd' }));
    const malformed = {
      $typeName: 'google.protobuf.Any' as const,
      typeUrl: 'type.googleapis.com/google.rpc.BadRequest',
      value: new Uint8Array([0x0a, 0xff]),
    };
    const bytes = toBinary(StatusSchema, create(StatusSchema, { code: 3, message: 'bad', details: [malformed, good] }));
    const decoded = decodeStatusDetails(bytes);
    assert.equal(decoded.code, 3);
    assert.equal(decoded.message, 'bad');
    assert.deepEqual(decoded.details, {
      errorInfo: { reason: 'KEPT', domain: 'd', metadata: {} },
      unknown: [{ typeUrl: 'type.googleapis.com/google.rpc.BadRequest', value: new Uint8Array([0x0a, 0xff]) }],
    });
  });

  test('bytes that are not a google.rpc.Status throw', () => {
    assert.throws(() => decodeStatusDetails(new Uint8Array([0x0a, 0xff, 0xff])));
  });

  test('details within the budget are encoded whole', () => {
    const details: ErrorDetails = { badRequest: { fieldViolations: violations(3) }, errorInfo: { reason: 'R', domain: 'd' } };
    assert.deepEqual(encodeStatusDetailsWithin(3, 'bad', details), encodeStatusDetails(3, 'bad', details));
  });

  test('a thousand violations are trimmed to the first ones that fit, the other kinds kept', () => {
    const details: ErrorDetails = {
      errorInfo: { reason: 'INVALID_ITEMS', domain: 'shop.v1' },
      badRequest: { fieldViolations: violations(1000) },
      retryInfo: { retryDelayMs: 10 },
    };
    const bytes = encodeStatusDetailsWithin(3, 'invalid request: items[0].name: too short', details);
    assert.ok(bytes);
    assert.ok(bytes.byteLength <= STATUS_DETAILS_MAX_BYTES, `${bytes.byteLength} bytes`);
    const decoded = decodeStatusDetails(bytes).details;
    const kept = decoded.badRequest?.fieldViolations ?? [];
    assert.ok(kept.length > 10 && kept.length < 1000, `${kept.length} violations kept`);
    assert.deepEqual(kept, violations(kept.length), 'the first ones, in order');
    assert.ok(
      encodeStatusDetails(3, 'invalid request: items[0].name: too short', {
        ...details,
        badRequest: { fieldViolations: violations(kept.length + 1) },
      }).byteLength > STATUS_DETAILS_MAX_BYTES,
      'as many as fit',
    );
    assert.deepEqual(decoded.errorInfo, { reason: 'INVALID_ITEMS', domain: 'shop.v1', metadata: {} });
    assert.deepEqual(decoded.retryInfo, { retryDelayMs: 10 });
  });

  test('a kind too large even with one entry per list is left out, debugInfo first', () => {
    const detail = 'x'.repeat(STATUS_DETAILS_MAX_BYTES);
    const details: ErrorDetails = {
      errorInfo: { reason: 'R', domain: 'd' },
      debugInfo: { stackEntries: ['at a'], detail },
      localizedMessage: { locale: 'en', message: 'short' },
    };
    const bytes = encodeStatusDetailsWithin(13, 'oops', details);
    assert.ok(bytes);
    assert.deepEqual(decodeStatusDetails(bytes).details, {
      errorInfo: { reason: 'R', domain: 'd', metadata: {} },
      localizedMessage: { locale: 'en', message: 'short' },
    });
  });

  test('a status message too large for any details leaves them all out', () => {
    const message = 'm'.repeat(STATUS_DETAILS_MAX_BYTES);
    assert.equal(encodeStatusDetailsWithin(3, message, { errorInfo: { reason: 'R', domain: 'd' } }), undefined);
  });
});
