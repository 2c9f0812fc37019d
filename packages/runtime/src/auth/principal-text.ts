/**
 * Characters a principal id (JWT `sub`, roles, API-key name, certificate CN) must not hold, because they would forge
 * or hide lines in logs and terminals: C0 controls (NUL, TAB, CR, LF, ESC of ANSI escapes), DEL, C1 controls (CSI),
 * the Unicode line and paragraph separators, and bidirectional overrides and isolates.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

/**
 * The first character of `text` that a principal must not hold, written as `U+001B`, or `undefined` when there is
 * none.
 * @example unsafePrincipalCharacter('ada\r\nforged') // 'U+000D'
 */
export function unsafePrincipalCharacter(text: string): string | undefined {
  const match = UNSAFE.exec(text);
  return match ? `U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}

/**
 * `text` with every character {@link unsafePrincipalCharacter} would name replaced by U+FFFD, for one log line that
 * cannot be split or recoloured.
 * @example printableText('ada\r\nforged') // 'ada\uFFFD\uFFFDforged'
 */
export function printableText(text: string): string {
  return text.replace(UNSAFE_ALL, '\uFFFD');
}
