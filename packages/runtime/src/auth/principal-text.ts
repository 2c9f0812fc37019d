/**
 * The most characters (UTF-16 code units) a principal id may have: a JWT `sub`, a certificate's SPIFFE ID or CN. A
 * longer one is refused when the credential is verified (UNAUTHENTICATED), so that no caller can make the log store,
 * the dashboard or an operator's terminal carry kilobytes per call under its name. 256 holds any real subject: an
 * OIDC `sub` is at most 255 ASCII characters (OpenID Connect Core §2), an X.509 CN at most 64 (RFC 5280's
 * ub-common-name), SPIFFE IDs in practice a few dozen.
 */
export const MAX_PRINCIPAL_ID_LENGTH = 256;

/**
 * Why `id` is too long to be a principal's id ({@link MAX_PRINCIPAL_ID_LENGTH}), or `undefined` when it is not.
 * @param what names it in the reason, for example `sub`.
 * @example principalIdTooLong('x'.repeat(4000), 'sub') // 'sub is 4000 characters, more than the 256 a principal id may have'
 */
export function principalIdTooLong(id: string, what: string): string | undefined {
  return id.length > MAX_PRINCIPAL_ID_LENGTH
    ? `${what} is ${id.length} characters, more than the ${MAX_PRINCIPAL_ID_LENGTH} a principal id may have`
    : undefined;
}

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
