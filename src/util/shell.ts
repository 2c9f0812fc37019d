/** Characters a POSIX shell never treats specially inside a word. */
const SAFE_WORD = /^[\w@%+=:,./-]+$/;

/**
 * Quotes one argument for a POSIX shell (sh, bash, zsh), so a printed command can be pasted and runs with exactly
 * this argument: as it is when it holds only safe characters (letters, digits, `@%+=:,./-_`), else in single quotes,
 * a single quote inside written as `'\''`. The empty string is `''`.
 */
export function shellQuote(arg: string): string {
  return SAFE_WORD.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line a POSIX shell splits back into exactly `words`: each one {@link shellQuote}d, joined by spaces. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
