import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Metadata, Status, ServerError, type HandlerContext, type RunningStub } from 'grpcforge/runtime';
import { startAuthServiceStub } from '../src/gen/stubs/auth.v1.AuthService.js';

// user's own test: auth is replaced by the generated in-process stub, which records the calls it gets.
let stub: RunningStub;

before(async () => {
  stub = await startAuthServiceStub({
    validateToken: async (request) =>
      request.token === 'good-token' ? { valid: true, subject: 'ada', roles: ['user'] } : { valid: false },
  });
  process.env.AUTH_ADDR = stub.address;
});

after(async () => {
  await stub.close();
});

function callContext(token: string): HandlerContext {
  return {
    metadata: Metadata({ authorization: `Bearer ${token}` }),
    peer: 'test',
    signal: new AbortController().signal,
    header: Metadata(),
    trailer: Metadata(),
    sendHeader: () => {},
  };
}

test('GetUser resolves the caller through auth.v1.AuthService/ValidateToken', async () => {
  const { getUser } = await import('../src/handlers/user.v1.UserService/get-user.js');
  const response = await getUser({ id: 'u1' }, callContext('good-token'));
  assert.equal(response.requestedBy, 'ada');
  assert.equal(response.user?.displayName, 'Ada Lovelace');
  const calls = stub.callsTo('validateToken');
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]?.requests, [{ token: 'good-token' }]);
});

test('GetUser with a token auth rejects is UNAUTHENTICATED', async () => {
  const { getUser } = await import('../src/handlers/user.v1.UserService/get-user.js');
  await assert.rejects(getUser({ id: 'u1' }, callContext('stolen')), (error: unknown) => {
    assert.ok(error instanceof ServerError);
    assert.equal(error.code, Status.UNAUTHENTICATED);
    return true;
  });
});
