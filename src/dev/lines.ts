import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Calls `onLine` with every line of a stream (without its line ending), as it arrives. */
export function forEachLine(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}
