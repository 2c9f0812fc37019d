import type { PeerCertificate } from 'node:tls';
import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';

/**
 * Metadata key that carries the verified client-certificate identity from the transport to the auth middleware.
 * The interceptor deletes whatever a client sent under it before setting its own, so it cannot be forged.
 */
export const PEER_IDENTITY_HEADER = 'x-grpcforge-peer-identity';

/**
 * The identity of a client certificate: its first URI SAN (SPIFFE style, `spiffe://<trust-domain>/<workload>`),
 * else its subject CN; `undefined` when it has neither. `subject` may be missing: SPIFFE certificates often have an
 * empty one, and this runs on every TLS call, so it is not trusted to be there.
 */
export function certificateIdentity(
  certificate: Pick<PeerCertificate, 'subjectaltname'> & { readonly subject?: PeerCertificate['subject'] },
): string | undefined {
  const uri = certificate.subjectaltname
    ?.split(/,\s*/)
    .find((name) => name.startsWith('URI:'))
    ?.slice('URI:'.length);
  if (uri) return uri;
  const commonName = certificate.subject?.CN;
  return Array.isArray(commonName) ? commonName[0] : commonName || undefined;
}

/**
 * grpc-js server interceptor (nice-grpc's middleware cannot see the TLS session): removes any client-sent
 * {@link PEER_IDENTITY_HEADER}, then sets it from the client certificate the TLS handshake verified, if any.
 */
export function createPeerIdentityInterceptor(): ServerInterceptor {
  return (_methodDescriptor, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            metadata.remove(PEER_IDENTITY_HEADER);
            const certificate = call.getAuthContext().sslPeerCertificate;
            const identity = certificate && Object.keys(certificate).length > 0 ? certificateIdentity(certificate) : undefined;
            if (identity) metadata.set(PEER_IDENTITY_HEADER, identity);
            nextMetadata(metadata);
          },
        });
      },
    });
}
