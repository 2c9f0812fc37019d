import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colourEnabled, paint, paintColumn, statusStyle } from '../../src/cli/output/colour.ts';
import { formatTable } from '../../src/cli/output/table.ts';

const tty = { isTTY: true };
const pipe = { isTTY: false };

test('colour on a terminal only, unless FORCE_COLOR; NO_COLOR, TERM=dumb and NODE_DISABLE_COLORS turn it off', () => {
  assert.equal(colourEnabled(tty, {}), true);
  assert.equal(colourEnabled(pipe, {}), false);
  assert.equal(colourEnabled({}, {}), false);
  assert.equal(colourEnabled(pipe, { FORCE_COLOR: '1' }), true);
  assert.equal(colourEnabled(pipe, { FORCE_COLOR: '' }), true);
  assert.equal(colourEnabled(tty, { FORCE_COLOR: '0' }), false);
  assert.equal(colourEnabled(tty, { FORCE_COLOR: 'false' }), false);
  assert.equal(colourEnabled(tty, { NO_COLOR: '1' }), false);
  assert.equal(colourEnabled(tty, { NO_COLOR: '' }), true, 'an empty NO_COLOR is not set (no-color.org)');
  assert.equal(colourEnabled(pipe, { NO_COLOR: '1', FORCE_COLOR: '1' }), false, 'NO_COLOR wins');
  assert.equal(colourEnabled(tty, { TERM: 'dumb' }), false);
  assert.equal(colourEnabled(tty, { TERM: 'dumb', FORCE_COLOR: '1' }), true);
  assert.equal(colourEnabled(tty, { NODE_DISABLE_COLORS: '1' }), false);
});

test('paint wraps in SGR codes only when enabled', () => {
  assert.equal(paint('red', 'error', true), '\u001b[31merror\u001b[39m');
  assert.equal(paint('red', 'error', false), 'error');
  assert.equal(paint('green', '', true), '');
});

test('paintColumn colours one column of a table and keeps the alignment of the visible text', () => {
  const columns = ['METHOD', 'STATUS', 'MS'];
  const rows = [
    ['a.v1.A/Get', 'OK', 3],
    ['a.v1.A/List', 'NOT_FOUND', 12],
  ];
  const plain = formatTable(columns, rows);
  const painted = paintColumn(plain, columns, 1, ['OK', 'NOT_FOUND'], statusStyle, true);
  assert.equal(painted[0], plain[0]);
  assert.equal(painted[1], plain[1]!.replace('OK', '\u001b[32mOK\u001b[39m'));
  assert.equal(painted[2], plain[2]!.replace('NOT_FOUND', '\u001b[31mNOT_FOUND\u001b[39m'));
  assert.equal(
    painted.map((line) => line.replaceAll(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g'), '')).join('\n'),
    plain.join('\n'),
  );
  assert.deepEqual(paintColumn(plain, columns, 1, ['OK', 'NOT_FOUND'], statusStyle, false), plain);
  // A label that also ends an earlier one (MS in P50 MS) is found after the earlier columns.
  const latency = formatTable(['P50 MS', 'MS'], [['x', 'y']]);
  assert.equal(paintColumn(latency, ['P50 MS', 'MS'], 1, ['y'], () => 'bold', true)[1], 'x       \u001b[1my\u001b[22m');
});
