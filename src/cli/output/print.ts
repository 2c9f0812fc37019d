import { colourEnabled, paint, type Style } from './colour.js';

/** Where commands print: stdout for results, stderr for progress and diagnostics (so `--json` stays parseable). */
export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Progress and diagnostics. */
export const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Prints a value as stable, indented JSON on stdout. */
export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

let stdoutColour: boolean | undefined;
let stderrColour: boolean | undefined;

/** Whether stdout gets colour (a terminal, `NO_COLOR`, `FORCE_COLOR`: see colour.ts), decided once. */
export const colourOut = (): boolean => (stdoutColour ??= colourEnabled(process.stdout));

/** Whether stderr gets colour, decided once and apart from stdout (`grpcforge logs | less` still colours errors). */
export const colourErr = (): boolean => (stderrColour ??= colourEnabled(process.stderr));

/** `text` styled for stdout: plain when stdout gets no colour. */
export const styleOut = (style: Style, text: string): string => paint(style, text, colourOut());

/** `text` styled for stderr: plain when stderr gets no colour. */
export const styleErr = (style: Style, text: string): string => paint(style, text, colourErr());

/**
 * A diagnostic on stderr whose first word (up to the first `: `) is styled: `warning: …` in yellow, `grpcforge: …`
 * errors in red.
 */
export const errLabelled = (style: Style, line: string): void => {
  const end = line.indexOf(': ');
  err(end < 0 ? styleErr(style, line) : styleErr(style, line.slice(0, end + 1)) + line.slice(end + 1));
};
