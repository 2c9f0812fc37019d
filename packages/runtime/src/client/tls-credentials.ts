import { ChannelCredentials } from 'nice-grpc';
import { patchIpServername } from '../server/grpc-js-patches.js';

/**
 * TLS channel credentials that send no SNI for an IP address. grpc-js puts the target's host into `servername` even
 * when it is an IP (`127.0.0.1:50051`, `dns:///127.0.0.1:50051`), which SNI does not allow (RFC 6066 §3) and for
 * which Node warns (DEP0123); the certificate is still checked against the IP (Node verifies against `host` when
 * there is no `servername`). A name given with the channel option `grpc.ssl_target_name_override` is sent and
 * verified as given.
 * @param ca CA certificate(s) of the server; `null` for the system roots.
 * @param key client key for mTLS, with `cert`; both or neither.
 */
export function createTlsChannelCredentials(ca: Buffer | null, key: Buffer | null, cert: Buffer | null): ChannelCredentials {
  const credentials = ChannelCredentials.createSsl(ca, key, cert);
  // Without grpc-js's hook (another grpc-js) the credentials are used as they are: only Node's warning comes back.
  patchIpServername(credentials);
  return credentials;
}
