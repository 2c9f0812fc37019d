import { readFile } from 'node:fs/promises';
import {
  EnvReferenceError,
  expandEnvReferences,
  parseEnvReferences,
  type EnvironmentValues,
} from '@grpcforge/runtime/vocabulary';
import { UserError, errorMessage } from '../util/errors.js';
import { shellQuote } from '../util/shell.js';

/** One metadata entry of a call. */
export interface CallHeader {
  /** Lower-cased, as gRPC metadata names are. */
  readonly name: string;
  readonly value: string;
}

/** gRPC's metadata names: lower-case letters, digits, `-`, `_` and `.` (PROTOCOL-HTTP2.md, Custom-Metadata). */
const HEADER_NAME = /^[0-9a-z_.-]+$/;

/**
 * The metadata of `grpcforge call` from its `-H` flags, in order. A flag is `name: value`, or `@PATH`: a file of
 * `name: value` lines, blank lines and lines starting with `#` skipped, as buf curl's `-H @file` reads it. In values,
 * `${VAR}` and `${VAR:-default}` are read from `env` (the syntax of grpcforge.yaml's values), so that neither a
 * command line nor a file needs to hold a secret: `-H 'authorization: Bearer ${TOKEN}'` in single quotes reaches
 * grpcforge unexpanded, and `ps` shows the reference, not the token.
 * @throws UserError `bad-flag` for a `-H name: value` without a colon, a name gRPC does not allow, or a reference to a
 *   variable that is unset or empty; `bad-header-file` for an `@PATH` that cannot be read, or a line of it that is
 *   not `name: value`, with `PATH:LINE`. Messages never quote a value (it may be a credential), only names.
 */
export async function readCallHeaders(flags: readonly string[], env: EnvironmentValues): Promise<CallHeader[]> {
  const headers: CallHeader[] = [];
  for (const flag of flags) {
    if (!flag.startsWith('@')) {
      headers.push(parseHeader(flag, env, (message) => new UserError('bad-flag', `-H: ${message}`), flag));
      continue;
    }
    const path = flag.slice(1);
    const text = await readFile(path, 'utf8').catch((error: unknown) => {
      throw new UserError('bad-header-file', `-H @${path}: cannot read ${path}: ${errorMessage(error)}`);
    });
    for (const [index, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const problem = (message: string) => new UserError('bad-header-file', `${path}:${index + 1}: ${message}`);
      headers.push(parseHeader(line, env, problem));
    }
  }
  return headers;
}

/**
 * One `name: value` header, its value's references expanded.
 * @param quotable the header as given on the command line, quoted when it has no colon (the existing message); a line
 *   of a file is never quoted, since a line without a colon may be a bare token.
 */
function parseHeader(
  header: string,
  env: EnvironmentValues,
  problem: (message: string) => UserError,
  quotable?: string,
): CallHeader {
  const separator = header.indexOf(':');
  if (separator <= 0) {
    throw problem(quotable === undefined ? 'expected name: value' : `expected key:value, got "${quotable}"`);
  }
  const name = header.slice(0, separator).trim().toLowerCase();
  if (!HEADER_NAME.test(name)) {
    throw problem(`"${name}" is not a gRPC metadata name (lower-case letters, digits, "-", "_" and ".")`);
  }
  try {
    const value = expandEnvReferences(header.slice(separator + 1).trim(), env, (variable) =>
      problem(
        `header "${name}" reads \${${variable}}, which is not set in the environment (export it, or write \${${variable}:-default})`,
      ),
    );
    return { name, value };
  } catch (error) {
    if (error instanceof EnvReferenceError) throw problem(`header "${name}" ${error.redactedMessage}`);
    throw error;
  }
}

/**
 * A `-H` flag for a POSIX shell command line that does what grpcforge does with it: quoted as is, except that its
 * `${VAR}` references stay outside single quotes, so the shell reads them from the environment as grpcforge would
 * (for `--print-curl`: buf curl does not expand them itself). `@PATH` is passed on: buf curl reads the file too, but
 * sends the references in it as written.
 */
export function shellQuoteHeader(flag: string): string {
  let references;
  try {
    references = parseEnvReferences(flag);
  } catch {
    return shellQuote(flag);
  }
  if (flag.startsWith('@') || references.length === 0) return shellQuote(flag);
  const words: string[] = [];
  let from = 0;
  for (const reference of references) {
    const at = flag.indexOf(reference.text, from);
    if (at > from) words.push(shellQuote(flag.slice(from, at)));
    words.push(`"${reference.text.replace(/["\\`]/g, '\\$&')}"`);
    from = at + reference.text.length;
  }
  if (from < flag.length) words.push(shellQuote(flag.slice(from)));
  return words.join('');
}
