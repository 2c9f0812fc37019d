import type { Http2Session } from 'node:http2';

/** What identifies a TCP connection: a raw socket, or the TLS socket and HTTP/2 session over it, carry the same. */
interface ConnectionEnds {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

/**
 * The TCP 4-tuple of a connection (`remote|port|local|port`), the same for the raw socket a server accepts, the TLS
 * socket over it and the HTTP/2 session's socket (node:http2 hands out a proxy, never the raw socket, so identity
 * cannot link them); unique among a host's open connections. Undefined when the socket is already closed.
 */
export function connectionKey(ends: ConnectionEnds): string | undefined {
  const { remoteAddress, remotePort, localAddress, localPort } = ends;
  if (remoteAddress === undefined || remotePort === undefined) return undefined;
  return `${remoteAddress}|${remotePort}|${localAddress ?? ''}|${localPort ?? ''}`;
}

/**
 * Asks a session to go away with `code` and `debug` data (RFC 9113 §6.8), then closes it: at once when no stream is
 * open, else when they end, and in any case destroys it after `graceMs` (a client that keeps streams open does not
 * keep the connection).
 */
export function goAwayAndClose(session: Http2Session, code: number, debug: string, lastStreamId = 0, graceMs = 1000): void {
  if (session.closed || session.destroyed) return;
  session.goaway(code, lastStreamId, Buffer.from(debug));
  session.close();
  setTimeout(() => {
    if (!session.destroyed) session.destroy();
  }, graceMs).unref();
}
