import type { ChannelCredentials } from 'nice-grpc';
import { createTlsChannelCredentials } from '@grpcforge/runtime';

/** The TLS side of a dynamic call: PEM contents as read from `--ca`, `--cert`, `--key`, and `--servername`. */
export interface CallTlsOptions {
  /** CA certificate(s) of the server; `null` for the system roots. */
  readonly ca: Buffer | null;
  /** Client certificate and key, for mTLS; both or neither. */
  readonly cert: Buffer | null;
  readonly key: Buffer | null;
  /** The name to send (SNI) and to verify the server's certificate against, instead of the address's host. */
  readonly servername?: string;
}

/**
 * grpc-js channel options of a call: `grpc.ssl_target_name_override` with `servername`, so the handshake sends it
 * (SNI) and the certificate must be valid for it. Empty without one.
 */
export function callChannelOptions(options: { readonly servername?: string | undefined }): Record<string, string> {
  return options.servername ? { 'grpc.ssl_target_name_override': options.servername } : {};
}

/**
 * TLS channel credentials of a call, sending no SNI for an IP address (no DEP0123; see
 * {@link createTlsChannelCredentials}). With {@link CallTlsOptions.servername} (through {@link callChannelOptions}) the
 * name is sent and verified as given.
 */
export function callTlsCredentials(options: CallTlsOptions): ChannelCredentials {
  return createTlsChannelCredentials(options.ca, options.key, options.cert);
}

/**
 * One line saying what a failed connection most likely means, from the transport error text grpc-js puts into an
 * UNAVAILABLE status (OpenSSL and socket errors), or `undefined` when it is not one of the known cases.
 * @param address the `HOST:PORT` called.
 * @param call whether the call used TLS, and a client certificate.
 */
export function explainConnectionFailure(
  details: string,
  address: string,
  call: { readonly tls: boolean; readonly clientCert: boolean },
): string | undefined {
  const { tls } = call;
  const text = details.toLowerCase();
  if (/certificate required|alert number 116|peer did not return a certificate/.test(text)) {
    return 'the server requires a client certificate: pass --cert and --key';
  }
  if (/econnrefused/.test(text)) return `nothing is listening on ${address} (connection refused)`;
  if (/enotfound|eai_again/.test(text)) return `cannot resolve the host of ${address}`;
  if (tls && /wrong version number|packet length too long|unknown protocol|http_request|eproto(?!.*alert)/.test(text)) {
    return 'the server does not speak TLS: drop --tls (and --ca, --cert, --key)';
  }
  if (/altname|hostname\/ip does not match|err_tls_cert_altname_invalid/.test(text)) {
    return `the server's certificate is not valid for the host of ${address}: pass --servername with a name it has`;
  }
  if (/self[- ]signed|unable to (?:verify|get local issuer)|unknown ca|alert number 48|certificate has expired/.test(text)) {
    return /expired/.test(text)
      ? "the server's certificate has expired"
      : "the server's certificate is not signed by a trusted CA: pass the CA with --ca";
  }
  if (/bad certificate|alert number 42|unsupported certificate|alert number 43/.test(text)) {
    return 'the server refused the client certificate: check --cert and --key against its CA';
  }
  // TLS 1.3: the server checks the client certificate after the handshake, and then just closes the connection.
  if (tls && call.clientCert && /econnreset|socket hang up/.test(text)) {
    return 'the server closed the connection: it may not trust the client certificate (check --cert and --key)';
  }
  // A TLS server reading HTTP/2 in the clear drops the connection before any answer.
  if (!tls && /failed to connect|connection dropped|protocol error|econnreset|socket hang up|premature close/.test(text)) {
    return 'the server closed the connection: is this a TLS server? try --tls';
  }
  return undefined;
}
