import type { ServerHttp2Stream } from 'node:http2';
import { constants as http2Constants } from 'node:http2';
import type { Status } from 'nice-grpc';

/**
 * Answers a stream grpc-js will not see with a gRPC status alone (a trailers-only response, gRPC's PROTOCOL-HTTP2.md),
 * `grpc-message` percent-encoded; `extra` headers go with it (for example `grpc-retry-pushback-ms`). A request body
 * that may follow is read and dropped. A stream that can no longer be answered is destroyed.
 */
export function answerTrailersOnly(
  stream: ServerHttp2Stream,
  code: Status,
  message: string,
  extra: Readonly<Record<string, string>> = {},
): void {
  try {
    stream.respond(
      {
        [http2Constants.HTTP2_HEADER_STATUS]: 200,
        [http2Constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
        'grpc-status': String(code),
        'grpc-message': encodeURI(message),
        ...extra,
      },
      { endStream: true },
    );
  } catch {
    stream.destroy();
  }
  stream.on('error', () => undefined);
  stream.resume();
}
