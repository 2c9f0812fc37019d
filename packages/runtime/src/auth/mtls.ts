import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { principalIdTooLong, unsafePrincipalCharacter } from './principal-text.js';

/**
 * Metadata key that carries the verified client certificate's SPIFFE ID (its one URI SAN) from the transport to the
 * auth middleware. The interceptor deletes whatever a client sent under it before setting its own, so it cannot be
 * forged.
 */
export const PEER_IDENTITY_HEADER = 'x-grpcforge-peer-identity';

/**
 * Metadata key that carries the subject CN of a verified client certificate that has no URI SAN (and passes every
 * other check of {@link certificateIdentity}). The auth middleware takes it as the identity only with
 * `mtls.allowCommonName`. Stripped from client metadata like {@link PEER_IDENTITY_HEADER}.
 */
export const PEER_COMMON_NAME_HEADER = 'x-grpcforge-peer-common-name';

/**
 * Metadata key that carries why a verified client certificate identifies nobody ({@link certificateIdentity}'s
 * `reason`), so that a refusal can tell the operator. Stripped from client metadata like {@link PEER_IDENTITY_HEADER}.
 */
export const PEER_IDENTITY_ERROR_HEADER = 'x-grpcforge-peer-identity-error';

/** The client-certificate fields {@link certificateIdentity} reads (a subset of `tls.PeerCertificate`). */
export type CertificateFacts = Pick<PeerCertificate, 'subjectaltname'> & {
  /** May be missing: SPIFFE certificates often have an empty subject. */
  readonly subject?: PeerCertificate['subject'];
  /** `true` for a CA certificate (basicConstraints cA, or keyCertSign), as OpenSSL's `X509_check_ca` says. */
  readonly ca?: boolean;
  /** DER of the certificate; read to decide `ca` when that field is absent. */
  readonly raw?: Buffer;
};

/**
 * What a client certificate identifies: a SPIFFE ID, a CN (usable only when CN identities are enabled), or nothing
 * and why (`reason`, for logs and tests; never sent to the caller).
 */
export type CertificateIdentity =
  | { readonly kind: 'spiffe'; readonly id: string }
  | { readonly kind: 'commonName'; readonly id: string }
  | { readonly kind: 'none'; readonly reason: string };

/**
 * The identity of a verified client certificate, validated as a leaf X.509-SVID (SPIFFE X.509-SVID spec §2 and §4.1;
 * SPIFFE ID spec §2):
 * - a CA certificate (basicConstraints `cA: TRUE` or keyCertSign) identifies nothing: a leaf must not be a CA;
 * - more than one URI SAN identifies nothing (never "the first one");
 * - exactly one URI SAN: it must be a SPIFFE ID, `spiffe://<trust-domain>/<path>` (lowercase trust domain of
 *   `a-z 0-9 . - _`, non-empty path of segments of `A-Z a-z 0-9 . - _`, no `.`/`..` segment, no query, fragment,
 *   port or user info), and it is the identity;
 * - no URI SAN: the subject CN, as `kind: 'commonName'` (the caller decides whether to accept it), unless the CN is
 *   missing, repeated, holds a control character (CR, LF, ANSI escapes), or claims the `spiffe:` namespace, which
 *   only a URI SAN may;
 * - an identity (SPIFFE ID or CN) longer than `MAX_PRINCIPAL_ID_LENGTH` (256) characters identifies nothing.
 * The subject is never consulted when there is a URI SAN.
 */
export function certificateIdentity(certificate: CertificateFacts): CertificateIdentity {
  const isCa = certificate.ca ?? (certificate.raw ? new X509Certificate(certificate.raw).ca : false);
  if (isCa) return { kind: 'none', reason: 'a CA certificate is not a leaf identity' };
  const names = subjectAltNames(certificate.subjectaltname ?? '');
  if (!names) return { kind: 'none', reason: 'unreadable subjectAltName' };
  const uris = names.filter((name) => name.type === 'URI');
  if (uris.length > 1) return { kind: 'none', reason: `${uris.length} URI SANs (an SVID has exactly one)` };
  if (uris.length === 1) {
    const uri = uris[0]!.value;
    if (!isSpiffeId(uri)) return { kind: 'none', reason: 'the URI SAN is not a SPIFFE ID' };
    const tooLong = principalIdTooLong(uri, 'the SPIFFE ID');
    return tooLong ? { kind: 'none', reason: tooLong } : { kind: 'spiffe', id: uri };
  }
  const commonName = certificate.subject?.CN;
  if (Array.isArray(commonName)) return { kind: 'none', reason: 'more than one subject CN' };
  if (!commonName) return { kind: 'none', reason: 'no URI SAN and no subject CN' };
  if (/^\s*spiffe:/i.test(commonName)) {
    return { kind: 'none', reason: 'a CN in the spiffe: namespace (only a URI SAN can carry a SPIFFE ID)' };
  }
  const unsafe = unsafePrincipalCharacter(commonName);
  if (unsafe) return { kind: 'none', reason: `a CN with the control character ${unsafe}` };
  const tooLong = principalIdTooLong(commonName, 'the CN');
  if (tooLong) return { kind: 'none', reason: tooLong };
  return { kind: 'commonName', id: commonName };
}

/** SPIFFE ID spec §2: scheme, trust domain, and a workload path (a leaf SVID does not name the bare trust domain). */
function isSpiffeId(uri: string): boolean {
  const match = /^spiffe:\/\/([a-z0-9._-]+)((?:\/[A-Za-z0-9._-]+)+)$/.exec(uri);
  if (!match || uri.length > 2048) return false;
  return match[2]!.split('/').every((segment, index) => index === 0 || (segment !== '.' && segment !== '..'));
}

/**
 * Node's `subjectaltname` string (`DNS:a, URI:spiffe://td/x`), where a value with special characters is written as
 * a JSON string (`URI:"a,b"`). `undefined` when the string does not follow that shape.
 */
function subjectAltNames(text: string): { type: string; value: string }[] | undefined {
  const names: { type: string; value: string }[] = [];
  const entry = /([A-Za-z][A-Za-z ]*):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;
  while (entry.lastIndex < text.length) {
    const match = entry.exec(text);
    if (!match) return undefined;
    let value = match[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        return undefined;
      }
    }
    names.push({ type: match[1]!, value });
  }
  return names;
}

/**
 * grpc-js server interceptor (nice-grpc's middleware cannot see the TLS session): removes any client-sent
 * {@link PEER_IDENTITY_HEADER}, {@link PEER_COMMON_NAME_HEADER} and {@link PEER_IDENTITY_ERROR_HEADER}, then sets one
 * of them from the client certificate the TLS handshake verified, as {@link certificateIdentity} reads it.
 */
export function createPeerIdentityInterceptor(): ServerInterceptor {
  return (_methodDescriptor, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            metadata.remove(PEER_IDENTITY_HEADER);
            metadata.remove(PEER_COMMON_NAME_HEADER);
            metadata.remove(PEER_IDENTITY_ERROR_HEADER);
            const certificate = call.getAuthContext().sslPeerCertificate;
            if (certificate && Object.keys(certificate).length > 0) {
              const identity = certificateIdentity(certificate);
              if (identity.kind === 'spiffe') metadata.set(PEER_IDENTITY_HEADER, identity.id);
              else if (identity.kind === 'commonName') metadata.set(PEER_COMMON_NAME_HEADER, identity.id);
              else metadata.set(PEER_IDENTITY_ERROR_HEADER, identity.reason);
            }
            nextMetadata(metadata);
          },
        });
      },
    });
}
