import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EnvReferenceError,
  expandEnvReferences,
  parseEnvReferences,
  replaceEnvReferences,
  substituteService,
  truncateUtf8,
  wholeEnvReference,
} from '../../packages/runtime/src/vocabulary.ts';

const missing = (name: string) => new Error(`${name} is not set`);

describe('the vocabulary: ${VAR} references', () => {
  test('parse finds every reference in order, with its default and its text', () => {
    assert.deepEqual(parseEnvReferences('${HOST}:${PORT:-50051}/$x'), [
      { name: 'HOST', fallback: undefined, text: '${HOST}' },
      { name: 'PORT', fallback: '50051', text: '${PORT:-50051}' },
    ]);
    assert.deepEqual(parseEnvReferences('dns:///a:1'), []);
    assert.deepEqual(parseEnvReferences('${A:-}'), [{ name: 'A', fallback: '', text: '${A:-}' }]);
  });

  test('a whole reference is the value and nothing else', () => {
    assert.deepEqual(wholeEnvReference('${ADDR:-dns:///a:1}'), {
      name: 'ADDR',
      fallback: 'dns:///a:1',
      text: '${ADDR:-dns:///a:1}',
    });
    assert.equal(wholeEnvReference('${HOST}:1'), undefined);
    assert.equal(wholeEnvReference('plain'), undefined);
  });

  test('expand reads set, non-empty variables and falls back to the default, as shells do', () => {
    assert.equal(expandEnvReferences('${HOST}:${PORT:-50051}', { HOST: 'h' }, missing), 'h:50051');
    assert.equal(expandEnvReferences('${PORT:-50051}', { PORT: '' }, missing), '50051');
    assert.throws(() => expandEnvReferences('${ADDR}', {}, missing), /^Error: ADDR is not set$/);
    assert.equal(
      replaceEnvReferences('a${B}c${D:-e}', (reference) => `<${reference.name}>`),
      'a<B>c<D>',
    );
  });

  test('a malformed reference is an error that quotes it and says what fits', () => {
    for (const [value, reference] of [
      ['${HOST', '${HOST'],
      ['a${1X}b', '${1X}'],
      ['${}', '${}'],
      ['${A-b}', '${A-b}'],
    ] as const) {
      assert.throws(
        () => parseEnvReferences(value),
        (error: unknown) =>
          error instanceof EnvReferenceError &&
          error.reference === reference &&
          error.message ===
            `"${reference}" is not a variable reference (expected \${NAME} or \${NAME:-default}, NAME of letters, digits and _ not starting with a digit)`,
      );
    }
  });

  test('${SERVICE} is the service name; other references stay', () => {
    assert.equal(substituteService('certs/${SERVICE}.pem', 'auth'), 'certs/auth.pem');
    assert.equal(substituteService('${DIR}/${SERVICE}/${SERVICE}.key', 'a'), '${DIR}/a/a.key');
  });
});

describe('the vocabulary: stored text bounds', () => {
  test('truncateUtf8 keeps at most maxBytes of UTF-8 and never splits a character', () => {
    const table: [text: string, maxBytes: number, expected: string][] = [
      ['short', 256, 'short'],
      ['abcdef', 4, 'abcd'],
      // é is 2 bytes, € 3, 😀 4 (a surrogate pair).
      ['éé', 3, 'é'],
      ['a€', 3, 'a'],
      ['a€', 4, 'a€'],
      ['😀😀', 7, '😀'],
      ['😀😀', 8, '😀😀'],
      // A lone surrogate becomes U+FFFD (3 bytes) when encoded.
      ['\ud83dab', 4, '\ud83da'],
      ['', 0, ''],
      ['x', 0, ''],
    ];
    for (const [text, maxBytes, expected] of table) {
      const cut = truncateUtf8(text, maxBytes);
      assert.equal(cut, expected, `${JSON.stringify(text)} in ${maxBytes} bytes`);
      assert.ok(Buffer.byteLength(cut) <= maxBytes);
    }
  });
});
