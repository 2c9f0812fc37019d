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
