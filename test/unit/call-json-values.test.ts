import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonValueSplitter, jsonValuesOf } from '../../src/call/json-values.ts';

// How `grpcforge call -d -` cuts stdin into messages: values as grpcurl reads them, each as soon as it is complete.

test('values end at their closing bracket, quote or the whitespace after a bare number, whatever the chunks', async () => {
  const text = '{"a":"}{\\\\"}\n[1,[2]] "x\\"y" 12 true{"b":{"c":[]}}\t-3.5e2';
  const expected = ['{"a":"}{\\\\"}', '[1,[2]]', '"x\\"y"', '12', 'true', '{"b":{"c":[]}}', '-3.5e2'];
  const whole = new JsonValueSplitter();
  assert.deepEqual([...whole.push(text), ...whole.end()], expected);
  // One character at a time: the same values, and each one out as its last character goes in.
  const splitter = new JsonValueSplitter();
  const seen: string[] = [];
  for (const char of text) {
    const done = splitter.push(char);
    seen.push(...done);
    for (const value of done) assert.ok(value.endsWith(char) || /[\s{["]/.test(char), `${value} came out at "${char}"`);
  }
  seen.push(...splitter.end());
  assert.deepEqual(seen, expected);
  const values: string[] = [];
  for await (const value of jsonValuesOf(['{"a":', '1}{', '"a":2}\n'])) values.push(value);
  assert.deepEqual(values, ['{"a":1}', '{"a":2}']);
});

test('text that is not JSON still comes out, for the parser to reject: a stray bracket, an unfinished value', () => {
  const splitter = new JsonValueSplitter();
  assert.deepEqual(splitter.push('} {"a":1} {"b":'), ['}', '{"a":1}']);
  assert.deepEqual(splitter.end(), ['{"b":']);
  assert.deepEqual(splitter.end(), []);
});
