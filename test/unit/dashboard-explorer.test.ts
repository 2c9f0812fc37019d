import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DashboardRequestError } from '../../src/dashboard/api.ts';
import { explorerCallRequest, explorerCommands } from '../../src/dashboard/explorer.ts';

// The explorer's rules without HTTP: the body of POST /api/v1/explorer/call and the commands it shows.

const ALLOWED = ['127.0.0.1:50051', '127.0.0.1:40000'];
const base = { target: '127.0.0.1:50051', method: 'auth.v1.AuthService/Login' };

/** The 400 message of a body. */
function refusal(body: unknown): string {
  try {
    explorerCallRequest(body, ALLOWED);
  } catch (error) {
    assert.ok(error instanceof DashboardRequestError);
    assert.equal(error.status, 400);
    return error.message;
  }
  assert.fail('accepted');
}

describe('explorer call requests', () => {
  test('defaults, and requests as an array, one JSON value, a JSON array or JSON lines', () => {
    const request = explorerCallRequest(base, ALLOWED);
    assert.deepEqual(
      [request.requests, request.metadata, request.apiKey, request.bearerToken, request.deadlineMs, request.deadlineGiven],
      [[{}], {}, undefined, undefined, 10_000, false],
    );
    assert.deepEqual([request.maxResponses, request.maxResponseBytes], [1000, 1024 * 1024]);
    const requestsOf = (requests: unknown) => explorerCallRequest({ ...base, requests }, ALLOWED).requests;
    assert.deepEqual(requestsOf([{ a: 1 }, { a: 2 }]), [{ a: 1 }, { a: 2 }]);
    assert.deepEqual(requestsOf('{\n  "a": 1\n}'), [{ a: 1 }]);
    assert.deepEqual(requestsOf('[{"a":1},{"a":2}]'), [{ a: 1 }, { a: 2 }]);
    assert.deepEqual(requestsOf('{"a":1}\n\n{"a":2}\n'), [{ a: 1 }, { a: 2 }]);
    assert.deepEqual(requestsOf('  '), [{}]);
    assert.deepEqual(requestsOf([]), [{}]);
    const full = explorerCallRequest(
      { ...base, metadata: { 'X-Trace': 'a b' }, apiKey: ' gfk_1 ', bearerToken: '', deadlineMs: 500 },
      ALLOWED,
    );
    assert.deepEqual(
      [full.metadata, full.apiKey, full.bearerToken, full.deadlineMs],
      [{ 'x-trace': 'a b' }, 'gfk_1', undefined, 500],
    );
  });

  test('refusals name the field; a target not allowed names the allowed ones; a credential is never echoed', () => {
    assert.equal(
      refusal({ ...base, target: '10.0.0.1:443' }),
      'target: "10.0.0.1:443" is not a server of this workspace; the explorer calls only 127.0.0.1:50051, 127.0.0.1:40000',
    );
    assert.match(refusal({ ...base, target: 'x:1' }), /calls only 127\.0\.0\.1:50051/);
    assert.throws(() => explorerCallRequest({ ...base, target: 'x:1' }, []), /\(none now\)/);
    assert.equal(refusal([]), 'body: expected a JSON object');
    assert.equal(refusal({ ...base, extra: 1 }), 'body: unknown field "extra"');
    assert.match(refusal({ ...base, method: '' }), /^method: /);
    assert.match(refusal({ ...base, requests: 3 }), /^requests: /);
    assert.match(refusal({ ...base, requests: '{"a":1}\n{' }), /^requests: line 2 is not JSON/);
    assert.match(refusal({ ...base, metadata: { authorization: 'Bearer x' } }), /^metadata: send authorization as bearerToken/);
    assert.match(refusal({ ...base, metadata: { 'x-api-key': 'k' } }), /^metadata: send x-api-key as apiKey/);
    assert.match(refusal({ ...base, metadata: { 'grpc-timeout': '1S' } }), /reserved by gRPC/);
    assert.match(refusal({ ...base, metadata: { 'trace-bin': 'AA==' } }), /binary metadata/);
    assert.match(refusal({ ...base, metadata: { 'a b': 'x' } }), /is not a metadata name/);
    assert.match(refusal({ ...base, metadata: { x: 'line\nbreak' } }), /printable ASCII/);
    for (const deadlineMs of [0, 1.5, 60_001, '100']) assert.match(refusal({ ...base, deadlineMs }), /^deadlineMs: /);
    const secret = 'gfk_secret value';
    const message = refusal({ ...base, apiKey: secret });
    assert.equal(message, 'apiKey: expected printable ASCII without spaces');
    assert.ok(!message.includes('secret'));
  });
});

describe('explorer commands', () => {
  test('plaintext: grpcforge call and buf curl with placeholders for the credentials, quoted for a shell', () => {
    const request = explorerCallRequest(
      {
        ...base,
        requests: [{ username: "o'neil" }],
        metadata: { 'x-trace': '1' },
        apiKey: 'gfk_real',
        bearerToken: 'jwt.real',
        deadlineMs: 2000,
      },
      ALLOWED,
    );
    const commands = explorerCommands(request, undefined);
    assert.equal(
      commands.grpcforge,
      `grpcforge call 127.0.0.1:50051 auth.v1.AuthService/Login -d '{"username":"o'\\''neil"}' -H 'x-trace: 1' ` +
        `-H "x-api-key: $GRPCFORGE_API_KEY" -H "authorization: Bearer $GRPCFORGE_BEARER_TOKEN" --deadline 2000`,
    );
    assert.equal(
      commands.bufCurl,
      `buf curl --protocol grpc --http2-prior-knowledge -H 'x-trace: 1' -H "x-api-key: $GRPCFORGE_API_KEY" ` +
        `-H "authorization: Bearer $GRPCFORGE_BEARER_TOKEN" -d '{"username":"o'\\''neil"}' http://127.0.0.1:50051/auth.v1.AuthService/Login`,
    );
    assert.ok(!JSON.stringify(commands).includes('real'));
  });

  test('streams: a JSON array for grpcforge call, JSON lines for buf curl; TLS with the CA or the system roots', () => {
    const request = explorerCallRequest(
      { ...base, method: '/user.v1.UserService/SyncUsers', requests: [{ id: 'u1' }, { id: 'u2' }] },
      ALLOWED,
    );
    const withCa = explorerCommands(request, { caFile: 'certs/ca.pem' });
    assert.equal(
      withCa.grpcforge,
      `grpcforge call 127.0.0.1:50051 user.v1.UserService/SyncUsers -d '[{"id":"u1"},{"id":"u2"}]' --ca 'certs/ca.pem'`,
    );
    assert.equal(
      withCa.bufCurl,
      `buf curl --protocol grpc --cacert 'certs/ca.pem' -d '{"id":"u1"}\n{"id":"u2"}' https://127.0.0.1:50051/user.v1.UserService/SyncUsers`,
    );
    const systemRoots = explorerCommands(request, { caFile: undefined });
    assert.match(systemRoots.grpcforge, / --tls$/);
    assert.match(systemRoots.bufCurl, /^buf curl --protocol grpc -d .* https:\/\//s);
  });
});
