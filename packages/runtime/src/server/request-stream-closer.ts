import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { constants as http2Constants } from 'node:http2';
import { observeHttp2Servers } from './grpc-js-patches.js';

/** What {@link createRequestStreamCloser} returns. */
export interface RequestStreamCloser {
  /** Tracks the HTTP/2 streams of the grpc-js server constructed with `grpcServerOptions` (call before `listen`). */
  observe(grpcServerOptions: object): void;
  /**
   * From now on, closes each tracked stream (`RST_STREAM` with `NO_ERROR`) `graceMs` after its response, status
   * included, was sent, also the streams that arrive later. Called when shutdown starts.
   * @param graceMs how long the client has to read the status before the reset, in ms.
   */
  closeAnswered(graceMs: number): void;
}

/**
 * Closes, at shutdown, the HTTP/2 streams of calls that were answered while their client still had its request stream
 * open. grpc-js sends the status (a client-streaming or bidi call ended with UNAVAILABLE by the terminator) and
 * leaves the stream half-open until the client ends its side; a client that ends it only when its own input ends
 * (`buf curl -d @-` reading a terminal) then holds its connection, and so the drain, until the drain's time is up,
 * and the forced stop reaches it as a reset ("internal: incomplete envelope", recorded as CANCELLED). RFC 9113
 * (section 8.1) lets a server that sent a complete response ask the client to stop sending with `RST_STREAM`
 * `NO_ERROR`, which keeps the response; grpc-go does so for every call. Not at once, though: Go's HTTP/2 client (buf
 * curl's, connect-go's) fails a stream reset before it read the trailers that came just before, so the status is lost
 * ("internal: stream error: NO_ERROR; received from peer"); the reset waits a grace time after the response. Only the
 * streams of `paths` (the methods with a request stream) are tracked: a unary or server-streaming client ends its
 * side with its one request.
 * @param paths method paths (`/pkg.Service/Method`) whose calls have a request stream; read when a stream arrives.
 */
export function createRequestStreamCloser(paths: ReadonlySet<string>): RequestStreamCloser {
  const open = new Set<ServerHttp2Stream>();
  let graceMs: number | undefined;

  const closeWhenAnswered = (stream: ServerHttp2Stream) => {
    // Unref'd: a stream still open when the process is done with everything else is not worth waiting for.
    const closeLater = () => setTimeout(() => close(stream), graceMs).unref();
    // 'finish' comes once the writable side ended: after the trailers (grpc-js sends them on 'wantTrailers'), or
    // after a trailers-only response. Closed earlier, the trailers would never be sent.
    if (stream.writableFinished) closeLater();
    else stream.once('finish', closeLater);
  };

  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const path = headers[':path'];
    if (typeof path !== 'string' || !paths.has(path)) return;
    if (graceMs !== undefined) {
      closeWhenAnswered(stream);
      return;
    }
    open.add(stream);
    stream.once('close', () => open.delete(stream));
  };

  return {
    observe(grpcServerOptions) {
      observeHttp2Servers(grpcServerOptions, { observe: (http2Server) => http2Server.on('stream', onStream) });
    },
    closeAnswered(grace) {
      if (graceMs !== undefined) return;
      graceMs = grace;
      for (const stream of open) closeWhenAnswered(stream);
      open.clear();
    },
  };
}

/** Ends a stream whose response was sent: the client stops sending, without error (see {@link createRequestStreamCloser}). */
function close(stream: ServerHttp2Stream): void {
  if (!stream.closed && !stream.destroyed) stream.close(http2Constants.NGHTTP2_NO_ERROR);
}
