/**
 * Colour for people, plain text for programs. Whether a stream gets ANSI colour is decided here, once per stream, the
 * same way on Node 20, 22 and 24 (Node 20's `util.styleText` checks neither the stream nor the environment, and from
 * Node 22.13 it checks only `process.stdout` by default, so neither fits stdout and stderr decided separately):
 *
 * 1. `NO_COLOR` set to anything but the empty string: no colour (https://no-color.org), even with `FORCE_COLOR`. A
 *    user's explicit opt-out wins over `FORCE_COLOR`, which tool runners often set for every child they start.
 * 2. `FORCE_COLOR`: `0` or `false` means no colour; any other value (also empty) means colour, even when piped.
 * 3. `NODE_DISABLE_COLORS` set, or `TERM=dumb`: no colour.
 * 4. Otherwise colour only when the stream is a terminal.
 */

/** The styles grpcforge uses: few, and each with one meaning. */
export type Style = 'red' | 'green' | 'yellow' | 'bold' | 'dim';

// SGR codes: [on, off]. The off codes reset only what the style set, so styles nest.
const CODES: Record<Style, readonly [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  bold: [1, 22],
  dim: [2, 22],
};

/** The part of a stream that decides colour (a `tty.WriteStream` has `isTTY: true`). */
export interface ColourTarget {
  readonly isTTY?: boolean;
}

/**
 * Whether text written to `stream` should carry ANSI colour (the rules at the top of this module).
 * @param env the environment to read. @defaultValue process.env
 */
export function colourEnabled(stream: ColourTarget, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NODE_DISABLE_COLORS !== undefined || env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/**
 * `text` in `style` when `enabled`, else `text` unchanged.
 * @example paint('red', 'error', true) // '\u001b[31merror\u001b[39m'
 */
export function paint(style: Style, text: string, enabled: boolean): string {
  if (!enabled || text === '') return text;
  const [on, off] = CODES[style];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

/** The style of a gRPC status name in tables: green for OK, red for the rest. */
export const statusStyle = (status: string): Style => (status === 'OK' ? 'green' : 'red');

/**
 * Paints one left-aligned column of a table made by `formatTable` (header line first, cells joined by two spaces):
 * the column starts where its header label starts, and each cell's text is known from `cells`.
 * @param columns the table's header labels; `column` is an index into them.
 * @param cells the column's cell of each data row, in order (as printed, before padding).
 * @param styleOf the style of a cell, or undefined to leave it plain.
 */
export function paintColumn(
  lines: readonly string[],
  columns: readonly string[],
  column: number,
  cells: readonly string[],
  styleOf: (cell: string) => Style | undefined,
  enabled: boolean,
): string[] {
  if (!enabled) return [...lines];
  const header = lines[0] ?? '';
  let start = 0;
  for (let index = 0; index <= column && start >= 0; index++) {
    start = header.indexOf(columns[index] ?? '', start);
    if (index < column && start >= 0) start += (columns[index] ?? '').length;
  }
  if (start < 0) return [...lines];
  return lines.map((line, index) => {
    const cell = index === 0 ? undefined : cells[index - 1];
    const style = cell === undefined ? undefined : styleOf(cell);
    if (cell === undefined || style === undefined || line.slice(start, start + cell.length) !== cell) return line;
    return line.slice(0, start) + paint(style, cell, true) + line.slice(start + cell.length);
  });
}
