/** Query parameters of a libpq URL that hold secrets. */
const SECRET_PARAMETERS = ['password', 'sslpassword', 'sslkey'];

/**
 * A store URL fit for messages: the password of a `postgres://` URL (in its user info or its query) as `***`;
 * any other text unchanged. A URL that does not parse is named by its scheme only, since it may hide a password
 * where a parser would not look.
 */
export function redactConnectionString(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url.slice(0, url.indexOf('://') + 3)}…`;
  }
  if (parsed.password) parsed.password = '***';
  for (const name of SECRET_PARAMETERS) if (parsed.searchParams.has(name)) parsed.searchParams.set(name, '***');
  return parsed.toString();
}
