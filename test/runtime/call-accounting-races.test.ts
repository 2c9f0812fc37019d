import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { defineService, startServer, Status, type CallRecord, type RunningServer } from '../../packages/runtime/src/index.ts';
import { repoRoot } from '../helpers/workspace.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';

// The races of issue 21 (item 5): a client that cancels a bidi call after its first response, or whose deadline passes
// while a client-streaming or bidi handler waits for input, ends its request stream and resets it in two writes. A
// server that reads the end alone sees a normal end of input and answers OK; the record must still say what the client
// saw. The client runs in its own process (as in production: in the server's process both writes are read together).

/** How many times each race runs: a count, not a time. */
const TRIALS = 50;
/** The deadline of the deadline races, in ms: long enough that a loaded host's latency is within its tolerance. */
const DEADLINE_MS = 200;

const run = promisify(execFile);

describe('call accounting under races', { timeout: 170_000 }, () => {
  const rows: CallRecord[] = [];
  let server: RunningServer;

  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      recordCall: (call) => rows.push(call),
      health: false,
      reflection: false,
      services: [
        defineService(EchoDefinition, {
          echo: async (request: EchoMessage) => ({ text: request.text ?? '' }),
          repeat: async function* () {},
          // Both wait for the client's input to end, then answer OK.
          collect: async (requests: AsyncIterable<EchoMessage>) => {
            let count = 0;
            for await (const request of requests) count += request.text === undefined ? 0 : 1;
            return { text: String(count) };
          },
          chat: async function* (requests: AsyncIterable<EchoMessage>) {
            for await (const request of requests) yield { text: request.text ?? '' };
          },
        }),
      ],
    });
  });

  after(async () => {
    await server.shutdown(1000);
  });

  /** Runs `mode` TRIALS times from another process; the codes the client saw and the rows of its races. */
  const race = async (mode: string, method: string, expected: string) => {
    const from = rows.length;
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/race-client.ts', server.address, mode, String(TRIALS), String(DEADLINE_MS)],
      { cwd: repoRoot },
    );
    const seen = JSON.parse(stdout) as Record<string, number>;
    // Every call is recorded once its stream closed: the warm-up call and each race.
    for (let i = 0; i < 500 && rows.length < from + TRIALS + 1; i++) await sleep(10);
    const races = rows.slice(from).filter((row) => row.method === method);
    const byStatus: Record<string, number> = {};
    for (const row of races) {
      const name = Status[row.statusCode] ?? String(row.statusCode);
      byStatus[name] = (byStatus[name] ?? 0) + 1;
    }
    const wrong = races.filter((row) => Status[row.statusCode] !== expected);
    return {
      seen,
      byStatus,
      wrong: JSON.stringify(wrong.map(({ statusCode, errorMessage, durationMs }) => ({ statusCode, errorMessage, durationMs }))),
    };
  };

  test(`bidi: the client aborts after the first response (cancel_after_first_response), ${TRIALS} times: every row CANCELLED`, async () => {
    const { seen, byStatus, wrong } = await race('cancel', 'Chat', 'CANCELLED');
    assert.deepEqual(seen, { OK: 1, CANCELLED: TRIALS }, 'what the clients saw');
    assert.deepEqual(byStatus, { CANCELLED: TRIALS }, wrong);
  });

  test(`bidi: the deadline passes while the handler waits for input, ${TRIALS} times: every row DEADLINE_EXCEEDED`, async () => {
    const { seen, byStatus, wrong } = await race('bidi-deadline', 'Chat', 'DEADLINE_EXCEEDED');
    assert.deepEqual(seen, { OK: 1, DEADLINE_EXCEEDED: TRIALS }, 'what the clients saw');
    assert.deepEqual(byStatus, { DEADLINE_EXCEEDED: TRIALS }, wrong);
  });

  test(`client streaming: the deadline passes while the handler waits for input, ${TRIALS} times: every row DEADLINE_EXCEEDED`, async () => {
    const { seen, byStatus, wrong } = await race('client-deadline', 'Collect', 'DEADLINE_EXCEEDED');
    assert.deepEqual(seen, { OK: 1, DEADLINE_EXCEEDED: TRIALS }, 'what the clients saw');
    assert.deepEqual(byStatus, { DEADLINE_EXCEEDED: TRIALS }, wrong);
  });
});
