import { posix } from 'node:path';

/** Fields every generated file's header partial reads. */
export interface HeaderView {
  /** The `.proto` files the file was generated from, sorted. */
  readonly sources: readonly string[];
  /** Another generator that wrote the body (ts-proto), with its version when versions are annotated; else ''. */
  readonly via: string;
  /** grpcforge's version, or '' when `codegen.annotateVersion` is off (goldens, committed code). */
  readonly version: string;
}

/** A relative ESM import specifier from one workspace file to another `.ts` file, with the `.js` suffix NodeNext wants. */
export function importSpecifier(fromFile: string, toFile: string): string {
  const relative = posix.relative(posix.dirname(fromFile), toFile).replace(/\.ts$/, '.js');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

/** A proto comment as JSDoc lines (each starting with a space when not empty), safe inside a block comment. */
export function commentLines(comment: string): string[] {
  if (!comment) return [];
  return comment
    .replace(/\*\//g, '*\\/')
    .split('\n')
    .map((line) => (line ? ` ${line}` : ''));
}

/** Words of `text` as lines of at most `width` characters (a longer word stands alone), for JSDoc. */
export function wrapText(text: string, width = 112): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** A TypeScript single-quoted string literal. */
export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Lower-cases the first letter: `AuthService` → `authService`. */
export function lowerFirst(value: string): string {
  return value.charAt(0).toLowerCase() + value.slice(1);
}
