/**
 * Control characters and the Unicode line, paragraph and bidirectional-override characters: what could move the
 * cursor, clear the screen, forge a line or reorder text when stored data (principals, error messages, method names
 * a client sent) is printed to a terminal. C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F, which holds the 8-bit CSI),
 * U+2028/U+2029, U+200E/U+200F, U+202A-U+202E and U+2066-U+2069.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` safe to print as one line of text output: every character of {@link UNSAFE} becomes a visible escape, as in
 * JavaScript source (`\n`, `\r`, `\t`, `\x1b` for other C0, DEL and C1 characters, `\u2028` for the others). Other
 * text, backslashes included, is unchanged. JSON output needs none of this: JSON.stringify escapes control
 * characters itself.
 * @example escapeText('ok\r\n\x1b[31mfake') === 'ok\\r\\n\\x1b[31mfake'
 */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const named = NAMED[char];
    if (named) return named;
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
