import type { ServerHttp2Stream } from 'node:http2';

/** Streams answered before grpc-js saw them whose calls are counted, not stored (see {@link markUnstored}). */
const unstored = new WeakSet<ServerHttp2Stream>();

/**
 * Marks a stream a defence answered and counted itself (a throttled guess), so the call accounting does not store a
 * row for it.
 */
export function markUnstored(stream: ServerHttp2Stream): void {
  unstored.add(stream);
}

/** Whether {@link markUnstored} marked `stream`. */
export function isUnstored(stream: ServerHttp2Stream): boolean {
  return unstored.has(stream);
}
