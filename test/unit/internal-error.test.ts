import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatInternalError } from '../../src/cli/output/internal-error.ts';
import { GRPCFORGE_ERROR_CODES, InternalError, UserError } from '../../src/util/errors.ts';
import { grpcforgeIssuesUrl, grpcforgeVersion, installedVersion } from '../../src/util/version.ts';

test('an InternalError prints with grpcforge, Node and grpc-js versions and asks for an issue with a link', () => {
  const grpcJs = installedVersion('@grpc/grpc-js');
  const issuesUrl = grpcforgeIssuesUrl();
  assert.ok(grpcJs && issuesUrl);
  assert.match(grpcJs, /^1\.\d+\.\d+$/);
  assert.match(issuesUrl, /^https:\/\/\S+\/issues$/);
  const error = new InternalError('planGeneration: "a.v1.A" is not in the contract', { cause: new Error('the cause') });
  const lines = formatInternalError(error, { grpcforge: grpcforgeVersion(), node: process.version, grpcJs, issuesUrl });
  assert.match(
    lines[0]!,
    /^grpcforge: internal error: InternalError: planGeneration: "a\.v1\.A" is not in the contract\n {4}at /,
  );
  assert.ok(lines.some((line) => line.startsWith('  caused by: Error: the cause')));
  assert.equal(lines.at(-2), `  grpcforge ${grpcforgeVersion()}, node ${process.version}, @grpc/grpc-js ${grpcJs}`);
  assert.equal(
    lines.at(-1),
    `  this is a bug in grpcforge: please report it at ${issuesUrl} with the command you ran and this output`,
  );
});

test('a thrown non-error still reads as a bug report, without a link when package.json has none', () => {
  assert.deepEqual(
    formatInternalError('boom', { grpcforge: '0.0.0', node: 'v22.0.0', grpcJs: undefined, issuesUrl: undefined }),
    [
      'grpcforge: internal error: boom',
      '  grpcforge 0.0.0, node v22.0.0, @grpc/grpc-js (not installed)',
      '  this is a bug in grpcforge: please report it with the command you ran and this output',
    ],
  );
});

test('error codes are a closed, documented set: internal for bugs, the rest for user errors', () => {
  assert.equal(new InternalError('x').code, 'internal');
  assert.equal(new UserError('bad-flag', 'x').code, 'bad-flag');
  // @ts-expect-error a code outside GRPCFORGE_ERROR_CODES and the host's codes does not compile
  assert.ok(new UserError('no-such-code', 'x'));
  // @ts-expect-error a user error is never `internal`
  assert.ok(new UserError('internal', 'x'));
  for (const [code, description] of Object.entries(GRPCFORGE_ERROR_CODES)) {
    assert.match(code, /^[a-z]+(-[a-z]+)*$/);
    assert.ok(description.length > 10, `${code} is described`);
  }
});
