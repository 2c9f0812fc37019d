import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { AUTH, USER, registerInstance, storeWorkspace, withStore } from '../helpers/dashboard.ts';
import { runCli } from '../helpers/workspace.ts';
import { zeroDefenceCounts } from '../../packages/runtime/src/vocabulary.ts';

// `grpcforge status` over a store filled by hand: the running instances by default, earlier runs of a service on the
// same host and address folded into the newest (what `grpcforge dev`'s restarts leave), --all for the stopped ones.

interface StatusJson {
  instances: { id: string; state: string; restarts: number; defences: Record<string, number> }[];
}

describe('grpcforge status', () => {
  let ws: string;
  before(async () => {
    let storeUrl: string;
    ({ ws, storeUrl } = await storeWorkspace());
    const now = Date.now();
    await withStore(storeUrl, async (store) => {
      // Three runs of auth on one address, as dev leaves them: two stopped, the newest serving.
      for (const [index, id] of ['auth-1', 'auth-2', 'auth-3'].entries()) {
        await registerInstance(store, id, {
          address: '127.0.0.1:50051',
          pid: 100 + index,
          startedAt: now - 60_000 + index * 10_000,
          services: [AUTH],
        });
        await store.instances.heartbeat(
          id,
          id === 'auth-3' ? undefined : 'stopped',
          id === 'auth-3'
            ? { ...zeroDefenceCounts(), connectionsRefused: 3, tlsHandshakeFailures: 1, streamsReset: 120 }
            : undefined,
        );
      }
      // user stopped on its address; a second auth replica elsewhere, killed a minute ago (unresponsive, listed),
      // and one killed three days ago (unresponsive too long: gone).
      await registerInstance(store, 'user-1', {
        service: 'user',
        address: '127.0.0.1:50052',
        pid: 200,
        startedAt: now - 45_000,
        services: [USER],
      });
      await store.instances.heartbeat('user-1', 'stopped');
      await registerInstance(store, 'auth-killed', {
        address: '127.0.0.1:50061',
        pid: 300,
        startedAt: now - 60_000,
        services: [AUTH],
      });
      await registerInstance(store, 'auth-ancient', {
        address: '127.0.0.1:50062',
        pid: 400,
        startedAt: now - 3 * 86_400_000,
        services: [AUTH],
      });
    });
  });

  test('lists the running instances, earlier runs folded into the newest, and says how many it left out', () => {
    const json = runCli(['status', '--json'], ws);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      (JSON.parse(json.stdout) as StatusJson).instances.map(({ id, state, restarts }) => [id, state, restarts]),
      [
        ['auth-3', 'serving', 2],
        ['auth-killed', 'unresponsive', 0],
      ],
    );
    const text = runCli(['status'], ws);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^SERVICE +STATUS +ADDRESS +PID +HOST +UPTIME +HEARTBEAT +RESTARTS +CALLS +DROPPED$/m);
    assert.match(text.stdout, /^auth +serving +127\.0\.0\.1:50051 +102 +ci +\S+ +\S+ ago +2 +0 +0$/m);
    assert.doesNotMatch(text.stdout, /50052|50062|\b10[01]\b/);
    // The defences that acted, under the table, one line per instance that has any.
    const lines = text.stdout.split('\n').filter((line) => line.includes('defences:'));
    assert.deepEqual(lines, [
      'auth 127.0.0.1:50051 defences: 3 connections refused, 1 TLS handshake failures, 120 streams reset',
    ]);
    const [newest, killed] = (JSON.parse(json.stdout) as StatusJson).instances;
    assert.deepEqual(newest?.defences, {
      connectionsRefused: 3,
      handshakeTimeouts: 0,
      headerTimeouts: 0,
      tlsHandshakeFailures: 1,
      rapidResetGoaways: 0,
      streamsReset: 120,
      authThrottled: 0,
    });
    assert.deepEqual(killed?.defences, zeroDefenceCounts());
    assert.equal(text.stderr, '2 stopped instances not shown (--all lists them)\n');
  });

  test('--all lists the stopped ones too, still folded', () => {
    const all = runCli(['status', '--all', '--json'], ws);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(
      (JSON.parse(all.stdout) as StatusJson).instances.map(({ id, restarts }) => [id, restarts]),
      [
        ['auth-3', 2],
        ['user-1', 0],
        ['auth-killed', 0],
        ['auth-ancient', 0],
      ],
    );
    const text = runCli(['status', '--all'], ws);
    assert.equal(text.stderr, '');
    assert.match(text.stdout, /^user +stopped +127\.0\.0\.1:50052 /m);
  });

  test('--help says what is listed', () => {
    const help = runCli(['status', '--help'], ws);
    assert.match(help.stdout, /--all +also the stopped instances/);
    assert.match(help.stdout, /restarts/i);
  });
});
