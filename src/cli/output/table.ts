import { escapeText } from './escape.js';

/**
 * Renders rows as an aligned text table with a header line; numbers are right-aligned. Text cells are escaped
 * ({@link escapeText}): stored data never prints a raw control character, line break or ANSI escape.
 * @param columns header labels; each row has one cell per column.
 */
export function formatTable(columns: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] {
  const numeric = columns.map((_, index) => rows.length > 0 && rows.every((row) => typeof row[index] === 'number'));
  const cells = [
    columns.map(String),
    ...rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatNumber(cell) : escapeText(cell)))),
  ];
  const widths = columns.map((_, index) => Math.max(...cells.map((row) => (row[index] ?? '').length)));
  return cells.map((row) =>
    row
      .map((cell, index) => (numeric[index] ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!)))
      .join('  ')
      .trimEnd(),
  );
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
