import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ClientError,
  DomainError,
  Status,
  defineService,
  startServer,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { AuthServiceDefinition } from '../../fixtures/codegen/error-catalog/expected/services/auth/src/gen/pb/auth/v1/auth.ts';
import { authErrors } from '../../fixtures/codegen/error-catalog/expected/services/auth/src/gen/errors/auth.v1.AuthErrorReason.ts';
import { tokenErrors } from '../../fixtures/codegen/error-catalog/expected/services/auth/src/gen/errors/auth.v1.Session.TokenErrorReason.ts';
import { createAuthServiceClient } from '../../fixtures/codegen/error-catalog/expected/services/gateway/src/gen/clients/auth.v1.AuthService.ts';
import {
  authErrorReasons,
  isAccountLocked,
  isInvalidCredentials,
  isLoginDisabled,
} from '../../fixtures/codegen/error-catalog/expected/services/gateway/src/gen/errors/auth.v1.AuthErrorReason.ts';
import { isExpired } from '../../fixtures/codegen/error-catalog/expected/services/gateway/src/gen/errors/auth.v1.Session.TokenErrorReason.ts';
import { repoRoot } from '../helpers/workspace.ts';

/** What a call rejected with (the test fails when it resolves). */
async function rejection(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  assert.fail('the call succeeded; expected an error');
}

// The golden error-catalog case end to end: auth's handlers throw with the generated constructors, a real server maps
// them to google.rpc.Status with ErrorInfo, gateway's generated client decodes it and the generated guards narrow it.
describe('golden error-catalog: a declared reason from handler to consumer', () => {
  let server: RunningServer;
  let client: ReturnType<typeof createAuthServiceClient>;

  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      services: [
        defineService(AuthServiceDefinition, {
          login: async (request) => {
            if (request.username === 'locked') throw authErrors.accountLocked({ username: request.username, unlockTime: 1700 });
            if (request.username === 'disabled') throw authErrors.loginDisabled('logins are off for maintenance');
            if (request.username === 'foreign') {
              // The same reason in another domain: not auth.v1's INVALID_CREDENTIALS.
              throw new DomainError(Status.UNAUTHENTICATED, 'no', {
                details: { errorInfo: { reason: 'INVALID_CREDENTIALS', domain: 'other.v1', metadata: { username: 'x' } } },
              });
            }
            if (request.password !== 'secret') throw authErrors.invalidCredentials({ username: request.username });
            return { token: 't1' };
          },
          refresh: async () => {
            throw tokenErrors.expired({ expireTime: '2024-01-01T00:00:00Z' });
          },
        }),
      ],
      health: false,
      reflection: false,
    });
    client = createAuthServiceClient({ target: server.address, retry: false });
  });

  after(() => server.shutdown(1000));

  test('a constructor answers its declared code, default message and ErrorInfo; the guard narrows to typed metadata', async () => {
    const error = await rejection(client.login({ username: 'ada', password: 'wrong' }));
    assert.ok(isInvalidCredentials(error), `not narrowed: ${String(error)}`);
    // Compiles only because the guard narrowed: metadata.username is a string, not string | undefined.
    const username: string = error.errorDetails.errorInfo.metadata.username;
    assert.equal(username, 'ada');
    assert.equal(error.code, Status.UNAUTHENTICATED);
    assert.equal(error.details, 'invalid username or password');
    assert.equal(error.reason, 'INVALID_CREDENTIALS');
    assert.deepEqual(error.errorDetails.errorInfo, {
      reason: 'INVALID_CREDENTIALS',
      domain: 'auth.v1',
      metadata: { username: 'ada' },
    });
    assert.equal(isAccountLocked(error), false);
    assert.equal(isLoginDisabled(error), false);
    assert.equal(authErrorReasons.INVALID_CREDENTIALS, Status[error.code]);
  });

  test('metadata values are sent as strings; a message given to the constructor replaces the default', async () => {
    const locked = await rejection(client.login({ username: 'locked', password: '' }));
    assert.ok(isAccountLocked(locked));
    assert.equal(locked.code, Status.PERMISSION_DENIED);
    assert.deepEqual(locked.errorDetails.errorInfo.metadata, { username: 'locked', unlockTime: '1700' });

    const disabled = await rejection(client.login({ username: 'disabled', password: '' }));
    assert.ok(isLoginDisabled(disabled));
    assert.equal(disabled.code, Status.FAILED_PRECONDITION);
    assert.equal(disabled.details, 'logins are off for maintenance');
  });

  test('a catalog with its own domain: the guard checks that domain', async () => {
    const error = await rejection(client.refresh({ token: 't1' }));
    assert.ok(isExpired(error));
    assert.equal(error.errorDetails.errorInfo.domain, 'sessions.example.com');
    assert.equal(error.errorDetails.errorInfo.metadata.expireTime, '2024-01-01T00:00:00Z');
  });

  test('guards check the domain as well as the reason, and refuse anything that is not a RichClientError', async () => {
    const foreign = await rejection(client.login({ username: 'foreign', password: '' }));
    assert.ok(foreign instanceof ClientError);
    assert.equal((foreign as { reason?: string }).reason, 'INVALID_CREDENTIALS');
    assert.equal(isInvalidCredentials(foreign), false);
    assert.equal(isInvalidCredentials(new ClientError('/auth.v1.AuthService/Login', Status.UNAUTHENTICATED, 'x')), false);
    assert.equal(isInvalidCredentials(authErrors.invalidCredentials({ username: 'ada' })), false); // the server's side
    assert.equal(isInvalidCredentials(undefined), false);
  });
});

test('golden error-catalog: its grpcforge/v1/errors.proto is the one workspaces get (templates/vendor)', async () => {
  const path = 'grpcforge/v1/errors.proto';
  assert.equal(
    await readFile(join(repoRoot, 'fixtures/codegen/error-catalog/proto', path), 'utf8'),
    await readFile(join(repoRoot, 'templates/vendor', path), 'utf8'),
    `fixtures/codegen/error-catalog/proto/${path} differs from templates/vendor/${path}: copy it again`,
  );
});
