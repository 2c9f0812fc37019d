/**
 * How the log store keeps its rows bounded, whatever a client sends: the bucket of calls to methods a server does not
 * serve, and the length bound of each text a row stores. `grpcforge stats`, the dashboard and the Prometheus
 * exporter show the same buckets.
 */

/**
 * The service and method of a call to a path the server does not serve. Such a call is stored under
 * `<service>/_unknown` when the path's service part is a service the server serves, and `_unknown/_unknown`
 * otherwise, so no client can add more than one row per served service to `stats` (the path itself, truncated, is
 * kept in the row's `rawPath`). Not a valid proto identifier's usual spelling; a contract that names a service or
 * method `_unknown` shares the bucket's row.
 */
export const UNKNOWN_BUCKET = '_unknown';

/** What the {@link UNKNOWN_BUCKET} rows are, as `stats` and the dashboard note them. */
export const UNKNOWN_BUCKET_NOTE = 'calls to methods the server does not serve';

/**
 * The most bytes (UTF-8) the log store keeps of each text of a call; longer text is cut at a character boundary
 * ({@link truncateUtf8}), so a hostile client (a 16,000-character method path) or credential (a 4,000-character JWT
 * `sub`) cannot grow a row. Well above every real value: proto names, `apikey:`/`jwt:`/`mtls:` principals.
 */
export const STORED_TEXT_MAX_BYTES = {
  /** Fully-qualified service name. */
  service: 256,
  /** Method name. */
  method: 256,
  /**
   * The principal, `<kind>:<id>`: auth refuses an id of more than 256 characters at verification
   * (`MAX_PRINCIPAL_ID_LENGTH`), at most 768 bytes of UTF-8, so every principal the built-in authenticators verify is
   * stored whole; this cuts what a team's own authenticator returns beyond that.
   */
  principal: 1024,
  /** The raw `:path` of a call to a method not served. */
  rawPath: 256,
  /** The status message of a failed call (a handler's `ServerError` message may echo its input). */
  errorMessage: 2048,
  /**
   * The reason of an error's `errorInfo` detail: google.rpc.ErrorInfo asks for at most 63 characters of
   * `[A-Z][A-Z0-9_]+[A-Z0-9]`; this keeps one such reason whole and cuts what else a handler sets.
   */
  errorReason: 64,
  /** The field path of an error's first `badRequest` violation (protovalidate's, `items[2].name`). */
  violationField: 256,
} as const;

/**
 * `text` cut to at most `maxBytes` bytes of UTF-8, at a character (code point) boundary: never half of a surrogate
 * pair or of a multi-byte character. A lone surrogate counts 3 bytes, as the encoder's U+FFFD replaces it.
 * @returns `text` itself when it fits.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  // No UTF-16 code unit takes more than 3 bytes: most texts need no counting.
  if (text.length * 3 <= maxBytes) return text;
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    const pair = unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length && isLowSurrogate(text.charCodeAt(index + 1));
    const size = unit < 0x80 ? 1 : unit < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) return text.slice(0, index);
    bytes += size;
    if (pair) index++;
  }
  return text;
}

const isLowSurrogate = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;
