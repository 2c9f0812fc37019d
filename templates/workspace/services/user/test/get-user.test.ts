import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Metadata, NotFoundError, Status, createHandlerContext } from '@grpcforge/runtime';
import { createServiceContext, type ServiceContext } from '../src/context.js';
import { startAuthServiceStub, type AuthServiceStub } from '../src/gen/stubs/auth.v1.AuthService.js';
import { getUser } from '../src/handlers/user.v1.UserService/get-user.js';
import { authHooks } from '../src/middleware/auth.js';

// user's own tests: auth is replaced by the generated in-process stub, which records the calls it gets, and the
// service context is built around the stub's client: no environment variables, no module-level state.
let stub: AuthServiceStub;
let serviceContext: ServiceContext;

before(async () => {
  stub = await startAuthServiceStub({
    validateToken: async (request) =>
      request.token === 'good-token'
        ? { valid: true, subject: 'ada', roles: ['user'] }
        : { valid: false, subject: '', roles: [] },
  });
  serviceContext = createServiceContext({ authService: stub.client });
});

after(async () => {
  await stub.close();
});

/** What auth's pipeline hands resolvePrincipal for a call with this bearer token. */
function hookCall(token: string) {
  return {
    method: '/user.v1.UserService/GetUser',
    metadata: Metadata({ authorization: `Bearer ${token}` }),
    peer: 'test',
    signal: new AbortController().signal,
    serviceContext,
  };
}

test('resolvePrincipal asks auth.v1.AuthService/ValidateToken whose the bearer token is', async () => {
  stub.reset();
  const principal = await authHooks.resolvePrincipal?.(hookCall('good-token'));
  assert.deepEqual(principal, { id: 'ada', kind: 'custom', roles: ['user'] });
  const calls = stub.callsTo('validateToken');
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.requests[0]?.token, 'good-token');
});

test('a token auth does not know resolves no caller (the policy then answers UNAUTHENTICATED)', async () => {
  assert.equal(await authHooks.resolvePrincipal?.(hookCall('stolen')), undefined);
});

test('GetUser answers with the user and who asked', async () => {
  const context = createHandlerContext({ serviceContext, principal: { id: 'ada', kind: 'custom', roles: ['user'] } });
  const response = await getUser({ id: 'u1' }, context);
  assert.equal(response.requestedBy, 'ada');
  assert.equal(response.user?.displayName, 'Ada Lovelace');
});

test('GetUser of an unknown id is NOT_FOUND', async () => {
  const context = createHandlerContext({ serviceContext, principal: { id: 'ada', kind: 'custom', roles: ['user'] } });
  await assert.rejects(getUser({ id: 'nobody' }, context), (error: unknown) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.status, Status.NOT_FOUND);
    return true;
  });
});
