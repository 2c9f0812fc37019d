/**
 * Splits a stream of JSON text into its top-level values as they complete, as grpcurl reads `-d @`: values follow
 * each other separated by whitespace or nothing (`{"a":1}{"a":2}`, JSON lines, pretty-printed objects). It finds
 * where each value ends (brackets outside strings, string escapes, the end of a bare number or literal) and leaves
 * the parsing to the caller, so it never loses a 64-bit integer. Text that is not JSON still comes out in pieces,
 * for the caller's parser to reject with its message.
 */
export class JsonValueSplitter {
  /** The text of the value under way (its first character onward). */
  private current = '';
  /** Open brackets of the value under way. */
  private depth = 0;
  /** Inside a string of the value under way (`"`-quoted), right after a backslash in it. */
  private inString = false;
  private escaped = false;
  /** The value under way is a bare number or literal (`1`, `true`), ended by whitespace or a bracket or quote. */
  private bare = false;

  /** Feeds the next piece of text; returns the values it completed, in order. */
  push(text: string): string[] {
    const values: string[] = [];
    for (const char of text) {
      if (this.current === '') {
        if (/\s/.test(char)) continue;
        this.begin(char);
        if (!this.bare && this.depth === 0 && !this.inString) values.push(this.take()); // a stray `]` or `}`
        continue;
      }
      if (this.bare) {
        if (/\s/.test(char) || '{["'.includes(char)) {
          values.push(this.take());
          if (!/\s/.test(char)) this.begin(char);
          continue;
        }
        this.current += char;
        continue;
      }
      this.current += char;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (char === '\\') this.escaped = true;
        else if (char === '"') {
          this.inString = false;
          if (this.depth === 0) values.push(this.take());
        }
      } else if (char === '"') this.inString = true;
      else if (char === '{' || char === '[') this.depth++;
      else if ((char === '}' || char === ']') && --this.depth === 0) values.push(this.take());
    }
    return values;
  }

  /** Ends the text: returns the value under way, if any (complete or not, for the caller's parser to judge). */
  end(): string[] {
    return this.current === '' ? [] : [this.take()];
  }

  private begin(char: string): void {
    this.current = char;
    this.inString = char === '"';
    this.depth = char === '{' || char === '[' ? 1 : 0;
    this.bare = !this.inString && this.depth === 0 && char !== '}' && char !== ']';
  }

  private take(): string {
    const value = this.current;
    this.current = '';
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.bare = false;
    return value;
  }
}

/**
 * The top-level JSON values of a text stream (see {@link JsonValueSplitter}), each yielded as soon as its last
 * character arrives.
 * @param chunks text in pieces of any size, for example stdin with `setEncoding('utf8')`.
 */
export async function* jsonValuesOf(chunks: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
  const splitter = new JsonValueSplitter();
  for await (const chunk of chunks) yield* splitter.push(chunk);
  yield* splitter.end();
}
