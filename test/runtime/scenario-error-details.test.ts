import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ClientError,
  Status,
  closeServiceClient,
  createScenarioHandlers,
  createServiceClient,
  isRichClientError,
  startStub,
  type Scenario,
} from '../../packages/runtime/src/index.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';

// Scenario stubs answering with the rich error model: `error: { code, message, reason, domain, metadata, details }`
// becomes grpc-status-details-bin, which the runtime's client decodes; a wrong shape fails when the scenario loads.

const VIOLATION = { field: 'text', description: 'value length must be at least 3 characters', reason: 'string.min_len' };

const SCENARIO: Scenario = {
  service: 'test.v1.EchoService',
  methods: {
    Echo: [
      {
        match: { text: 'ab' },
        error: {
          code: 'INVALID_ARGUMENT',
          message: `invalid request: text: ${VIOLATION.description}`,
          details: { badRequest: { fieldViolations: [VIOLATION] } },
        },
      },
      {
        match: { text: 'bob' },
        error: {
          code: 'UNAUTHENTICATED',
          message: 'wrong username or password',
          reason: 'INVALID_CREDENTIALS',
          metadata: { username: 'bob', attempts: 3 },
        },
      },
      {
        match: { text: 'busy' },
        sequence: [
          {
            error: {
              code: 14,
              reason: 'OVERLOADED',
              domain: 'echo.example.com',
              details: {
                retryInfo: { retryDelayMs: 250 },
                help: { links: [{ description: 'status page', url: 'https://status.example.com' }] },
              },
            },
          },
          { respond: { text: 'ok now' } },
        ],
      },
      { match: { text: 'plain' }, error: { code: 'NOT_FOUND', message: 'no such echo' } },
      { respond: { text: 'echo' } },
    ],
  },
};

interface EchoClient {
  echo(request: EchoMessage): Promise<EchoMessage>;
}

/** What a call failed with: its code, message and decoded details (undefined without any). */
async function failure(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ClientError, String(error));
    return {
      code: Status[error.code],
      message: error.details,
      details: isRichClientError(error) ? error.errorDetails : undefined,
    };
  }
  assert.fail('the call succeeded');
}

describe('scenario errors with details', () => {
  test('details, the reason shortcut (domain defaulting to the proto package) and sequences reach the client decoded', async () => {
    const stub = await startStub(EchoDefinition, createScenarioHandlers(EchoDefinition, SCENARIO) as never);
    const client = createServiceClient(EchoDefinition, { target: stub.address, retry: false }) as unknown as EchoClient;
    try {
      assert.deepEqual(await failure(client.echo({ text: 'ab' })), {
        code: 'INVALID_ARGUMENT',
        message: `invalid request: text: ${VIOLATION.description}`,
        details: { badRequest: { fieldViolations: [VIOLATION] } },
      });
      assert.deepEqual(await failure(client.echo({ text: 'bob' })), {
        code: 'UNAUTHENTICATED',
        message: 'wrong username or password',
        details: {
          errorInfo: { reason: 'INVALID_CREDENTIALS', domain: 'test.v1', metadata: { username: 'bob', attempts: '3' } },
        },
      });
      assert.deepEqual(await failure(client.echo({ text: 'busy' })), {
        code: 'UNAVAILABLE',
        message: '',
        details: {
          errorInfo: { reason: 'OVERLOADED', domain: 'echo.example.com', metadata: {} },
          retryInfo: { retryDelayMs: 250 },
          help: { links: [{ description: 'status page', url: 'https://status.example.com' }] },
        },
      });
      assert.deepEqual(await client.echo({ text: 'busy' }), { text: 'ok now' }, 'the sequence moves on');
      assert.deepEqual(await failure(client.echo({ text: 'plain' })), {
        code: 'NOT_FOUND',
        message: 'no such echo',
        details: undefined,
      });
      assert.deepEqual(await client.echo({ text: 'hello' }), { text: 'echo' });
    } finally {
      closeServiceClient(client);
      await stub.close();
    }
  });

  test('a wrong shape fails when the scenario loads, naming the rule and the value', () => {
    const load = (error: unknown, sequence = false) =>
      createScenarioHandlers(EchoDefinition, {
        methods: { Echo: [{ match: { text: 'x' } }, sequence ? { sequence: [{ error } as never] } : ({ error } as never)] },
      });
    const cases: [unknown, string][] = [
      [{ code: 'INVALID_ARGUMENT', details: { badRequest: {} } }, 'Echo[1].error.details.badRequest.fieldViolations: missing'],
      [
        { code: 3, details: { badRequest: { fieldViolations: [{ field: 'text', description: 7 }] } } },
        'Echo[1].error.details.badRequest.fieldViolations[0].description: expected a string, got number',
      ],
      [
        { code: 3, details: { badRequest: { fieldViolations: { field: 'text' } } } },
        'Echo[1].error.details.badRequest.fieldViolations: expected a list, got object',
      ],
      [
        { code: 3, details: { badRequests: [] } },
        'Echo[1].error.details: unknown key "badRequests" (expected errorInfo, badRequest, retryInfo, quotaFailure, ' +
          'preconditionFailure, resourceInfo, requestInfo, help, localizedMessage, debugInfo)',
      ],
      [
        { code: 14, details: { retryInfo: { retryDelayMs: '1s' } } },
        'Echo[1].error.details.retryInfo.retryDelayMs: expected a number of ms, 0 or more, got string',
      ],
      [{ code: 14, domain: 'x' }, 'Echo[1].error.reason: missing (an ErrorInfo with domain needs a reason)'],
      [
        { code: 7, reason: 'A', details: { errorInfo: { reason: 'B' } } },
        'Echo[1].error: reason and details.errorInfo both give the ErrorInfo: write one',
      ],
      [{ code: 7, reason: 'A', metadata: { nested: { no: 1 } } }, 'Echo[1].error.metadata.nested: expected a string, got object'],
      [{ code: 7, reson: 'A' }, 'Echo[1].error: unknown key "reson" (expected code, message, reason, domain, metadata, details)'],
      [{ message: 'no code' }, 'Echo[1].error.code: missing'],
      [{ code: 'NOPE' }, 'Echo[1].error.code: "NOPE" is not a gRPC status code'],
      ['NOT_FOUND', 'Echo[1].error: expected an object (code, message, reason, domain, metadata, details), got string'],
    ];
    for (const [error, message] of cases) {
      assert.throws(() => load(error), { message: `scenario: ${message}` }, JSON.stringify(error));
    }
    assert.throws(() => load({ code: 3, details: { help: { links: [{ url: 'x' }] } } }, true), {
      message: 'scenario: Echo[1].sequence[0].error.details.help.links[0].description: missing',
    });
  });
});
