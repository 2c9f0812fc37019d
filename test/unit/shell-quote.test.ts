import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { shellCommand, shellQuote } from '../../src/util/shell.ts';

// Commands grpcforge prints (the demo's echo) are pasted into a shell: bash must split them back into the same words.

describe('shell quoting', () => {
  test('safe words stay as they are; others are single-quoted', () => {
    assert.deepEqual(['generate', '127.0.0.1:50051', 'http://h/a.v1.S/M', '', '{}', 'a b', "it's"].map(shellQuote), [
      'generate',
      '127.0.0.1:50051',
      'http://h/a.v1.S/M',
      "''",
      "'{}'",
      "'a b'",
      `'it'\\''s'`,
    ]);
  });

  test('bash splits a printed command back into exactly its words', () => {
    const words = [
      'curl',
      '-d',
      '{"username":"ada","password":"demo"}',
      '-H',
      'authorization: Bearer abc.def',
      "it's $HOME `x` \\ ! * ? [a] ~ #c",
      '',
      'line\nbreak',
    ];
    const result = spawnSync('bash', ['-c', `printf '%s\\0' ${shellCommand(words)}`], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\0').slice(0, -1), words);
  });
});
